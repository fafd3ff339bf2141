/**
 * One HMAC of the body in one header, hex or base64, maybe behind a prefix.
 *
 * @module
 */

import type { Rejected, VerifyInput } from "./types.ts";
import { decodeSignature, type HashName, MAC_LENGTHS, verifiedBy, verifyHmac } from "./_hmac.ts";
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
 * @param input the delivery
 * @param options where and how the signature is written
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
 * Check an HMAC of the raw body carried in one header.
 *
 * @param input the delivery
 * @param keys keys for `options.hash`, current secret first
 * @param options where and how the signature is written
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
  const index = await verifyHmac(keys, signature, data);
  if (index < 0) return unauthorized("invalid signature");
  return { verifiedBy: verifiedBy(index) };
}
