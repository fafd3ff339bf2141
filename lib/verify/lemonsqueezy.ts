/**
 * Lemon Squeezy: `X-Signature`, the hex HMAC-SHA256 of the raw body under
 * the webhook's signing secret. The event is the body's
 * `meta.event_name` (`order_created`), which is signed; the unsigned
 * `X-Event-Name` header is not read. Lemon Squeezy sends no delivery id
 * and signs no time.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `lemonsqueezy` provider. */
export const lemonsqueezy: Provider = bodyHmacProvider({
  name: "lemonsqueezy",
  summary: "Lemon Squeezy: X-Signature (HMAC-SHA256, hex, of the body), event meta.event_name",
  header: "X-Signature",
  hash: "sha256",
  encoding: "hex",
  eventField: "meta.event_name",
});
