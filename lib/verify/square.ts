/**
 * Square: `x-square-hmacsha256-signature`, the base64 HMAC-SHA256 of the
 * notification URL followed by the raw body, under the subscription's
 * signature key. The URL is the one configured at Square (`PUBLIC_URL`,
 * with the request's query string), not the one hookd sees behind a
 * proxy. The event is the body's `type` (`payment.updated`), the delivery
 * id its `event_id`. The legacy SHA-1 `x-square-signature` is not read.
 * The signature covers the URL and the body: the replay key is the body.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
import { signedBytes } from "./_signatures.ts";
import { publicUrlSetting, rawQuery, readPublicUrl } from "./_public_url.ts";

/** The `square` provider. */
export const square: Provider = bodyHmacProvider({
  name: "square",
  summary:
    "Square: x-square-hmacsha256-signature (HMAC-SHA256, base64, of PUBLIC_URL + body), event type",
  header: "x-square-hmacsha256-signature",
  hash: "sha256",
  encoding: "base64",
  covers(endpoint) {
    const publicUrl = readPublicUrl(endpoint, "Square");
    return (url, body) => signedBytes(publicUrl, rawQuery(url), body);
  },
  settings: { PUBLIC_URL: publicUrlSetting("Square") },
  eventField: "type",
  deliveryField: "event_id",
});
