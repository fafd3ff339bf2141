/**
 * PagerDuty (v3 webhooks): `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`,
 * comma-separated, each an HMAC-SHA256 of the raw body under the
 * subscription's secret, used exactly as written. Several entries come
 * while PagerDuty rotates the secret; other versions are skipped. There is
 * no signed timestamp, so no replay window. Event is the body's
 * `event.event_type` (`incident.triggered`), delivery id `event.id`.
 *
 * Replays: no timestamp, but the event and `event.id` are in the signed
 * body, so a replay is a duplicate by its id: no replay key.
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
