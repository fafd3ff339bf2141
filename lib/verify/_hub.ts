/**
 * `algo=hex` signature headers (`X-Hub-Signature`): the same name means SHA-1
 * at GitHub but SHA-256 at Bitbucket and Jira, so the prefix is read and
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
  signHmac,
  verifiedBy,
  verifyHmac,
} from "./_hmac.ts";
import { singleHeader, unauthorized } from "./_payload.ts";

/** Keys by the hash they are for; a hash left out is refused. */
export type HubKeys = Partial<Record<HashName, CryptoKey[]>>;

/**
 * Import the secrets once for each hash the endpoint accepts.
 *
 * @param secrets the current secret first, then the previous one
 * @param hashes the hashes a signature may name
 * @returns the keys, by hash
 */
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
 * @param input the delivery
 * @param header the header name as the sender documents it
 * @param keys the keys for each accepted hash
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
  const algo = value.slice(0, equals);
  if (!Object.hasOwn(HASHES, algo)) return unauthorized(`unsupported ${header} algorithm`);
  const accepted = keys[algo as HashName];
  if (!accepted) return unauthorized(`${algo} signatures are not accepted`);
  const signature = decodeSignature(value.slice(equals + 1), "hex");
  if (!signature || signature.length !== MAC_LENGTHS[algo as HashName]) {
    return unauthorized(`malformed ${header}`);
  }
  const index = await verifyHmac(accepted, signature, data);
  if (index < 0) return unauthorized("invalid signature");
  return { verifiedBy: verifiedBy(index) };
}

/**
 * Write an `algo=hex` signature as the sender would; for `hookd sign`.
 *
 * @param secret the signing secret
 * @param hash the hash to name
 * @param data the bytes to sign
 * @returns e.g. `sha256=757107…`
 */
export async function signHub(secret: string, hash: HashName, data: Uint8Array): Promise<string> {
  const [key] = await importHmacKeys([secret], hash);
  return `${hash}=${(await signHmac(key, data)).toHex()}`;
}

/**
 * Sign bytes with one secret and encode the MAC; for `hookd sign`.
 *
 * @param secret the signing secret (text, or raw key bytes)
 * @param hash the hash
 * @param data the bytes to sign
 * @param encoding how the sender writes the MAC
 * @returns the encoded MAC
 */
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
