/**
 * SendGrid Event Webhook: ECDSA P-256 (base64 DER) over timestamp + body,
 * checked with `PUBLIC_KEY`. A one-event batch is deduped by its signed
 * `sg_event_id`; a larger one has the body as its replay key.
 *
 * @module
 */

import type { Accepted, Provider, Verdict, VerifyInput } from "./types.ts";
import { isRejected, parseJsonBody, readPath, unlessSignedId } from "./_payload.ts";
import { decodeSignature } from "./_hmac.ts";
import { derToP1363, publicKeyProvider } from "./_public_key.ts";

/** An SPKI key as senders hand it out: base64 DER, or the same inside PEM armour. */
function spkiBytes(value: string): Uint8Array | undefined {
  const bytes = decodeSignature(
    value.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, ""),
    "base64",
  );
  return bytes?.length ? bytes : undefined;
}

/** The batch's common event, or `batch`. */
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
  keyProblem: (value) =>
    spkiBytes(value)
      ? undefined
      : "is not a base64 public key: copy the verification key the sender shows",
  keyImport: {
    format: "spki",
    algorithm: { name: "ECDSA", namedCurve: "P-256" },
    bytes: (value) => spkiBytes(value)!,
  },
  invalidKey:
    "is not an ECDSA P-256 public key: copy the verification key the sender shows (base64)",
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
