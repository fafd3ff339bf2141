/**
 * PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>,…` of the body, the secret as
 * written; several entries come while PagerDuty rotates it. No signed time.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { pairHeaderProvider } from "./_pair_header.ts";

/** The `pagerduty` provider. */
export const pagerduty: Provider = pairHeaderProvider({
  name: "pagerduty",
  summary: "PagerDuty v3: X-PagerDuty-Signature v1=<hex>,… (HMAC-SHA256 of the body), event_type",
  header: "X-PagerDuty-Signature",
  separator: ",",
  signature: "v1",
  event: "event.event_type",
  deliveryId: "event.id",
});
