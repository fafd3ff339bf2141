/**
 * Paddle Billing: `Paddle-Signature: ts=…;h1=…`, the secret used as written
 * (`pdl_ntfset_…`).
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
