/**
 * SendGrid (Twilio) Event Webhook: an ECDSA P-256 / SHA-256 signature in
 * `X-Twilio-Email-Event-Webhook-Signature` (base64 DER) over
 * `<X-Twilio-Email-Event-Webhook-Timestamp><raw body>`, verified with the
 * verification key SendGrid shows (`PUBLIC_KEY`, base64 SPKI). There is no
 * shared secret. The body is a batch of events: the event is their common
 * `event` (`delivered`, `open`), or `batch` when they differ; the delivery
 * id is `sg_event_id` when the batch holds one event.
 *
 * Replays: the timestamp is signed, so a replay is stale after
 * `TOLERANCE`. Within it, a one-event batch is a duplicate by its signed
 * `sg_event_id` (no replay key); a larger batch has the body as its key.
 *
 * @module
 */

import type { Accepted, Provider, Verdict, VerifyInput } from "./types.ts";
import { isRejected, parseJsonBody, readPath, unlessSignedId } from "./_payload.ts";
import { decodeSignature } from "./_hmac.ts";
import { derToP1363, importEcdsaKeys, publicKeyProvider, spkiKeyProblem } from "./_public_key.ts";

/**
 * Name a verified SendGrid batch.
 *
 * @param input the delivery
 * @param by which key verified it
 * @returns the verdict: the batch's common event, or `batch`
 */
function sendgridVerdict(input: VerifyInput, by: Accepted["verifiedBy"]): Verdict {
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const events = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  const kinds = new Set(events.map((event) => readPath(event, "event") ?? "unknown"));
  const deliveryId = events.length === 1 ? readPath(events[0], "sg_event_id") : undefined;
  return {
    ok: true,
    event: kinds.size === 1 ? [...kinds][0] : "batch",
    deliveryId,
    verifiedBy: by,
    replayKey: unlessSignedId(deliveryId, input.body),
    payload: input.body,
    contentType: "application/json",
  };
}

/** The `sendgrid` provider. */
export const sendgrid: Provider = publicKeyProvider({
  name: "sendgrid",
  summary: "SendGrid Event Webhook: ECDSA P-256 signature over timestamp+body with PUBLIC_KEY",
  keyHelp: "the Event Webhook verification key (base64), from Mail Settings > Event Webhook",
  previousKeyHelp: "the previous verification key, accepted while SendGrid switches",
  keyProblem: spkiKeyProblem,
  importKeys: importEcdsaKeys,
  signatureHeader: "X-Twilio-Email-Event-Webhook-Signature",
  timestampHeader: "X-Twilio-Email-Event-Webhook-Timestamp",
  repeated: "signature header sent more than once",
  algorithm: { name: "ECDSA", hash: "SHA-256" },
  decode(text) {
    const der = decodeSignature(text, "base64");
    return der && derToP1363(der, 32);
  },
  verdict: sendgridVerdict,
});
