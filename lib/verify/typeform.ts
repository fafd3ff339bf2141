/**
 * Typeform: HMAC-SHA256 of the raw body, base64, in `Typeform-Signature`
 * written `sha256=<base64>`. The event is the body's `event_type`
 * (`form_response`); the delivery id is the body's `event_id`.
 *
 * Replays: there is no signed timestamp, but the event and `event_id` are
 * in the signed body: a replay is a duplicate by its id (no replay key,
 * unless a body lacks `event_id`: then the body).
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
