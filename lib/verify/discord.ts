/**
 * Discord: Ed25519 (`X-Signature-Ed25519`, hex) of timestamp + body under the
 * application's `PUBLIC_KEY`; PINGs are answered here. Discord probes endpoints
 * with bad signatures and drops those answering anything but 401, so every
 * refusal is a 401.
 *
 * @module
 */

import type { Accepted, Provider, Rejected, Verdict, VerifyInput } from "./types.ts";
import { parseJsonBody, readPath, unlessSignedId } from "./_payload.ts";
import { decodeAll } from "./_hmac.ts";
import { publicKeyProvider } from "./_public_key.ts";

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

function discordVerdict(input: VerifyInput, by: Accepted["verifiedBy"]): Verdict {
  const parsed = parseJsonBody(input.body);
  if ("ok" in parsed) return refused(parsed.reason);
  const value = parsed.value;
  const type = readPath(value, "type");
  const base = {
    verifiedBy: by,
    replayKey: input.body,
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
    const deliveryId = readPath(value, "id");
    return {
      ...base,
      ok: true,
      event: "PING",
      deliveryId,
      replayKey: unlessSignedId(deliveryId, input.body),
      reply: { status: 200, body: { type: 1 } },
    };
  }
  const event = type === undefined ? undefined : INTERACTIONS[type];
  if (!event) return refused("unknown interaction type");
  const deliveryId = readPath(value, "id");
  return {
    ...base,
    ok: true,
    event,
    deliveryId,
    replayKey: unlessSignedId(deliveryId, input.body),
  };
}

/** The `discord` provider. */
export const discord: Provider = publicKeyProvider({
  name: "discord",
  summary:
    "Discord: X-Signature-Ed25519 over timestamp+body with the app's PUBLIC_KEY, answers PING",
  keyHelp: "the application's Public Key (64 hex characters, General Information page)",
  previousKeyHelp: "a previous public key, accepted while switching applications",
  keyProblem: (value) =>
    /^[0-9a-fA-F]{64}$/.test(value.trim())
      ? undefined
      : "is not an Ed25519 public key: copy the 64 hex characters of the application's Public Key",
  keyImport: {
    format: "raw",
    algorithm: { name: "Ed25519" },
    bytes: (value) => Uint8Array.fromHex(value.trim()),
  },
  invalidKey: "is not a valid Ed25519 public key: copy it again",
  signatureHeader: "X-Signature-Ed25519",
  timestampHeader: "X-Signature-Timestamp",
  algorithm: { name: "Ed25519" },
  decode(text) {
    return decodeAll([text], "hex", 64)[0];
  },
  verdict: discordVerdict,
});
