/**
 * HMAC for every sender: keys imported once per endpoint, signatures
 * decoded strictly, and one comparison: the expected MAC is computed once
 * per key and each signature sent compared to it in constant time, so a
 * list of up to {@linkcode MAX_SIGNATURES} (a sender rotating its secret
 * signs with both) costs comparisons, never more MACs over the body.
 *
 * @module
 */

import type { Rejected } from "./types.ts";
import { unauthorized } from "./_payload.ts";

/** The HMAC hashes senders use, by the name the env file writes. */
export const HASHES = {
  sha1: "SHA-1",
  sha256: "SHA-256",
  sha512: "SHA-512",
} as const;

/** A hash name as written in the env file. */
export type HashName = keyof typeof HASHES;

/** Each hash's MAC length in bytes, which a well-formed signature has. */
export const MAC_LENGTHS: Record<HashName, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** The most signatures of the known version a header may list: one, or two while rotating. */
export const MAX_SIGNATURES = 8;

const encoder = new TextEncoder();

/**
 * Import each secret (UTF-8 text, or raw bytes) as an HMAC key.
 *
 * @param secrets the current secret first, then the previous one
 */
export function importHmacKeys(
  secrets: readonly (string | Uint8Array)[],
  hash: HashName,
): Promise<CryptoKey[]> {
  return Promise.all(secrets.map((secret) =>
    crypto.subtle.importKey(
      "raw",
      typeof secret === "string" ? encoder.encode(secret) : secret as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: HASHES[hash] },
      false,
      ["sign", "verify"],
    )
  ));
}

/** The MAC of data under a key; compare only through {@linkcode verifyAnyHmac}. */
export async function signHmac(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", key, data as Uint8Array<ArrayBuffer>),
  );
}

/** Sign bytes with one secret and encode the MAC as the sender writes it; for `hookd sign`. */
export async function signEncoded(
  secret: string | Uint8Array,
  hash: HashName,
  data: Uint8Array,
  encoding: "hex" | "base64",
): Promise<string> {
  const [key] = await importHmacKeys([secret], hash);
  const mac = await signHmac(key, data);
  return encoding === "hex" ? mac.toHex() : mac.toBase64();
}

/** Decode a signature strictly; anything malformed gives `undefined`. */
export function decodeSignature(
  text: string,
  encoding: "hex" | "base64",
): Uint8Array | undefined {
  try {
    return encoding === "hex" ? Uint8Array.fromHex(text) : Uint8Array.fromBase64(text);
  } catch {
    return undefined;
  }
}

/**
 * Decode every signature of the known version, skipping malformed ones (a
 * sender may add placeholders; what matters is whether one good one verifies).
 *
 * @param length the MAC length in bytes
 */
export function decodeAll(
  values: readonly string[],
  encoding: "hex" | "base64",
  length: number,
): Uint8Array[] {
  return values.map((value) => decodeSignature(value, encoding))
    .filter((bytes): bytes is Uint8Array => bytes?.length === length);
}

/**
 * Refuse a list of more than {@linkcode MAX_SIGNATURES} signatures, counted
 * as sent (well-formed or not), before any MAC.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tooManySignatures } from "./_hmac.ts";
 * assert.equal(tooManySignatures(2), undefined);
 * assert.equal(tooManySignatures(9)?.reason, "too many signatures");
 * ```
 */
export function tooManySignatures(count: number): Rejected | undefined {
  return count > MAX_SIGNATURES ? unauthorized("too many signatures") : undefined;
}

/**
 * Whether two byte strings are equal, in time that depends on their length
 * only (no early exit at the first difference). Written here rather than
 * taken from node:crypto, whose import loads Node's crypto layer at start-up
 * (~1.7 MB of RSS) for this one loop.
 *
 * @param a one byte string
 * @param b the other
 * @returns true when both hold the same bytes
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
 * assert.equal(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
 * assert.equal(equalBytes(new Uint8Array([1]), new Uint8Array([1, 2])), false);
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/**
 * Check candidate signatures against each key, the next key only when none
 * matched, comparing every candidate so the time taken does not say which.
 *
 * @param keys HMAC keys, current secret first
 * @param candidates the signatures sent, at most {@linkcode MAX_SIGNATURES}
 * @returns the index of the key that verifies one of them, or -1
 * @throws {RangeError} when given more candidates: a caller forgot to refuse the list
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
    let found = false;
    for (const candidate of candidates) {
      if (equalBytes(candidate, expected)) {
        found = true;
      }
    }
    if (found) return index;
  }
  return -1;
}

/**
 * Join text (UTF-8) and bytes into the exact bytes a sender signs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signedBytes } from "./_hmac.ts";
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

/** A verdict's `verifiedBy` for a key index, 0 being the current secret. */
export function verifiedBy(index: number): "secret" | "previous secret" {
  return index === 0 ? "secret" : "previous secret";
}
