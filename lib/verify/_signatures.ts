/**
 * Signature lists (`k=v` or `v1,<sig>` entries) where entries of other
 * versions are skipped and several of the known one are allowed (a sender
 * rotating its secret signs with both), up to {@linkcode MAX_SIGNATURES}. The
 * expected MAC is computed once per key, so a long list costs comparisons,
 * never MACs over the body.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import type { Rejected } from "./types.ts";
import { decodeSignature, signHmac } from "./_hmac.ts";
import { unauthorized } from "./_payload.ts";

/**
 * The most signatures of the known version a header may list. Senders list
 * one, or two while rotating a secret; more is refused before any MAC.
 */
export const MAX_SIGNATURES = 8;

const encoder = new TextEncoder();

/**
 * Join text and bytes into the exact bytes a sender signs, e.g.
 * `t.` + body for Stripe; text is UTF-8.
 *
 * @param parts the pieces, in order
 * @returns one byte array
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signedBytes } from "./_signatures.ts";
 * const bytes = signedBytes("v0:", "1", ":", new Uint8Array([0x7b]));
 * assert.equal(new TextDecoder().decode(bytes), "v0:1:{");
 * ```
 */
export function signedBytes(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) => typeof part === "string" ? encoder.encode(part) : part);
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** One `key=value` entry of a signature header. */
export interface Pair {
  /** The name before the first `=`, e.g. `t` or `v1`. */
  key: string;
  /** Everything after the first `=`. */
  value: string;
}

/**
 * Split a header into `key=value` entries.
 *
 * @param text the header value
 * @param separator `,` or `;`
 * @returns the entries, or `undefined` when one has no `=` (not this
 *   sender's format at all)
 */
export function parsePairs(text: string, separator: string): Pair[] | undefined {
  const pairs: Pair[] = [];
  for (const item of text.split(separator)) {
    const entry = item.trim();
    const at = entry.indexOf("=");
    if (at <= 0) return undefined;
    pairs.push({ key: entry.slice(0, at), value: entry.slice(at + 1) });
  }
  return pairs;
}

/**
 * The one value of a key that must appear exactly once (a timestamp).
 *
 * @param pairs the header's entries
 * @param key the key, e.g. `t`
 * @returns the value, or `undefined` when absent or repeated
 */
export function onlyValue(pairs: readonly Pair[], key: string): string | undefined {
  const found = pairs.filter((pair) => pair.key === key);
  return found.length === 1 ? found[0].value : undefined;
}

/**
 * Decode every entry of the known version, skipping entries that are not
 * well-formed (a sender may add versions or placeholders; what matters is
 * whether one good entry verifies).
 *
 * @param values the encoded signatures of that version
 * @param encoding `hex` or `base64`
 * @param length the MAC length in bytes
 * @returns the decoded signatures
 */
export function decodeAll(
  values: readonly string[],
  encoding: "hex" | "base64",
  length: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const value of values) {
    const bytes = decodeSignature(value, encoding);
    if (bytes?.length === length) out.push(bytes);
  }
  return out;
}

/**
 * Refuse a list of more than {@linkcode MAX_SIGNATURES} signatures of the
 * known version, counted as sent (well-formed or not), before any MAC.
 *
 * @param count how many entries of the known version the header lists
 * @returns a 401 `too many signatures` verdict, or `undefined`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tooManySignatures } from "./_signatures.ts";
 * assert.equal(tooManySignatures(2), undefined);
 * assert.equal(tooManySignatures(9)?.reason, "too many signatures");
 * ```
 */
export function tooManySignatures(count: number): Rejected | undefined {
  return count > MAX_SIGNATURES ? unauthorized("too many signatures") : undefined;
}

/**
 * Check several candidate signatures against each key: the expected MAC is
 * computed once per key (the next key only when none matched) and every
 * candidate compared to it in constant time.
 *
 * @param keys HMAC keys, current secret first
 * @param candidates the signatures the sender sent, at most
 *   {@linkcode MAX_SIGNATURES} (see {@linkcode tooManySignatures})
 * @param data the signed bytes
 * @returns the index of the key that verifies one of them, or -1; the
 *   current secret wins when both would
 * @throws {RangeError} when given more than {@linkcode MAX_SIGNATURES}
 *   candidates: a caller forgot to refuse the list
 */
export async function verifyAnyHmac(
  keys: readonly CryptoKey[],
  candidates: readonly Uint8Array[],
  data: Uint8Array,
): Promise<number> {
  if (candidates.length > MAX_SIGNATURES) {
    throw new RangeError(`${candidates.length} signatures: refuse more than ${MAX_SIGNATURES}`);
  }
  if (candidates.length === 0) return -1;
  for (const [index, key] of keys.entries()) {
    const expected = await signHmac(key, data);
    // Every candidate is compared, so the time taken does not say which matched.
    let found = false;
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        found = true;
      }
    }
    if (found) return index;
  }
  return -1;
}
