/**
 * DocuSign Connect (HMAC): `X-DocuSign-Signature-1` is the base64
 * HMAC-SHA256 of the raw body under a Connect HMAC key; with several keys
 * active DocuSign adds `X-DocuSign-Signature-2`, `-3`, … one per key, and
 * any one verifying with the current or previous secret is enough. The
 * event is the JSON body's `event` (`envelope-completed`). DocuSign signs
 * no time and sends no delivery id.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys, verifiedBy } from "./_hmac.ts";
import {
  acceptedBody,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
} from "./_payload.ts";
import { decodeAll, tooManySignatures, verifyAnyHmac } from "./_signatures.ts";
import { signEncoded } from "./_hub.ts";

/** DocuSign allows up to this many HMAC keys, so as many headers. */
const MAX_HEADERS = 100;

/**
 * Verify a DocuSign Connect message.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict
 */
export async function verifyDocusign(
  input: VerifyInput,
  keys: readonly CryptoKey[],
): Promise<Verdict> {
  const values: string[] = [];
  for (let n = 1; n <= MAX_HEADERS; n++) {
    const value = singleHeader(input.headers, `x-docusign-signature-${n}`);
    if (value === null) return unauthorized(`X-DocuSign-Signature-${n} sent more than once`);
    if (value !== undefined) values.push(value);
  }
  if (values.length === 0) return unauthorized("missing X-DocuSign-Signature-1");
  const tooMany = tooManySignatures(values.length);
  if (tooMany) return tooMany;
  const candidates = decodeAll(values, "base64", 32);
  if (candidates.length === 0) return unauthorized("malformed X-DocuSign-Signature");
  const index = await verifyAnyHmac(keys, candidates, input.body);
  if (index < 0) return unauthorized("invalid signature");
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "event");
  if (!event) return malformed("payload has no event");
  // The signature covers the body only: body dedupe stops replays.
  return acceptedBody(input, {
    parsed,
    event,
    verifiedBy: verifiedBy(index),
    replayKey: input.body,
  });
}

/** The `docusign` provider. */
export const docusign: Provider = {
  name: "docusign",
  summary:
    "DocuSign Connect: X-DocuSign-Signature-1…N (HMAC-SHA256, base64, of the body), event from the JSON",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyDocusign(input, keys);
  },
  async sign(endpoint, body) {
    return {
      "Content-Type": "application/json",
      "X-DocuSign-Signature-1": await signEncoded(endpoint.secrets[0], "sha256", body, "base64"),
    };
  },
};
