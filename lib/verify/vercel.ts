/**
 * Vercel: `x-vercel-signature`, the hex HMAC-SHA1 of the raw body under
 * the webhook's secret (an integration's client secret for integration
 * webhooks). SHA-1 is what Vercel sends; it offers nothing stronger. The
 * event is the body's `type` (`deployment.succeeded`), the delivery id its
 * `id`. Nothing signed carries a time, so a captured delivery replays.
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
