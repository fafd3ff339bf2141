/**
 * The scheme Slack and Zoom share: `v0=<hex>`, the HMAC-SHA256 of
 * `v0:<timestamp>:<body>`, the timestamp in its own header, held to `TOLERANCE`.
 *
 * @module
 */

import type { EndpointSettings, Verdict, Verify, VerifyInput } from "./types.ts";
import {
  decodeAll,
  importHmacKeys,
  signedBytes,
  signEncoded,
  verifiedBy,
  verifyAnyHmac,
} from "./_hmac.ts";
import { isRejected, requiredHeaders, unauthorized } from "./_payload.ts";
import { checkTimestamp, parseSeconds, toleranceOf } from "./_timestamp.ts";

/** One v0 sender: its headers and what a verified delivery means. */
export interface V0Scheme {
  /** The signature header as reasons write it, e.g. `X-Slack-Signature`. */
  signature: string;
  /** The timestamp header, e.g. `X-Slack-Request-Timestamp`. */
  timestamp: string;
  /** Name the timestamp header first when both are missing or repeated. */
  timestampFirst?: boolean;
  /** The verdict on a delivery whose signature and timestamp hold, by the key that verified it. */
  verdict(
    input: VerifyInput,
    key: CryptoKey,
    by: "secret" | "previous secret",
  ): Verdict | Promise<Verdict>;
}

/**
 * Build a v0 sender's verify function, reading `TOLERANCE` and importing the keys once.
 *
 * @throws {Error} naming `<prefix>TOLERANCE` when it is not a duration
 */
export async function createV0Verifier(
  endpoint: EndpointSettings,
  scheme: V0Scheme,
): Promise<Verify> {
  const toleranceMs = toleranceOf(endpoint);
  const keys = await importHmacKeys(endpoint.secrets, "sha256");
  const names = scheme.timestampFirst
    ? [scheme.timestamp, scheme.signature]
    : [scheme.signature, scheme.timestamp];
  return async (input) => {
    const values = requiredHeaders(input.headers, names);
    if (isRejected(values)) return values;
    const timestamp = values[scheme.timestamp];
    const header = values[scheme.signature];
    const seconds = parseSeconds(timestamp);
    if (Number.isNaN(seconds)) return unauthorized(`malformed ${scheme.timestamp}`);
    const candidates = header.startsWith("v0=") ? decodeAll([header.slice(3)], "hex", 32) : [];
    if (candidates.length === 0) return unauthorized(`malformed ${scheme.signature}`);
    const data = signedBytes("v0:", timestamp, ":", input.body);
    const index = await verifyAnyHmac(keys, candidates, data);
    if (index < 0) return unauthorized("invalid signature");
    const stale = checkTimestamp(seconds, input.now, toleranceMs);
    if (stale) return stale;
    return scheme.verdict(input, keys[index], verifiedBy(index));
  };
}

/** The timestamp and signature headers a v0 sender sends with a body, signed at `now` (ms). */
export async function signV0(
  secret: string,
  body: Uint8Array,
  now: number,
  scheme: Pick<V0Scheme, "signature" | "timestamp">,
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(now / 1000));
  const mac = await signEncoded(secret, "sha256", signedBytes("v0:", timestamp, ":", body), "hex");
  return { [scheme.timestamp]: timestamp, [scheme.signature]: `v0=${mac}` };
}
