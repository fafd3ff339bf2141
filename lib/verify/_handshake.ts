/**
 * Handshakes (Meta, Dropbox, Microsoft Graph): a challenge from the query,
 * echoed unauthenticated by each sender's design, so it is capped in length and
 * sent as `text/plain` with `nosniff`, never as something a browser renders.
 *
 * @module
 */

import type { Handshake, HandshakeReply, Rejected, Verdict, Verify, VerifyInput } from "./types.ts";
import { malformed } from "./_payload.ts";

/** The longest challenge echoed; senders' challenges are far shorter. */
export const MAX_CHALLENGE = 2048;

/**
 * A verify function with the sender's handshake attached.
 *
 * @param verify checks a signed delivery
 * @param handshake answers the sender's handshake
 * @returns the verify function the endpoint serves
 */
export function withHandshake(
  verify: (input: VerifyInput) => Promise<Verdict>,
  handshake: Handshake,
): Verify {
  return Object.assign(verify, { handshake });
}

/**
 * The query parameters of a request URL.
 *
 * @param url the request URL as received
 * @returns its parameters, decoded (empty when the URL does not parse)
 */
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
 * @param challenge the challenge, as the query string carried it
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
