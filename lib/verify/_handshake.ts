/**
 * Handshakes (Meta, Dropbox, Microsoft Graph): a challenge from the query,
 * echoed unauthenticated by each sender's design, so it is capped in length and
 * sent as `text/plain` with `nosniff`, never as something a browser renders.
 *
 * @module
 */

import type { HandshakeReply, Rejected } from "./types.ts";
import { malformed } from "./_payload.ts";

/** The longest challenge echoed; senders' challenges are far shorter. */
export const MAX_CHALLENGE = 2048;

/** The decoded query parameters of a request URL (none when it does not parse). */
export function queryOf(url: string): URLSearchParams {
  try {
    return new URL(url).searchParams;
  } catch {
    return new URLSearchParams();
  }
}

/**
 * Echo a challenge as the sender expects it: 200, the text alone.
 *
 * @param event what the log records instead of the challenge
 * @param name the parameter's name, for the refusal
 * @returns the reply, or a 400 when the challenge is empty or too long
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { echoChallenge } from "./_handshake.ts";
 * const reply = echoChallenge("1158201444", "subscribe", "hub.challenge");
 * assert.ok(reply.ok && reply.body === "1158201444");
 * ```
 */
export function echoChallenge(
  challenge: string | null,
  event: string,
  name: string,
): HandshakeReply | Rejected {
  if (!challenge) return malformed(`missing ${name}`);
  if (challenge.length > MAX_CHALLENGE) return malformed(`${name} is too long`);
  return {
    ok: true,
    status: 200,
    body: challenge,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
    },
    event,
  };
}
