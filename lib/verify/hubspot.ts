/**
 * HubSpot v3: base64 HMAC-SHA256 of `POST` + URI + body + timestamp (ms, held
 * to `TOLERANCE`), the URI being `PUBLIC_URL` plus the query with the
 * characters HubSpot lists decoded.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import {
  decodeAll,
  importHmacKeys,
  signedBytes,
  signEncoded,
  verifiedBy,
  verifyAnyHmac,
} from "./_hmac.ts";
import {
  acceptedBody,
  isRejected,
  parseJsonBody,
  readPath,
  requiredHeaders,
  unauthorized,
} from "./_payload.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";
import { publicUrlSetting, rawQuery, readPublicUrl } from "./_public_url.ts";

const SIGNATURE = "X-HubSpot-Signature-v3";
const TIMESTAMP = "X-HubSpot-Request-Timestamp";
const DECODED: Record<string, string> = {
  "%3A": ":",
  "%2F": "/",
  "%3F": "?",
  "%40": "@",
  "%21": "!",
  "%24": "$",
  "%27": "'",
  "%28": "(",
  "%29": ")",
  "%2A": "*",
  "%2C": ",",
  "%3B": ";",
};

/**
 * The request URI as HubSpot signs it: `PUBLIC_URL`, the query as sent, the
 * characters HubSpot lists decoded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubspotUri } from "./hubspot.ts";
 * assert.equal(hubspotUri("https://h.example/hook", "?a=b%3Ac%2Cd%20e"), "https://h.example/hook?a=b:c,d%20e");
 * ```
 */
export function hubspotUri(publicUrl: string, query: string): string {
  return (publicUrl + query).replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (code) => DECODED[code.toUpperCase()],
  );
}

function eventOf(payload: unknown): string {
  if (!Array.isArray(payload)) return readPath(payload, "subscriptionType") ?? "webhook";
  const types = new Set(payload.map((item) => readPath(item, "subscriptionType")));
  const [only] = types;
  return types.size === 1 && only !== undefined ? only : "batch";
}

async function verifyHubspot(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  publicUrl: string,
  toleranceMs: number,
): Promise<Verdict> {
  const values = requiredHeaders(input.headers, [SIGNATURE, TIMESTAMP]);
  if (isRejected(values)) return values;
  const millis = parseSeconds(values[TIMESTAMP]);
  if (Number.isNaN(millis)) return unauthorized(`malformed ${TIMESTAMP}`);
  const candidates = decodeAll([values[SIGNATURE]], "base64", 32);
  if (candidates.length === 0) return unauthorized(`malformed ${SIGNATURE}`);
  const uri = hubspotUri(publicUrl, rawQuery(input.url));
  const data = signedBytes("POST", uri, input.body, values[TIMESTAMP]);
  const index = await verifyAnyHmac(keys, candidates, data);
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(millis / 1000, input.now, toleranceMs);
  if (stale) return stale;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  // The signature covers the body (and the URL or a timestamp), never the event header: body
  // dedupe stops replays.
  return acceptedBody(input, {
    parsed,
    event: eventOf(parsed.value),
    verifiedBy: verifiedBy(index),
    replayKey: input.body,
  });
}

/** The `hubspot` provider. */
export const hubspot: Provider = {
  name: "hubspot",
  summary:
    "HubSpot: X-HubSpot-Signature-v3 (HMAC-SHA256, base64, of POST + URI + body + timestamp)",
  secret: "required",
  settings: { PUBLIC_URL: publicUrlSetting("HubSpot"), TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const publicUrl = readPublicUrl(endpoint, "HubSpot");
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyHubspot(input, keys, publicUrl, toleranceMs);
  },
  async sign(endpoint, body, options) {
    const timestamp = String(Math.floor(options.now));
    const uri = hubspotUri(endpoint.settings.PUBLIC_URL, rawQuery(options.url ?? ""));
    const data = signedBytes("POST", uri, body, timestamp);
    return {
      "Content-Type": "application/json",
      [TIMESTAMP]: timestamp,
      [SIGNATURE]: await signEncoded(endpoint.secrets[0], "sha256", data, "base64"),
    };
  },
};
