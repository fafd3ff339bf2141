/**
 * Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>…]`,
 * semicolon-separated, each `h1` an HMAC-SHA256 of `<ts>:<raw body>` under
 * the notification destination's secret key, used exactly as written
 * (`pdl_ntfset_…`). Entries that are not well-formed `h1` values are
 * skipped. Event is the body's `event_type` (`transaction.completed`),
 * delivery id its `event_id`.
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
import { decodeAll, onlyValue, parsePairs, signedBytes, verifyAnyHmac } from "./_signatures.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

/**
 * Verify a Paddle delivery with already-imported keys.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret key first
 * @param toleranceMs the replay window either way
 * @returns the verdict; event is the body's `event_type`
 */
export async function verifyPaddle(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const header = singleHeader(input.headers, "paddle-signature");
  if (header === undefined) return unauthorized("missing Paddle-Signature");
  if (header === null) return unauthorized("Paddle-Signature sent more than once");
  const pairs = parsePairs(header, ";");
  const ts = pairs && onlyValue(pairs, "ts");
  if (!pairs || ts === undefined || Number.isNaN(parseSeconds(ts))) {
    return unauthorized("malformed Paddle-Signature");
  }
  const h1 = pairs.filter((pair) => pair.key === "h1").map((pair) => pair.value);
  const candidates = decodeAll(h1, "hex", 32);
  if (candidates.length === 0) return unauthorized("no h1 signature in Paddle-Signature");
  const index = await verifyAnyHmac(keys, candidates, signedBytes(ts, ":", input.body));
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(parseSeconds(ts), input.now, toleranceMs);
  if (stale) return stale;

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "event_type");
  if (!event) return malformed("payload has no event_type");
  return {
    ok: true,
    event,
    deliveryId: readPath(parsed.value, "event_id"),
    verifiedBy: verifiedBy(index),
    payload: input.body,
    contentType: "application/json",
  };
}

/** The `paddle` provider. */
export const paddle: Provider = {
  name: "paddle",
  summary: "Paddle Billing: Paddle-Signature ts=…;h1=… (HMAC-SHA256 of ts:body, secret as written)",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyPaddle(input, keys, toleranceMs);
  },
  async sign(endpoint, body, options) {
    const [key] = await importHmacKeys(endpoint.secrets.slice(0, 1), "sha256");
    const ts = String(Math.floor(options.now / 1000));
    const mac = await signHmac(key, signedBytes(ts, ":", body));
    return {
      "Content-Type": "application/json",
      "Paddle-Signature": `ts=${ts};h1=${encodeSignature(mac, "hex")}`,
    };
  },
};
