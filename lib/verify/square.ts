/**
 * Square: base64 HMAC-SHA256 of `PUBLIC_URL` + query + body (the URL set at
 * Square, not the one seen behind a proxy). The legacy SHA-1
 * `x-square-signature` is not read.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
import { signedBytes } from "./_hmac.ts";
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
