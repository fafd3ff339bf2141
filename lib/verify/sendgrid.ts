/**
 * SendGrid (Twilio) Event Webhook: an ECDSA P-256 / SHA-256 signature in
 * `X-Twilio-Email-Event-Webhook-Signature` (base64 DER) over
 * `<X-Twilio-Email-Event-Webhook-Timestamp><raw body>`, verified with the
 * verification key SendGrid shows (`PUBLIC_KEY`, base64 SPKI). There is no
 * shared secret. The body is a batch of events: the event is their common
 * `event` (`delivered`, `open`), or `batch` when they differ; the delivery
 * id is `sg_event_id` when the batch holds one event.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { isRejected, parseJsonBody, readPath, singleHeader, unauthorized } from "./_payload.ts";
import { decodeSignature, verifiedBy } from "./_hmac.ts";
import { signedBytes } from "./_signatures.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";
import {
  derToP1363,
  importEcdsaKeys,
  spkiKeyProblem,
  verifyWithPublicKeys,
} from "./_public_key.ts";

const SIGNATURE = "x-twilio-email-event-webhook-signature";
const TIMESTAMP = "x-twilio-email-event-webhook-timestamp";

/**
 * Verify a SendGrid Event Webhook delivery with already-imported keys.
 *
 * @param input the delivery
 * @param keys ECDSA P-256 public keys, current first
 * @param toleranceMs the replay window either way
 * @returns the verdict
 */
export async function verifySendgrid(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const header = singleHeader(input.headers, SIGNATURE);
  const timestamp = singleHeader(input.headers, TIMESTAMP);
  if (header === undefined) return unauthorized("missing X-Twilio-Email-Event-Webhook-Signature");
  if (timestamp === undefined) {
    return unauthorized("missing X-Twilio-Email-Event-Webhook-Timestamp");
  }
  if (header === null || timestamp === null) {
    return unauthorized("signature header sent more than once");
  }
  const seconds = parseSeconds(timestamp);
  if (Number.isNaN(seconds)) {
    return unauthorized("malformed X-Twilio-Email-Event-Webhook-Timestamp");
  }
  const der = decodeSignature(header, "base64");
  const signature = der && derToP1363(der, 32);
  if (!signature) return unauthorized("malformed X-Twilio-Email-Event-Webhook-Signature");
  const index = await verifyWithPublicKeys(
    keys,
    { name: "ECDSA", hash: "SHA-256" },
    signature,
    signedBytes(timestamp, input.body),
  );
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const events = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  const kinds = new Set(events.map((event) => readPath(event, "event") ?? "unknown"));
  return {
    ok: true,
    event: kinds.size === 1 ? [...kinds][0] : "batch",
    deliveryId: events.length === 1 ? readPath(events[0], "sg_event_id") : undefined,
    verifiedBy: verifiedBy(index),
    payload: input.body,
    contentType: "application/json",
  };
}

/** The `sendgrid` provider. */
export const sendgrid: Provider = {
  name: "sendgrid",
  summary: "SendGrid Event Webhook: ECDSA P-256 signature over timestamp+body with PUBLIC_KEY",
  secret: "none",
  settings: {
    PUBLIC_KEY: {
      help: "the Event Webhook verification key (base64), from Mail Settings > Event Webhook",
      required: true,
      validate: spkiKeyProblem,
    },
    PUBLIC_KEY_PREVIOUS: {
      help: "the previous verification key, accepted while SendGrid switches",
      validate: spkiKeyProblem,
    },
    TOLERANCE: TOLERANCE_SETTING,
  },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importEcdsaKeys(endpoint);
    return (input) => verifySendgrid(input, keys, toleranceMs);
  },
};
