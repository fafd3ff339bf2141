/**
 * DocuSign Connect: base64 HMAC-SHA256 of the body in `X-DocuSign-Signature-1`,
 * and `-2`, `-3`, … while several Connect keys are active: any one may verify.
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
