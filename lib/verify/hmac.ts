/**
 * The generic `hmac` provider: an HMAC of the raw body in a header the admin
 * names, with the hash, encoding and prefix the sender uses.
 *
 * Replays: only the body is signed (the event and delivery headers, when
 * set, are not; there is no signed time), so the replay key is the body: a
 * sender that posts byte-identical bodies for distinct events must put
 * something unique (a time, an id) in them.
 *
 * @module
 */

import type { EndpointSettings, Provider, SignOptions, Verdict, VerifyInput } from "./types.ts";
import { type HashName, importHmacKeys } from "./_hmac.ts";
import { type BodyHmacOptions, verifyBodyHmac } from "./_signed.ts";
import { EVENT_SETTINGS, genericAccept } from "./_event.ts";
import { genericSignHeaders } from "./_event_headers.ts";
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
  const signature = await signEncoded(endpoint.secrets[0], hash, body, encoding);
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
    ALGORITHM: { help: "hash", default: "sha256", choices: ["sha1", "sha256", "sha512"] },
    ENCODING: { help: "signature encoding", default: "hex", choices: ["hex", "base64"] },
    PREFIX: { help: "text before the signature, e.g. sha256=", default: "" },
    ...EVENT_SETTINGS,
  },
  async create(endpoint) {
    checkEventSettings(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, endpoint.settings.ALGORITHM as HashName);
    return (input) => verifyGenericHmac(input, keys, endpoint.settings);
  },
  sign: signGenericHmac,
};
