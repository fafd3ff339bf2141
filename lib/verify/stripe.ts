/**
 * Stripe: `Stripe-Signature: t=…,v1=…`, the secret used as written (`whsec_`
 * included: it is not base64 here).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { pairHeaderProvider } from "./_pair_header.ts";

/** The `stripe` provider. */
export const stripe: Provider = pairHeaderProvider({
  name: "stripe",
  summary:
    "Stripe: Stripe-Signature t=…,v1=… (HMAC-SHA256 of t.body, secret as written), event type",
  header: "Stripe-Signature",
  separator: ",",
  timestamp: { key: "t", joiner: "." },
  signature: "v1",
  event: "type",
  deliveryId: "id",
  signContentType: "application/json; charset=utf-8",
});
