/**
 * Typeform: `Typeform-Signature: sha256=<base64>` of the body. No signed time,
 * but `event_id` is in the signed body, so a replay is a duplicate by it.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `typeform` provider. */
export const typeform: Provider = bodyHmacProvider({
  name: "typeform",
  summary: "Typeform: Typeform-Signature (sha256=<base64> of the body), event from event_type",
  header: "Typeform-Signature",
  hash: "sha256",
  encoding: "base64",
  prefix: "sha256=",
  eventField: "event_type",
  deliveryField: "event_id",
  signedIdStopsReplays: true,
});
