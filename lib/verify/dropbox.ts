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

import type { HandshakeInput, HandshakeReply, Provider, Rejected } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
import { echoChallenge, queryOf } from "./_handshake.ts";

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

/** The `dropbox` provider. */
export const dropbox: Provider = bodyHmacProvider({
  name: "dropbox",
  summary: "Dropbox: X-Dropbox-Signature (HMAC-SHA256 hex of the body); echoes the GET challenge",
  header: "X-Dropbox-Signature",
  hash: "sha256",
  eventField: (body) =>
    typeof body === "object" && body !== null && Object.hasOwn(body, "list_folder")
      ? "list_folder"
      : "notification",
  handshake: () => dropboxHandshake,
});
