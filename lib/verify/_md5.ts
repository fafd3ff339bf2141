/**
 * HMAC-MD5, which WebCrypto does not offer: `node:crypto` computes it with
 * each secret held as a `KeyObject` made once at start-up, and
 * `timingSafeEqual` compares. MD5 is weak (HMAC-MD5 itself is not known to
 * be forgeable, but nothing should choose it today); hookd accepts it only
 * because some senders still sign with nothing else.
 *
 * @module
 */

import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";

/** The length of an HMAC-MD5, in bytes. */
export const MD5_LENGTH = 16;

const encoder = new TextEncoder();

/**
 * Hold each secret as a key object, once.
 *
 * @param secrets the current secret first, then the previous one
 * @returns the keys, in the same order
 */
export function importMd5Keys(secrets: readonly string[]): KeyObject[] {
  return secrets.map((secret) => createSecretKey(encoder.encode(secret)));
}

/**
 * Check an HMAC-MD5 against each key in turn, in constant time.
 *
 * @param keys the keys from {@linkcode importMd5Keys}
 * @param signature the signature bytes the sender sent
 * @param data the signed bytes
 * @returns the index of the key that verifies it, or -1
 */
export function verifyMd5(
  keys: readonly KeyObject[],
  signature: Uint8Array,
  data: Uint8Array,
): number {
  if (signature.length !== MD5_LENGTH) return -1;
  for (const [index, key] of keys.entries()) {
    const mac = createHmac("md5", key).update(data).digest();
    if (timingSafeEqual(mac, signature)) return index;
  }
  return -1;
}

/**
 * Sign data with one secret; for `hookd sign` and tests, never for comparing.
 *
 * @param secret the signing secret
 * @param data the bytes to sign
 * @returns the MAC
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signMd5 } from "./_md5.ts";
 * // RFC 2104's first test vector: key 0x0b × 16, "Hi There".
 * const mac = signMd5("\x0b".repeat(16), new TextEncoder().encode("Hi There"));
 * assert.equal(mac.toHex(), "9294727a3638bb1c13f48ef8158bfc9d");
 * ```
 */
export function signMd5(secret: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("md5", encoder.encode(secret)).update(data).digest());
}
