/**
 * Square: `x-square-hmacsha256-signature`, the base64 HMAC-SHA256 of the
 * notification URL followed by the raw body, under the subscription's
 * signature key. The URL is the one configured at Square (`PUBLIC_URL`,
 * with the request's query string), not the one hookd sees behind a
 * proxy. The event is the body's `type` (`payment.updated`), the delivery
 * id its `event_id`. The legacy SHA-1 `x-square-signature` is not read.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys, verifiedBy, verifyHmac } from "./_hmac.ts";
import {
  acceptedBody,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  unauthorized,
} from "./_payload.ts";
import { readBodySignature } from "./_signed.ts";
import { signedBytes } from "./_signatures.ts";
import { signEncoded } from "./_hub.ts";
import { publicUrlSetting, rawQuery, readPublicUrl } from "./_public_url.ts";

const HEADER = "x-square-hmacsha256-signature";

/**
 * Verify a Square notification.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys of the signature key, current first
 * @param publicUrl the notification URL configured at Square
 * @returns the verdict
 */
export async function verifySquare(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  publicUrl: string,
): Promise<Verdict> {
  const signature = readBodySignature(input, { header: HEADER, encoding: "base64" }, 32);
  if (isRejected(signature)) return signature;
  const data = signedBytes(publicUrl, rawQuery(input.url), input.body);
  const index = await verifyHmac(keys, signature, data);
  if (index < 0) return unauthorized("invalid signature");
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "type");
  if (!event) return malformed("payload has no type");
  return acceptedBody(input, {
    parsed,
    event,
    deliveryId: readPath(parsed.value, "event_id"),
    verifiedBy: verifiedBy(index),
    // The signature covers the URL and the body: body dedupe stops replays.
    replayKey: input.body,
  });
}

/** The `square` provider. */
export const square: Provider = {
  name: "square",
  summary:
    "Square: x-square-hmacsha256-signature (HMAC-SHA256, base64, of PUBLIC_URL + body), event type",
  secret: "required",
  settings: { PUBLIC_URL: publicUrlSetting("Square") },
  async create(endpoint) {
    const publicUrl = readPublicUrl(endpoint, "Square");
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifySquare(input, keys, publicUrl);
  },
  async sign(endpoint, body, options) {
    const url = endpoint.settings.PUBLIC_URL + rawQuery(options.url ?? "");
    return {
      "Content-Type": "application/json",
      [HEADER]: await signEncoded(endpoint.secrets[0], "sha256", signedBytes(url, body), "base64"),
    };
  },
};
