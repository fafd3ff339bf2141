/**
 * The generic `hmac` provider: an HMAC of the body in a header the admin
 * names. `md5` is weak, accepted only for senders that sign with nothing else;
 * WebCrypto lacks it, so node:crypto computes it, each secret held as a
 * `KeyObject` made once; node:crypto is imported only for an md5 endpoint, as
 * it costs every other daemon ~1.7 MB of RSS and start-up time. With any hash the body is the replay key: a sender
 * posting identical bodies for distinct events must make them differ.
 *
 * @module
 */

import type { KeyObject } from "node:crypto";
import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { equalBytes, type HashName, importHmacKeys, signEncoded, verifiedBy } from "./_hmac.ts";
import { type BodyHmacOptions, readBodySignature, verifyBodyHmac } from "./_signed.ts";
import { isRejected, unauthorized } from "./_payload.ts";
import { checkEventSettings, EVENT_SETTINGS, genericAccept, genericSignHeaders } from "./_event.ts";

const encoder = new TextEncoder();

/** The length of an HMAC-MD5, in bytes. */
const MD5_LENGTH = 16;

async function verifyGenericHmac(
  input: VerifyInput,
  keys: CryptoKey[],
  settings: Record<string, string>,
): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, hmacOptions(settings));
  if (isRejected(checked)) return checked;
  const verdict = genericAccept(input.headers, input.body, settings, checked.verifiedBy);
  return verdict.ok ? { ...verdict, replayKey: input.body } : verdict;
}

type NodeCrypto = typeof import("node:crypto");

function verifyGenericMd5(
  input: VerifyInput,
  { keys, createHmac }: { keys: readonly KeyObject[]; createHmac: NodeCrypto["createHmac"] },
  settings: Record<string, string>,
): Verdict {
  const signature = readBodySignature(input, hmacOptions(settings), MD5_LENGTH);
  if (isRejected(signature)) return signature;
  const index = keys.findIndex((key) =>
    equalBytes(createHmac("md5", key).update(input.body).digest(), signature)
  );
  if (index < 0) return unauthorized("invalid signature");
  const verdict = genericAccept(input.headers, input.body, settings, verifiedBy(index));
  return verdict.ok ? { ...verdict, replayKey: input.body } : verdict;
}

function hmacOptions(settings: Record<string, string>): BodyHmacOptions {
  return {
    header: settings.SIGNATURE_HEADER,
    hash: settings.ALGORITHM as HashName,
    encoding: settings.ENCODING as "hex" | "base64",
    prefix: settings.PREFIX,
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
      const { createHmac, createSecretKey } = await import("node:crypto");
      const keys = endpoint.secrets.map((secret) => createSecretKey(encoder.encode(secret)));
      const md5 = { keys, createHmac };
      return (input) => Promise.resolve(verifyGenericMd5(input, md5, endpoint.settings));
    }
    const keys = await importHmacKeys(endpoint.secrets, endpoint.settings.ALGORITHM as HashName);
    return (input) => verifyGenericHmac(input, keys, endpoint.settings);
  },
  async sign(endpoint, body, options) {
    const { header, hash, encoding, prefix } = hmacOptions(endpoint.settings);
    const [secret] = endpoint.secrets;
    const signature = endpoint.settings.ALGORITHM === "md5"
      ? (await import("node:crypto")).createHmac("md5", encoder.encode(secret)).update(body)
        .digest(encoding)
      : await signEncoded(secret, hash, body, encoding);
    return {
      ...genericSignHeaders(endpoint.settings, options),
      [header]: `${prefix ?? ""}${signature}`,
    };
  },
};
