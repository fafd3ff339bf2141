/**
 * Signature lists as the timestamped senders write them: `k=v` pairs split
 * by a comma (Stripe, PagerDuty), a semicolon (Paddle) or a space (Standard
 * Webhooks), where entries of an unknown version are skipped and several
 * entries of the known one are allowed (a sender rotating its secret signs
 * with both).
 *
 * @module
 */

import { decodeSignature, verifyHmac } from "./_hmac.ts";

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
 * import { signedBytes } from "./_signatures.ts";
 * const bytes = signedBytes("v0:", "1", ":", new Uint8Array([0x7b]));
 * console.assert(new TextDecoder().decode(bytes) === "v0:1:{");
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
 * Check several candidate signatures against each key.
 *
 * @param keys HMAC keys, current secret first
 * @param candidates the signatures the sender sent
 * @param data the signed bytes
 * @returns the index of the key that verifies one of them, or -1; the
 *   current secret wins when both would
 */
export async function verifyAnyHmac(
  keys: readonly CryptoKey[],
  candidates: readonly Uint8Array[],
  data: Uint8Array,
): Promise<number> {
  for (const [index, key] of keys.entries()) {
    for (const candidate of candidates) {
      if (await verifyHmac([key], candidate, data) === 0) return index;
    }
  }
  return -1;
}
