/**
 * Mux: `Mux-Signature: t=…,v1=…` (HMAC-SHA256 of `<t>.<body>`).
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
