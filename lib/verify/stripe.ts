/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, each `v1` an
 * HMAC-SHA256 of `<t>.<raw body>` under the endpoint's signing secret,
 * used exactly as written (the `whsec_` prefix included: it is not base64
 * here). Entries of other schemes (`v0`) are skipped; several `v1` entries
 * come while Stripe rolls the secret. Event is the body's `type`, delivery
 * id its `id`.
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
 * Verify a Stripe delivery with already-imported keys.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @param toleranceMs the replay window either way
 * @returns the verdict; event is the body's `type`
 */
export async function verifyStripe(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const header = singleHeader(input.headers, "stripe-signature");
  if (header === undefined) return unauthorized("missing Stripe-Signature");
  if (header === null) return unauthorized("Stripe-Signature sent more than once");
  const pairs = parsePairs(header, ",");
  const t = pairs && onlyValue(pairs, "t");
  if (!pairs || t === undefined || Number.isNaN(parseSeconds(t))) {
    return unauthorized("malformed Stripe-Signature");
  }
  const v1 = pairs.filter((pair) => pair.key === "v1").map((pair) => pair.value);
  const candidates = decodeAll(v1, "hex", 32);
  if (candidates.length === 0) return unauthorized("no v1 signature in Stripe-Signature");
  const index = await verifyAnyHmac(keys, candidates, signedBytes(t, ".", input.body));
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(parseSeconds(t), input.now, toleranceMs);
  if (stale) return stale;

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "type");
  if (!event) return malformed("payload has no type");
  return {
    ok: true,
    event,
    deliveryId: readPath(parsed.value, "id"),
    verifiedBy: verifiedBy(index),
    payload: input.body,
    contentType: "application/json",
  };
}

/** The `stripe` provider. */
export const stripe: Provider = {
  name: "stripe",
  summary:
    "Stripe: Stripe-Signature t=…,v1=… (HMAC-SHA256 of t.body, secret as written), event type",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyStripe(input, keys, toleranceMs);
  },
  async sign(endpoint, body, options) {
    const [key] = await importHmacKeys(endpoint.secrets.slice(0, 1), "sha256");
    const t = String(Math.floor(options.now / 1000));
    const mac = await signHmac(key, signedBytes(t, ".", body));
    return {
      "Content-Type": "application/json; charset=utf-8",
      "Stripe-Signature": `t=${t},v1=${encodeSignature(mac, "hex")}`,
    };
  },
};
