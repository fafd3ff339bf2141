/**
 * Dropbox: hex HMAC-SHA256 of the body in `X-Dropbox-Signature`. Its unsigned
 * `GET ?challenge=` is echoed as `text/plain` with `nosniff`, as Dropbox's
 * guide advises: it proves only that hookd answers here.
 *
 * @module
 */

import type { HandshakeInput, HandshakeReply, Provider, Rejected } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
import { echoChallenge, queryOf } from "./_handshake.ts";

/** The challenge for a GET (400 without one); anything else is a delivery. */
function dropboxHandshake(
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
