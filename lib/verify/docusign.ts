/**
 * DocuSign Connect (HMAC): `X-DocuSign-Signature-1` is the base64
 * HMAC-SHA256 of the raw body under a Connect HMAC key; with several keys
 * active DocuSign adds `X-DocuSign-Signature-2`, `-3`, … one per key, and
 * any one verifying with the current or previous secret is enough. The
 * event is the JSON body's `event` (`envelope-completed`). DocuSign signs
 * no time and sends no delivery id, so the replay key is the body.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `docusign` provider. */
export const docusign: Provider = bodyHmacProvider({
  name: "docusign",
  summary:
    "DocuSign Connect: X-DocuSign-Signature-1…N (HMAC-SHA256, base64, of the body), event from the JSON",
  header: "X-DocuSign-Signature",
  numbered: true,
  hash: "sha256",
  encoding: "base64",
  eventField: "event",
});
