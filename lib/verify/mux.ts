/**
 * Mux: `Mux-Signature: t=<unix>,v1=<hex>`, each `v1` the HMAC-SHA256 of
 * `<t>.<raw body>` under the webhook signing secret as written; the time
 * is held to `TOLERANCE` (5 minutes, Mux's own default). The event is the
 * body's `type` (`video.asset.ready`), the delivery id its `id`.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { pairHeaderProvider } from "./_pair_header.ts";

/** The `mux` provider. */
export const mux: Provider = pairHeaderProvider({
  name: "mux",
  summary: "Mux: Mux-Signature t=…,v1=… (HMAC-SHA256 of t.body), event type",
  header: "Mux-Signature",
  separator: ",",
  timestamp: { key: "t", joiner: "." },
  signature: "v1",
  event: "type",
  deliveryId: "id",
});
