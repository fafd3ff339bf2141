/**
 * Dropbox: notifications carry `X-Dropbox-Signature`, the hex HMAC-SHA256
 * of the raw body under the app secret. Dropbox first verifies the
 * endpoint with `GET ?challenge=…`, which must be echoed as is; Dropbox
 * signs nothing on that request, so the echo proves only that hookd
 * answers at this URL, and is sent as `text/plain` with `nosniff` (as
 * Dropbox's own guide advises). A notification names accounts, not
 * changes: the event is `list_folder` when the body carries that list,
 * else `notification`.
 *
 * @module
 */

import type {
  HandshakeInput,
  HandshakeReply,
  Provider,
  Rejected,
  Verdict,
  VerifyInput,
} from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { acceptedBody, isRejected, parseJsonBody } from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";
import { signEncoded } from "./_hub.ts";
import { echoChallenge, queryOf, withHandshake } from "./_handshake.ts";

/**
 * Answer Dropbox's verification request.
 *
 * @param input the request
 * @returns the challenge for a GET (400 without one); `undefined` otherwise
 */
export function dropboxHandshake(
  input: HandshakeInput,
): Promise<HandshakeReply | Rejected | undefined> {
  if (input.method !== "GET") return Promise.resolve(undefined);
  return Promise.resolve(
    echoChallenge(queryOf(input.url).get("challenge"), "challenge", "challenge"),
  );
}

/**
 * Verify a Dropbox notification.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys of the app secret, current first
 * @returns the verdict; no delivery id (Dropbox sends none)
 */
export async function verifyDropbox(
  input: VerifyInput,
  keys: readonly CryptoKey[],
): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "X-Dropbox-Signature",
    hash: "sha256",
    encoding: "hex",
  });
  if ("ok" in checked) return checked;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const value = parsed.value;
  const event = typeof value === "object" && value !== null && Object.hasOwn(value, "list_folder")
    ? "list_folder"
    : "notification";
  // The signature covers the body (and the URL or a timestamp), never the event header: body
  // dedupe stops replays.
  return acceptedBody(input, {
    parsed,
    event,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
}

/** The `dropbox` provider. */
export const dropbox: Provider = {
  name: "dropbox",
  summary: "Dropbox: X-Dropbox-Signature (HMAC-SHA256 hex of the body); echoes the GET challenge",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return withHandshake((input) => verifyDropbox(input, keys), dropboxHandshake);
  },
  async sign(endpoint, body) {
    return {
      "Content-Type": "application/json",
      "X-Dropbox-Signature": await signEncoded(endpoint.secrets[0], "sha256", body, "hex"),
    };
  },
};
