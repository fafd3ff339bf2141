/**
 * Lemon Squeezy: hex HMAC-SHA256 of the body in `X-Signature`. The event is the
 * signed `meta.event_name`, never the unsigned `X-Event-Name` header.
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
