/**
 * CircleCI: `circleci-signature: v1=<hex>` of the body; other versions are
 * skipped, as CircleCI asks. No time is signed (`happened_at` is not checked).
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
