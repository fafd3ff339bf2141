/**
 * Meta (Facebook, Instagram, WhatsApp): `X-Hub-Signature-256` of the body
 * under the app secret. Meta's subscribe GET is echoed only when its
 * `hub.verify_token` matches `VERIFY_TOKEN`.
 *
 * @module
 */

import type { HandshakeInput, HandshakeReply, Provider, Rejected } from "./types.ts";
import { malformed, readPath } from "./_payload.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
import { echoChallenge, queryOf } from "./_handshake.ts";
import { matchToken, prepareTokenCheck, type TokenCheck } from "./token.ts";

/** The challenge; 400 for a GET that is no subscribe request, 403 for a wrong verify token. */
async function metaHandshake(
  input: HandshakeInput,
  check: TokenCheck,
): Promise<HandshakeReply | Rejected | undefined> {
  if (input.method !== "GET") return undefined;
  const query = queryOf(input.url);
  if (query.get("hub.mode") !== "subscribe") return malformed("hub.mode is not subscribe");
  const token = query.get("hub.verify_token");
  if (token === null || await matchToken(check, token) !== 0) {
    return { ok: false, status: 403, reason: "wrong hub.verify_token", outcome: "rejected.token" };
  }
  return echoChallenge(query.get("hub.challenge"), "subscribe", "hub.challenge");
}

/**
 * The event of a verified Meta body: `<object>.<field>` when every
 * `entry[].changes[]` names the same field, else `<object>` (Messenger's
 * `entry[].messaging[]`, or mixed fields); `undefined` without `object`.
 */
export function metaEvent(payload: unknown): string | undefined {
  const object = readPath(payload, "object");
  if (!object) return undefined;
  const entries = (payload as { entry?: unknown }).entry;
  const fields = new Set<unknown>();
  let changes = 0;
  if (Array.isArray(entries)) {
    for (const entry of entries) {
      const list = (entry as { changes?: unknown } | null)?.changes;
      if (!Array.isArray(list)) continue;
      for (const change of list) {
        changes++;
        fields.add(readPath(change, "field"));
      }
    }
  }
  const [field] = fields;
  return changes > 0 && fields.size === 1 && typeof field === "string"
    ? `${object}.${field}`
    : object;
}

/** The `meta` provider. */
export const meta: Provider = bodyHmacProvider({
  name: "meta",
  summary:
    "Meta (Facebook, Instagram, WhatsApp): X-Hub-Signature-256 with the app secret; answers the hub.challenge GET",
  header: "X-Hub-Signature-256",
  hash: ["sha256"],
  eventField: metaEvent,
  eventMissing: "payload has no object",
  settings: {
    VERIFY_TOKEN: {
      help:
        "the verify token typed into Meta's webhook settings, checked before hub.challenge is echoed",
      required: true,
      secret: true,
      validate: (value) => value.trim() === "" ? "is empty: set the verify token" : undefined,
    },
  },
  async handshake(endpoint) {
    const check = await prepareTokenCheck([endpoint.settings.VERIFY_TOKEN]);
    return (input) => metaHandshake(input, check);
  },
});
