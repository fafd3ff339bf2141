/**
 * HMAC keys, imported once per endpoint, and the encodings senders write.
 *
 * @module
 */

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

const encoder = new TextEncoder();

/**
 * Import each secret (UTF-8 text, or raw bytes) as an HMAC key.
 *
 * @param secrets the current secret first, then the previous one
 * @param hash the hash name
 * @returns the keys, in the same order
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

/**
 * Check a signature against each key in turn.
 *
 * @param keys the keys from {@linkcode importHmacKeys}
 * @param signature the signature bytes the sender sent
 * @param data the signed bytes
 * @returns the index of the key that verifies it, or -1
 */
export async function verifyHmac(
  keys: readonly CryptoKey[],
  signature: Uint8Array,
  data: Uint8Array,
): Promise<number> {
  for (const [index, key] of keys.entries()) {
    if (
      await crypto.subtle.verify(
        "HMAC",
        key,
        signature as Uint8Array<ArrayBuffer>,
        data as Uint8Array<ArrayBuffer>,
      )
    ) return index;
  }
  return -1;
}

/**
 * Sign data with a key; for `hookd sign` and tests, never for comparing.
 *
 * @param key an HMAC key
 * @param data the bytes to sign
 * @returns the MAC
 */
export async function signHmac(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", key, data as Uint8Array<ArrayBuffer>),
  );
}

/**
 * Decode a signature strictly; anything malformed gives `undefined`.
 *
 * @param text the encoded signature
 * @param encoding `hex` or `base64`
 * @returns the bytes, or `undefined`
 */
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
 * Encode a MAC the way a sender writes it.
 *
 * @param bytes the MAC
 * @param encoding `hex` or `base64`
 * @returns the text
 */
export function encodeSignature(bytes: Uint8Array, encoding: "hex" | "base64"): string {
  return encoding === "hex" ? bytes.toHex() : bytes.toBase64();
}

/** A verdict's `verifiedBy` for the index {@linkcode verifyHmac} returns. */
export function verifiedBy(index: number): "secret" | "previous secret" {
  return index === 0 ? "secret" : "previous secret";
}
