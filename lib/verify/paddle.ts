/**
 * Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>…]`,
 * semicolon-separated, each `h1` an HMAC-SHA256 of `<ts>:<raw body>` under
 * the notification destination's secret key, used exactly as written
 * (`pdl_ntfset_…`). Entries that are not well-formed `h1` values are
 * skipped. Event is the body's `event_type` (`transaction.completed`),
 * delivery id its `event_id`.
 *
 * Replays: the timestamp and `event_id` are signed, so a replay is a
 * duplicate within `TOLERANCE` and stale after: no replay key.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { pairHeaderProvider } from "./_pair_header.ts";

/** The `paddle` provider. */
export const paddle: Provider = pairHeaderProvider({
  name: "paddle",
  summary: "Paddle Billing: Paddle-Signature ts=…;h1=… (HMAC-SHA256 of ts:body, secret as written)",
  header: "Paddle-Signature",
  separator: ";",
  timestamp: { key: "ts", joiner: ":" },
  signature: "h1",
  event: "event_type",
  deliveryId: "event_id",
});
