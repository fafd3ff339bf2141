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
 * @param der the DER bytes
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

/** The `PUBLIC_KEY` setting's value(s), current first. */
function publicKeyValues(endpoint: EndpointSettings): { variable: string; value: string }[] {
  return ["PUBLIC_KEY", "PUBLIC_KEY_PREVIOUS"]
    .filter((suffix) => endpoint.settings[suffix])
    .map((suffix) => ({
      variable: `${endpoint.prefix}${suffix}`,
      value: endpoint.settings[suffix],
    }));
}

/**
 * Whether a value is a 32-byte Ed25519 public key in hex.
 *
 * @param value the setting's value
 * @returns a problem, or `undefined`
 */
export function ed25519KeyProblem(value: string): string | undefined {
  return /^[0-9a-fA-F]{64}$/.test(value.trim())
    ? undefined
    : "is not an Ed25519 public key: copy the 64 hex characters of the application's Public Key";
}

/**
 * Import the endpoint's Ed25519 public keys (hex).
 *
 * @param endpoint the endpoint's settings (`PUBLIC_KEY`, `PUBLIC_KEY_PREVIOUS`)
 * @returns the keys, current first
 * @throws {Error} naming the variable whose key cannot be imported
 */
export async function importEd25519Keys(endpoint: EndpointSettings): Promise<CryptoKey[]> {
  const keys: CryptoKey[] = [];
  for (const { variable, value } of publicKeyValues(endpoint)) {
    const problem = ed25519KeyProblem(value);
    if (problem) throw new Error(`${variable} ${problem}`);
    try {
      keys.push(
        await crypto.subtle.importKey(
          "raw",
          Uint8Array.fromHex(value.trim()),
          { name: "Ed25519" },
          false,
          ["verify"],
        ),
      );
    } catch {
      throw new Error(`${variable} is not a valid Ed25519 public key: copy it again`);
    }
  }
  return keys;
}

/**
 * Read an SPKI public key as senders hand it out: base64 DER, or the same
 * inside PEM armour.
 *
 * @param value the setting's value
 * @returns the DER bytes, or `undefined`
 */
export function spkiBytes(value: string): Uint8Array | undefined {
  const body = value.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  try {
    const bytes = Uint8Array.fromBase64(body);
    return bytes.length > 0 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a value reads as a base64 SPKI key (the import checks the rest).
 *
 * @param value the setting's value
 * @returns a problem, or `undefined`
 */
export function spkiKeyProblem(value: string): string | undefined {
  return spkiBytes(value)
    ? undefined
    : "is not a base64 public key: copy the verification key the sender shows";
}

/**
 * Import the endpoint's ECDSA P-256 public keys (base64 SPKI DER).
 *
 * @param endpoint the endpoint's settings (`PUBLIC_KEY`, `PUBLIC_KEY_PREVIOUS`)
 * @returns the keys, current first
 * @throws {Error} naming the variable whose key cannot be imported
 */
export async function importEcdsaKeys(endpoint: EndpointSettings): Promise<CryptoKey[]> {
  const keys: CryptoKey[] = [];
  for (const { variable, value } of publicKeyValues(endpoint)) {
    const der = spkiBytes(value);
    try {
      if (!der) throw new Error();
      keys.push(
        await crypto.subtle.importKey(
          "spki",
          der as Uint8Array<ArrayBuffer>,
          { name: "ECDSA", namedCurve: "P-256" },
          false,
          ["verify"],
        ),
      );
    } catch {
      throw new Error(
        `${variable} is not an ECDSA P-256 public key: copy the verification key the sender shows (base64)`,
      );
    }
  }
  return keys;
}

/**
 * Check a signature against each public key in turn.
 *
 * @param keys the keys, current first
 * @param algorithm the WebCrypto verify parameters
 * @param signature the raw signature
 * @param data the signed bytes
 * @returns the index of the key that verifies it, or -1 (also when
 *   WebCrypto refuses the input)
 */
export async function verifyWithPublicKeys(
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

/** One public-key sender: its key format, its headers and its verdict. */
export interface PublicKeyScheme {
  /** The provider name. */
  name: string;
  /** One line for `hookd help`. */
  summary: string;
  /** What `PUBLIC_KEY` is and where the admin finds it. */
  keyHelp: string;
  /** What `PUBLIC_KEY_PREVIOUS` is for. */
  previousKeyHelp: string;
  /** A key setting's problem, e.g. {@linkcode ed25519KeyProblem}. */
  keyProblem(value: string): string | undefined;
  /** Import the endpoint's keys, current first, e.g. {@linkcode importEd25519Keys}. */
  importKeys(endpoint: EndpointSettings): Promise<CryptoKey[]>;
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
  /**
   * The verdict on a delivery whose signature and timestamp hold.
   *
   * @param input the delivery
   * @param by which key verified it
   */
  verdict(input: VerifyInput, by: "secret" | "previous secret"): Verdict;
}

/**
 * Check a public-key sender's signature and timestamp.
 *
 * @param input the delivery
 * @param keys the keys, current first
 * @param toleranceMs the replay window either way
 * @param scheme the sender
 * @returns the verdict; every refusal before the verdict is a 401
 */
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
 *
 * @param scheme the sender
 * @returns the provider
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
      const keys = await scheme.importKeys(endpoint);
      return (input) => verifyPublicKey(input, keys, toleranceMs, scheme);
    },
  };
}
