/**
 * The generic `hmac` provider: an HMAC of the body in a header the admin
 * names. `md5` is weak, accepted only for senders that sign with nothing else
 * (WebCrypto lacks it: node:crypto computes it). With a SHA hash the body is
 * the replay key: a sender posting identical bodies for distinct events must
 * make them differ.
 *
 * @module
 */

import type { EndpointSettings, Provider, SignOptions, Verdict, VerifyInput } from "./types.ts";
import type { KeyObject } from "node:crypto";
import { encodeSignature, type HashName, importHmacKeys, verifiedBy } from "./_hmac.ts";
import { type BodyHmacOptions, readBodySignature, verifyBodyHmac } from "./_signed.ts";
import { importMd5Keys, MD5_LENGTH, signMd5, verifyMd5 } from "./_md5.ts";
import { isRejected, unauthorized } from "./_payload.ts";
import { EVENT_SETTINGS, genericAccept, genericSignHeaders } from "./_event.ts";
import { checkEventSettings } from "./_settings.ts";
import { signEncoded } from "./_hub.ts";

/**
 * Verify a delivery signed with a configurable body HMAC.
 *
 * @param input the delivery
 * @param keys keys for the configured hash, current secret first
 * @param settings the endpoint's settings
 * @returns the verdict
 */
export async function verifyGenericHmac(
  input: VerifyInput,
  keys: CryptoKey[],
  settings: Record<string, string>,
): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, hmacOptions(settings));
  if ("ok" in checked) return checked;
  const verdict = genericAccept(input.headers, input.body, settings, checked.verifiedBy);
  return verdict.ok ? { ...verdict, replayKey: input.body } : verdict;
}

/**
 * Verify a delivery signed with HMAC-MD5 (`ALGORITHM=md5`).
 *
 * @param input the delivery
 * @param keys key objects from `importMd5Keys`, current secret first
 * @param settings the endpoint's settings
 * @returns the verdict
 */
export function verifyGenericMd5(
  input: VerifyInput,
  keys: readonly KeyObject[],
  settings: Record<string, string>,
): Verdict {
  const signature = readBodySignature(input, hmacOptions(settings), MD5_LENGTH);
  if (isRejected(signature)) return signature;
  const index = verifyMd5(keys, signature, input.body);
  if (index < 0) return unauthorized("invalid signature");
  return genericAccept(input.headers, input.body, settings, verifiedBy(index));
}

function hmacOptions(settings: Record<string, string>): BodyHmacOptions {
  return {
    header: settings.SIGNATURE_HEADER,
    hash: settings.ALGORITHM as HashName,
    encoding: settings.ENCODING as "hex" | "base64",
    prefix: settings.PREFIX,
  };
}

/**
 * The headers a sender configured like this endpoint would send.
 *
 * @param endpoint the endpoint's resolved settings
 * @param body the bytes to sign
 * @param options the event and delivery id to claim
 * @returns the signature header, and the event and delivery headers when
 *   the endpoint names them
 */
export async function signGenericHmac(
  endpoint: EndpointSettings,
  body: Uint8Array,
  options: SignOptions,
): Promise<Record<string, string>> {
  const { header, hash, encoding, prefix } = hmacOptions(endpoint.settings);
  const signature = endpoint.settings.ALGORITHM === "md5"
    ? encodeSignature(signMd5(endpoint.secrets[0], body), encoding)
    : await signEncoded(endpoint.secrets[0], hash, body, encoding);
  return {
    ...genericSignHeaders(endpoint.settings, options),
    [header]: `${prefix ?? ""}${signature}`,
  };
}

/** The generic `hmac` provider. */
export const hmac: Provider = {
  name: "hmac",
  summary: "Any sender that signs the raw body with HMAC in one header",
  secret: "required",
  settings: {
    SIGNATURE_HEADER: { help: "header holding the signature", required: true },
    ALGORITHM: {
      help: "hash (md5 is weak: only for senders that offer nothing else)",
      default: "sha256",
      choices: ["sha1", "sha256", "sha512", "md5"],
    },
    ENCODING: { help: "signature encoding", default: "hex", choices: ["hex", "base64"] },
    PREFIX: { help: "text before the signature, e.g. sha256=", default: "" },
    ...EVENT_SETTINGS,
  },
  async create(endpoint) {
    checkEventSettings(endpoint);
    if (endpoint.settings.ALGORITHM === "md5") {
      const md5Keys = importMd5Keys(endpoint.secrets);
      return (input) => Promise.resolve(verifyGenericMd5(input, md5Keys, endpoint.settings));
    }
    const keys = await importHmacKeys(endpoint.secrets, endpoint.settings.ALGORITHM as HashName);
    return (input) => verifyGenericHmac(input, keys, endpoint.settings);
  },
  sign: signGenericHmac,
};
