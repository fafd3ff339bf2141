/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, each `v1` an
 * HMAC-SHA256 of `<t>.<raw body>` under the endpoint's signing secret,
 * used exactly as written (the `whsec_` prefix included: it is not base64
 * here). Entries of other schemes (`v0`) are skipped; several `v1` entries
 * come while Stripe rolls the secret. Event is the body's `type`, delivery
 * id its `id`.
 *
 * Replays: the timestamp and the id are signed, so a replay is a duplicate
 * within `TOLERANCE` and stale after: no replay key.
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
