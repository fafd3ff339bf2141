/**
 * CircleCI outbound webhooks: `circleci-signature: v1=<hex>`, the
 * HMAC-SHA256 of the raw body under the webhook's secret token; the header
 * is a comma-separated list in which only `v1` entries are read (others
 * are skipped, as CircleCI asks). The event is the body's `type`
 * (`workflow-completed`, `job-completed`), the delivery id its `id`. No
 * time is signed (`happened_at` is in the body, but not checked).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { pairHeaderProvider } from "./_pair_header.ts";

/** The `circleci` provider. */
export const circleci: Provider = pairHeaderProvider({
  name: "circleci",
  summary: "CircleCI: circleci-signature v1=<hex> (HMAC-SHA256 of the body), event type",
  header: "circleci-signature",
  separator: ",",
  signature: "v1",
  event: "type",
  deliveryId: "id",
});
