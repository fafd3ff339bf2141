/**
 * Public-key senders (Discord's Ed25519, SendGrid's ECDSA P-256), declared as a
 * {@linkcode PublicKeyScheme}: keys come from `PUBLIC_KEY` (and
 * `PUBLIC_KEY_PREVIOUS` while the sender replaces it), and the signature covers
 * `<timestamp><body>`.
 *
 * @module
 */

import type { EndpointSettings, Provider, Verdict, VerifyInput } from "./types.ts";
import { signedBytes, verifiedBy } from "./_hmac.ts";
import { isRejected, requiredHeaders, unauthorized } from "./_payload.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

/**
 * Convert an ECDSA signature from DER (`SEQUENCE { INTEGER r, INTEGER s }`,
 * what OpenSSL, Java and SendGrid write) to the fixed-width `r || s` that
 * WebCrypto verifies (IEEE P1363).
 *
 * @param size the byte length of each integer (32 for P-256)
 * @returns the raw signature, or `undefined` when the DER is not strictly
 *   such a sequence
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { derToP1363 } from "./_public_key.ts";
 * const der = new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]);
 * assert.equal(derToP1363(der, 2)?.join(), "0,1,0,2");
 * ```
 */
export function derToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  // Lengths above 127 bytes never occur for the curves senders use.
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined;
  const out = new Uint8Array(size * 2);
  let offset = 2;
  for (const slot of [0, 1]) {
    if (der[offset] !== 0x02) return undefined;
    const length = der[offset + 1];
    const start = offset + 2;
    const end = start + length;
    if (length === 0 || length > size + 1 || end > der.length) return undefined;
    let value = der.subarray(start, end);
    // DER integers are signed: a leading zero keeps a high bit from reading as negative.
    if (value[0] === 0x00 && value.length > 1) {
      if (value[1] < 0x80) return undefined;
      value = value.subarray(1);
    } else if (value[0] >= 0x80) {
      return undefined;
    }
    if (value.length > size) return undefined;
    out.set(value, slot * size + size - value.length);
    offset = end;
  }
  return offset === der.length ? out : undefined;
}

/** One public-key sender: its key format, its headers and its verdict. */
export interface PublicKeyScheme {
  name: string;
  /** One line for `hookd help`. */
  summary: string;
  /** What `PUBLIC_KEY` is and where the admin finds it. */
  keyHelp: string;
  /** What `PUBLIC_KEY_PREVIOUS` is for. */
  previousKeyHelp: string;
  /** A key setting's problem, checked by the config parser and again on import. */
  keyProblem(value: string): string | undefined;
  /** How WebCrypto imports a key setting that has no problem. */
  keyImport: {
    format: "raw" | "spki";
    algorithm: AlgorithmIdentifier | EcKeyImportParams;
    bytes(value: string): Uint8Array;
  };
  /** The refusal, after the variable's name, of a key WebCrypto will not import. */
  invalidKey: string;
  /** The signature header as reasons write it. */
  signatureHeader: string;
  /** The timestamp header as reasons write it. */
  timestampHeader: string;
  /** One reason for either header sent twice, instead of naming it. */
  repeated?: string;
  /** The WebCrypto verify parameters. */
  algorithm: AlgorithmIdentifier | EcdsaParams;
  /** The raw signature from the header's value, or `undefined` when malformed. */
  decode(text: string): Uint8Array | undefined;
  /** The verdict on a delivery whose signature and timestamp hold. */
  verdict(input: VerifyInput, by: "secret" | "previous secret"): Verdict;
}

/** `PUBLIC_KEY`, then `PUBLIC_KEY_PREVIOUS` when set. */
async function importPublicKeys(
  endpoint: EndpointSettings,
  scheme: PublicKeyScheme,
): Promise<CryptoKey[]> {
  const keys: CryptoKey[] = [];
  for (const suffix of ["PUBLIC_KEY", "PUBLIC_KEY_PREVIOUS"]) {
    const value = endpoint.settings[suffix];
    if (!value) continue;
    const problem = scheme.keyProblem(value);
    if (problem) throw new Error(`${endpoint.prefix}${suffix} ${problem}`);
    const { format, algorithm, bytes } = scheme.keyImport;
    try {
      const raw = bytes(value) as Uint8Array<ArrayBuffer>;
      keys.push(await crypto.subtle.importKey(format, raw, algorithm, false, ["verify"]));
    } catch {
      throw new Error(`${endpoint.prefix}${suffix} ${scheme.invalidKey}`);
    }
  }
  return keys;
}

/** The index of the key that verifies the signature, or -1 (also when WebCrypto refuses it). */
async function verifyWithPublicKeys(
  keys: readonly CryptoKey[],
  algorithm: AlgorithmIdentifier | EcdsaParams,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<number> {
  for (const [index, key] of keys.entries()) {
    try {
      if (
        await crypto.subtle.verify(
          algorithm,
          key,
          signature as Uint8Array<ArrayBuffer>,
          data as Uint8Array<ArrayBuffer>,
        )
      ) return index;
    } catch {
      // A malformed signature is a failed one.
    }
  }
  return -1;
}

/** Every refusal before the verdict is a 401. */
async function verifyPublicKey(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
  scheme: PublicKeyScheme,
): Promise<Verdict> {
  const names = [scheme.signatureHeader, scheme.timestampHeader];
  const values = requiredHeaders(input.headers, names, { repeated: scheme.repeated });
  if (isRejected(values)) return values;
  const timestamp = values[scheme.timestampHeader];
  const seconds = parseSeconds(timestamp);
  if (Number.isNaN(seconds)) return unauthorized(`malformed ${scheme.timestampHeader}`);
  const signature = scheme.decode(values[scheme.signatureHeader]);
  if (!signature) return unauthorized(`malformed ${scheme.signatureHeader}`);
  const data = signedBytes(timestamp, input.body);
  const index = await verifyWithPublicKeys(keys, scheme.algorithm, signature, data);
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;
  return scheme.verdict(input, verifiedBy(index));
}

/**
 * The provider for a public-key sender: no secret, `PUBLIC_KEY` (required),
 * `PUBLIC_KEY_PREVIOUS` and `TOLERANCE`; nothing to sign with.
 */
export function publicKeyProvider(scheme: PublicKeyScheme): Provider {
  return {
    name: scheme.name,
    summary: scheme.summary,
    secret: "none",
    settings: {
      PUBLIC_KEY: { help: scheme.keyHelp, required: true, validate: scheme.keyProblem },
      PUBLIC_KEY_PREVIOUS: { help: scheme.previousKeyHelp, validate: scheme.keyProblem },
      TOLERANCE: TOLERANCE_SETTING,
    },
    async create(endpoint) {
      const toleranceMs = toleranceOf(endpoint);
      const keys = await importPublicKeys(endpoint, scheme);
      return (input) => verifyPublicKey(input, keys, toleranceMs, scheme);
    },
  };
}
