/**
 * Discord (interactions endpoint and webhook events): an Ed25519 signature
 * in `X-Signature-Ed25519` (hex) over `<X-Signature-Timestamp><raw body>`,
 * verified with the application's public key (`PUBLIC_KEY`, hex). There is
 * no shared secret. Discord probes endpoints with bad signatures and drops
 * those answering anything but 401, so every refusal here is a 401.
 *
 * PINGs are answered here: an interaction PING (`type` 1) with
 * `{"type":1}`, a webhook-event PING (`type` 0) with an empty 204.
 * Interactions are named after their type (`application_command`,
 * `message_component`, `application_command_autocomplete`,
 * `modal_submit`), delivery id the interaction `id`; webhook events are
 * named by `event.type` (`APPLICATION_AUTHORIZED`).
 *
 * @module
 */

import type { Provider, Rejected, Verdict, VerifyInput } from "./types.ts";
import { verifiedBy } from "./_hmac.ts";
import { parseJsonBody, readPath, singleHeader, unauthorized } from "./_payload.ts";
import { decodeAll, signedBytes } from "./_signatures.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";
import { ed25519KeyProblem, importEd25519Keys, verifyWithPublicKeys } from "./_public_key.ts";

const INTERACTIONS: Record<string, string> = {
  "2": "application_command",
  "3": "message_component",
  "4": "application_command_autocomplete",
  "5": "modal_submit",
};

// Discord treats any status but 401 to a bad request as a broken endpoint.
function refused(reason: string): Rejected {
  return { ok: false, status: 401, reason, outcome: "rejected.malformed" };
}

/**
 * Verify a Discord request with already-imported public keys.
 *
 * @param input the delivery
 * @param keys Ed25519 public keys, current first
 * @param toleranceMs the replay window either way
 * @returns the verdict; every refusal is a 401, PINGs carry their reply
 */
export async function verifyDiscord(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const header = singleHeader(input.headers, "x-signature-ed25519");
  const timestamp = singleHeader(input.headers, "x-signature-timestamp");
  if (header === undefined) return unauthorized("missing X-Signature-Ed25519");
  if (timestamp === undefined) return unauthorized("missing X-Signature-Timestamp");
  if (header === null) return unauthorized("X-Signature-Ed25519 sent more than once");
  if (timestamp === null) return unauthorized("X-Signature-Timestamp sent more than once");
  const seconds = parseSeconds(timestamp);
  if (Number.isNaN(seconds)) return unauthorized("malformed X-Signature-Timestamp");
  const [signature] = decodeAll([header], "hex", 64);
  if (!signature) return unauthorized("malformed X-Signature-Ed25519");
  const index = await verifyWithPublicKeys(
    keys,
    { name: "Ed25519" },
    signature,
    signedBytes(timestamp, input.body),
  );
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;

  const parsed = parseJsonBody(input.body);
  if ("ok" in parsed) return refused(parsed.reason);
  const value = parsed.value;
  const type = readPath(value, "type");
  const base = {
    verifiedBy: verifiedBy(index),
    payload: input.body,
    contentType: "application/json",
  };
  if (readPath(value, "event.type") !== undefined || type === "0") {
    // A webhook event: { version, application_id, type: 0 | 1, event? }.
    if (type === "0") {
      return { ...base, ok: true, event: "PING", reply: { status: 204, body: null } };
    }
    return { ...base, ok: true, event: readPath(value, "event.type")! };
  }
  if (type === "1") {
    return {
      ...base,
      ok: true,
      event: "PING",
      deliveryId: readPath(value, "id"),
      reply: { status: 200, body: { type: 1 } },
    };
  }
  const event = type === undefined ? undefined : INTERACTIONS[type];
  if (!event) return refused("unknown interaction type");
  return { ...base, ok: true, event, deliveryId: readPath(value, "id") };
}

/** The `discord` provider. */
export const discord: Provider = {
  name: "discord",
  summary:
    "Discord: X-Signature-Ed25519 over timestamp+body with the app's PUBLIC_KEY, answers PING",
  secret: "none",
  settings: {
    PUBLIC_KEY: {
      help: "the application's Public Key (64 hex characters, General Information page)",
      required: true,
      validate: ed25519KeyProblem,
    },
    PUBLIC_KEY_PREVIOUS: {
      help: "a previous public key, accepted while switching applications",
      validate: ed25519KeyProblem,
    },
    TOLERANCE: TOLERANCE_SETTING,
  },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importEd25519Keys(endpoint);
    return (input) => verifyDiscord(input, keys, toleranceMs);
  },
};
