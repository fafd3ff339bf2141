/**
 * Vercel: hex HMAC-SHA1 of the body in `x-vercel-signature` (Vercel offers
 * nothing stronger).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `vercel` provider. */
export const vercel: Provider = bodyHmacProvider({
  name: "vercel",
  summary: "Vercel: x-vercel-signature (HMAC-SHA1, hex, of the body), event type",
  header: "x-vercel-signature",
  hash: "sha1",
  encoding: "hex",
  eventField: "type",
  deliveryField: "id",
});
