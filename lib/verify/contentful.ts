/**
 * Contentful: `x-contentful-signature`, hex HMAC-SHA256 of the canonical
 * request `@contentful/node-apps-toolkit` builds (method, path, the headers
 * `x-contentful-signed-headers` lists, body). `PUBLIC_PATH` stands for the
 * received path when a proxy rewrites it. The timestamp (ms) is held to
 * `TOLERANCE`; within it the body is the replay key.
 *
 * @module
 */

import type { Provider, SettingSpec, Verdict, VerifyInput } from "./types.ts";
import {
  decodeAll,
  importHmacKeys,
  signedBytes,
  signEncoded,
  verifiedBy,
  verifyAnyHmac,
} from "./_hmac.ts";
import { acceptedBody, isRejected, malformed, requiredHeaders, unauthorized } from "./_payload.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";
import { rawQuery } from "./_public_url.ts";

const SIGNATURE = "x-contentful-signature";
const SIGNED_HEADERS = "x-contentful-signed-headers";
const TIMESTAMP = "x-contentful-timestamp";
const TOPIC = "x-contentful-topic";
/** A lower-case header name (an HTTP token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** More signed headers than this is not Contentful. */
const MAX_SIGNED_HEADERS = 32;

const PUBLIC_PATH: SettingSpec = {
  help:
    "the path of the URL configured at Contentful, when a proxy rewrites it (default: the path as received)",
  validate: (value) =>
    /^\/[^?#\s]*$/.test(value)
      ? undefined
      : `is not a path: write the path of the URL configured at Contentful, e.g. /hooks/contentful`,
};

/**
 * The path as the toolkit signs it (`getNormalizedEncodedURI`): the query
 * (only up to a second `?`) escaped as a component, then the whole
 * encoded with `encodeURI`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentfulPath } from "./contentful.ts";
 * assert.equal(contentfulPath("/hooks/cf"), "/hooks/cf");
 * assert.equal(contentfulPath("/hooks/cf?a=1&b=2"), "/hooks/cf?a%253D1%2526b%253D2");
 * ```
 */
export function contentfulPath(path: string): string {
  const [pathname, search] = path.split("?");
  const escaped = search ? encodeURIComponent(search) : "";
  try {
    return encodeURI(escaped ? `${pathname}?${escaped}` : pathname);
  } catch {
    // A lone surrogate cannot come from a URL; sign nothing that matches.
    return "";
  }
}

/** What the signature covers: method, encoded path, the signed headers, body. */
function canonicalRequest(
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Uint8Array {
  const lines = Object.keys(headers).sort().map((name) => `${name}:${headers[name]}`).join(";");
  return signedBytes(`POST\n${path}\n${lines}\n`, body);
}

/** `publicPath` is the path configured at Contentful, or `undefined` for the path as received. */
async function verifyContentful(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  options: { publicPath?: string; toleranceMs: number },
): Promise<Verdict> {
  const values = requiredHeaders(input.headers, [SIGNATURE, SIGNED_HEADERS, TIMESTAMP]);
  if (isRejected(values)) return values;
  const millis = parseSeconds(values[TIMESTAMP]);
  if (Number.isNaN(millis)) return unauthorized(`malformed ${TIMESTAMP}`);
  const candidates = /^[0-9a-f]{64}$/i.test(values[SIGNATURE])
    ? decodeAll([values[SIGNATURE]], "hex", 32)
    : [];
  if (candidates.length === 0) return unauthorized(`malformed ${SIGNATURE}`);
  const listed = values[SIGNED_HEADERS].split(",");
  if (listed.length < 2 || listed.length > MAX_SIGNED_HEADERS) {
    return unauthorized(`malformed ${SIGNED_HEADERS}`);
  }
  // As the toolkit does: the listed headers that were sent, then the
  // timestamp and the list as recomputed from them.
  const signed: Record<string, string> = {};
  for (const name of listed) {
    // The toolkit matches lower-case names exactly; Headers.get would match any case (or throw).
    if (!HEADER_NAME.test(name)) continue;
    // A repeated header reads joined by ", ", as Node gives it to the toolkit.
    const value = input.headers.get(name);
    if (value !== null) signed[name] = value.trim();
  }
  signed[TIMESTAMP] = String(millis);
  signed[SIGNED_HEADERS] = "";
  signed[SIGNED_HEADERS] = Object.keys(signed).sort().join(",");
  const url = safeUrl(input.url);
  const path = contentfulPath((options.publicPath ?? url?.pathname ?? "/") + rawQuery(input.url));
  const index = await verifyAnyHmac(keys, candidates, canonicalRequest(path, signed, input.body));
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(millis / 1000, input.now, options.toleranceMs);
  if (stale) return stale;
  const topic = input.headers.get(TOPIC)?.trim();
  if (!topic) return malformed("missing X-Contentful-Topic");
  return acceptedBody(input, {
    event: topic,
    verifiedBy: verifiedBy(index),
    replayKey: input.body,
  });
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The `contentful` provider. */
export const contentful: Provider = {
  name: "contentful",
  summary:
    "Contentful: x-contentful-signature (HMAC-SHA256, hex, of the canonical request: path, signed headers, body), x-contentful-timestamp window, event X-Contentful-Topic",
  secret: "required",
  settings: { PUBLIC_PATH, TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const publicPath = endpoint.settings.PUBLIC_PATH || undefined;
    const problem = publicPath && PUBLIC_PATH.validate!(publicPath);
    if (problem) throw new Error(`${endpoint.prefix}PUBLIC_PATH ${problem}`);
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyContentful(input, keys, { publicPath, toleranceMs });
  },
  async sign(endpoint, body, options) {
    const topic = options.event ?? "ContentManagement.Entry.publish";
    const headers: Record<string, string> = {
      [TOPIC]: topic,
      [TIMESTAMP]: String(Math.floor(options.now)),
      [SIGNED_HEADERS]: [SIGNED_HEADERS, TIMESTAMP, TOPIC].sort().join(","),
    };
    const url = safeUrl(options.url ?? "");
    const path = contentfulPath(
      (endpoint.settings.PUBLIC_PATH || url?.pathname || "/") + rawQuery(options.url ?? ""),
    );
    const signature = await signEncoded(
      endpoint.secrets[0],
      "sha256",
      canonicalRequest(path, headers, body),
      "hex",
    );
    return {
      "Content-Type": "application/vnd.contentful.management.v1+json",
      "X-Contentful-Topic": topic,
      "X-Contentful-Timestamp": headers[TIMESTAMP],
      "X-Contentful-Signed-Headers": headers[SIGNED_HEADERS],
      "X-Contentful-Signature": signature,
    };
  },
};
