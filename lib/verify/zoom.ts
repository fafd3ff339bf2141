/**
 * Zoom: `x-zm-signature: v0=<hex>`, an HMAC-SHA256 of
 * `v0:<x-zm-request-timestamp>:<raw body>` under the app's Secret Token.
 * The `endpoint.url_validation` challenge is answered here with
 * `{plainToken, encryptedToken}`, the token MACed (hex) under the secret
 * that verified the request. Event is the body's `event`
 * (`meeting.started`), delivery id `x-zm-trackingid`.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { encodeSignature, importHmacKeys, signHmac, verifiedBy } from "./_hmac.ts";
import {
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
} from "./_payload.ts";
import { decodeAll, signedBytes, verifyAnyHmac } from "./_signatures.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

const encoder = new TextEncoder();

/**
 * Verify a Zoom delivery with already-imported keys.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current Secret Token first
 * @param toleranceMs the replay window either way
 * @returns the verdict; a URL validation carries its reply
 */
export async function verifyZoom(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const header = singleHeader(input.headers, "x-zm-signature");
  const timestamp = singleHeader(input.headers, "x-zm-request-timestamp");
  if (header === undefined) return unauthorized("missing x-zm-signature");
  if (timestamp === undefined) return unauthorized("missing x-zm-request-timestamp");
  if (header === null) return unauthorized("x-zm-signature sent more than once");
  if (timestamp === null) return unauthorized("x-zm-request-timestamp sent more than once");
  const seconds = parseSeconds(timestamp);
  if (Number.isNaN(seconds)) return unauthorized("malformed x-zm-request-timestamp");
  const candidates = header.startsWith("v0=") ? decodeAll([header.slice(3)], "hex", 32) : [];
  if (candidates.length === 0) return unauthorized("malformed x-zm-signature");
  const data = signedBytes("v0:", timestamp, ":", input.body);
  const index = await verifyAnyHmac(keys, candidates, data);
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "event");
  if (!event) return malformed("payload has no event");
  const accepted = {
    ok: true as const,
    event,
    deliveryId: singleHeader(input.headers, "x-zm-trackingid") ?? undefined,
    verifiedBy: verifiedBy(index),
    payload: input.body,
    contentType: "application/json",
  };
  if (event !== "endpoint.url_validation") return accepted;
  const plainToken = readPath(parsed.value, "payload.plainToken");
  if (!plainToken) return malformed("url_validation has no payload.plainToken");
  const mac = await signHmac(keys[index], encoder.encode(plainToken));
  const encryptedToken = encodeSignature(mac, "hex");
  return { ...accepted, reply: { status: 200, body: { plainToken, encryptedToken } } };
}

/** The `zoom` provider. */
export const zoom: Provider = {
  name: "zoom",
  summary: "Zoom: x-zm-signature v0=<hex> over v0:timestamp:body, answers endpoint.url_validation",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyZoom(input, keys, toleranceMs);
  },
  async sign(endpoint, body, options) {
    const [key] = await importHmacKeys(endpoint.secrets.slice(0, 1), "sha256");
    const timestamp = String(Math.floor(options.now / 1000));
    const mac = await signHmac(key, signedBytes("v0:", timestamp, ":", body));
    return {
      "Content-Type": "application/json; charset=utf-8",
      "x-zm-request-timestamp": timestamp,
      "x-zm-signature": `v0=${encodeSignature(mac, "hex")}`,
      "x-zm-trackingid": options.deliveryId ?? crypto.randomUUID(),
    };
  },
};
