/**
 * PagerDuty (v3 webhooks): `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`,
 * comma-separated, each an HMAC-SHA256 of the raw body under the
 * subscription's secret, used exactly as written. Several entries come
 * while PagerDuty rotates the secret; other versions are skipped. There is
 * no signed timestamp, so no replay window. Event is the body's
 * `event.event_type` (`incident.triggered`), delivery id `event.id`.
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
import { decodeAll, parsePairs, verifyAnyHmac } from "./_signatures.ts";

/**
 * Verify a PagerDuty delivery with already-imported keys.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict; event is `event.event_type`
 */
export async function verifyPagerduty(
  input: VerifyInput,
  keys: readonly CryptoKey[],
): Promise<Verdict> {
  const header = singleHeader(input.headers, "x-pagerduty-signature");
  if (header === undefined) return unauthorized("missing X-PagerDuty-Signature");
  if (header === null) return unauthorized("X-PagerDuty-Signature sent more than once");
  const pairs = parsePairs(header, ",");
  if (!pairs) return unauthorized("malformed X-PagerDuty-Signature");
  const v1 = pairs.filter((pair) => pair.key === "v1").map((pair) => pair.value);
  const candidates = decodeAll(v1, "hex", 32);
  if (candidates.length === 0) return unauthorized("no v1 signature in X-PagerDuty-Signature");
  const index = await verifyAnyHmac(keys, candidates, input.body);
  if (index < 0) return unauthorized("invalid signature");

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "event.event_type");
  if (!event) return malformed("payload has no event.event_type");
  return {
    ok: true,
    event,
    deliveryId: readPath(parsed.value, "event.id"),
    verifiedBy: verifiedBy(index),
    payload: input.body,
    contentType: "application/json",
  };
}

/** The `pagerduty` provider. */
export const pagerduty: Provider = {
  name: "pagerduty",
  summary: "PagerDuty v3: X-PagerDuty-Signature v1=<hex>,… (HMAC-SHA256 of the body), event_type",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyPagerduty(input, keys);
  },
  async sign(endpoint, body) {
    const [key] = await importHmacKeys(endpoint.secrets.slice(0, 1), "sha256");
    const mac = await signHmac(key, body);
    return {
      "Content-Type": "application/json",
      "X-PagerDuty-Signature": `v1=${encodeSignature(mac, "hex")}`,
    };
  },
};
