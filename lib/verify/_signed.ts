/**
 * One HMAC of the body in one header: hex or base64 behind a fixed prefix,
 * or `algo=hex` (`X-Hub-Signature`), where the same name means SHA-1 at
 * GitHub but SHA-256 at Bitbucket and Jira, so the prefix is read and
 * checked against the hashes the endpoint accepts, never assumed.
 *
 * @module
 */

import type { Rejected, VerifyInput } from "./types.ts";
import {
  decodeSignature,
  HASHES,
  type HashName,
  importHmacKeys,
  MAC_LENGTHS,
  signEncoded,
  verifiedBy,
  verifyAnyHmac,
} from "./_hmac.ts";
import { isRejected, singleHeader, unauthorized } from "./_payload.ts";

/** How a body HMAC is carried. */
export interface BodyHmacOptions {
  /** The header holding the signature. */
  header: string;
  /** The hash; sets the expected signature length. */
  hash: HashName;
  /** How the signature is written. */
  encoding: "hex" | "base64";
  /** Text before the signature, e.g. `sha256=`. */
  prefix?: string;
}

/**
 * Read and decode the signature of one header, before any key is used.
 *
 * @param length the MAC length in bytes
 * @returns the signature bytes, or a 401 verdict: missing, repeated or malformed
 */
export function readBodySignature(
  input: VerifyInput,
  options: Omit<BodyHmacOptions, "hash">,
  length: number,
): Uint8Array | Rejected {
  const value = singleHeader(input.headers, options.header);
  if (value === undefined) return unauthorized(`missing ${options.header}`);
  if (value === null) return unauthorized(`${options.header} sent more than once`);
  const prefix = options.prefix ?? "";
  if (!value.startsWith(prefix)) return unauthorized(`malformed ${options.header}`);
  const signature = decodeSignature(value.slice(prefix.length), options.encoding);
  if (!signature || signature.length !== length) {
    return unauthorized(`malformed ${options.header}`);
  }
  return signature;
}

/**
 * Check an HMAC carried in one header.
 *
 * @param keys keys for `options.hash`, current secret first
 * @param data the signed bytes; the raw body unless given
 * @returns which secret verified it, or a 401 verdict
 */
export async function verifyBodyHmac(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  options: BodyHmacOptions,
  data: Uint8Array = input.body,
): Promise<{ verifiedBy: "secret" | "previous secret" } | Rejected> {
  const signature = readBodySignature(input, options, MAC_LENGTHS[options.hash]);
  if (isRejected(signature)) return signature;
  const index = await verifyAnyHmac(keys, [signature], data);
  if (index < 0) return unauthorized("invalid signature");
  return { verifiedBy: verifiedBy(index) };
}

/** Keys by the hash they are for; a hash left out is refused. */
export type HubKeys = Partial<Record<HashName, CryptoKey[]>>;

/** Import the secrets once for each hash an `algo=hex` header may name. */
export async function importHubKeys(
  secrets: readonly string[],
  hashes: readonly HashName[],
): Promise<HubKeys> {
  const keys: HubKeys = {};
  for (const hash of hashes) keys[hash] = await importHmacKeys(secrets, hash);
  return keys;
}

/**
 * Check an `algo=hex` signature header.
 *
 * @param data the signed bytes; the raw body unless given
 * @returns what verified it, or a 401 verdict
 */
export async function verifyHubSignature(
  input: VerifyInput,
  header: string,
  keys: HubKeys,
  data: Uint8Array = input.body,
): Promise<{ verifiedBy: "secret" | "previous secret" } | Rejected> {
  const value = singleHeader(input.headers, header);
  if (value === undefined) return unauthorized(`missing ${header}`);
  if (value === null) return unauthorized(`${header} sent more than once`);
  const equals = value.indexOf("=");
  if (equals < 1) return unauthorized(`malformed ${header}`);
  const hash = value.slice(0, equals);
  if (!Object.hasOwn(HASHES, hash)) return unauthorized(`unsupported ${header} algorithm`);
  const accepted = keys[hash as HashName];
  if (!accepted) return unauthorized(`${hash} signatures are not accepted`);
  const options = { header, hash: hash as HashName, encoding: "hex", prefix: `${hash}=` } as const;
  return await verifyBodyHmac(input, accepted, options, data);
}

/** An `algo=hex` signature as the sender writes it (`sha256=757107…`); for `hookd sign`. */
export async function signHub(secret: string, hash: HashName, data: Uint8Array): Promise<string> {
  return `${hash}=${await signEncoded(secret, hash, data, "hex")}`;
}
