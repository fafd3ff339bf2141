/**
 * Twilio: `X-Twilio-Signature`, base64 HMAC-SHA1 of `PUBLIC_URL` + query +
 * the form parameters sorted by name (a JSON body is covered instead by the
 * query's `bodySHA256`). As Twilio's SDKs do, the URL is tried with and without
 * the default port, since proxies differ on which one Twilio saw. The replay key
 * is the query and sorted parameters, not the form's bytes, which a replay may
 * reorder or re-encode under the same signature.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import {
  decodeSignature,
  importHmacKeys,
  signEncoded,
  verifiedBy,
  verifyAnyHmac,
} from "./_hmac.ts";
import {
  isForm,
  isRejected,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
} from "./_payload.ts";
import { publicUrlSetting, rawQuery, readPublicUrl, URL_PARTS } from "./_public_url.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * The URLs Twilio may have signed: without a port, and with the scheme's
 * default port (or the port given), each followed by the raw `query`.
 */
export function signedUrls(publicUrl: string, query: string): string[] {
  const match = URL_PARTS.exec(publicUrl);
  if (!match) return [];
  const [, scheme, host, port, path] = match;
  const fallback = scheme.toLowerCase() === "https" ? "443" : "80";
  return [
    ...new Set([`${scheme}://${host}${path}`, `${scheme}://${host}:${port ?? fallback}${path}`]),
  ]
    .map((url) => url + query);
}

/** The string Twilio signs after the URL: sorted names, each with its sorted, distinct values. */
export function parameterString(params: URLSearchParams): string {
  let out = "";
  for (const name of [...new Set(params.keys())].sort()) {
    for (const value of [...new Set(params.getAll(name))].sort()) out += name + value;
  }
  return out;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest).toHex();
}

async function verifyTwilio(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  publicUrl: string,
): Promise<Verdict> {
  const header = singleHeader(input.headers, "x-twilio-signature");
  if (header === undefined) return unauthorized("missing X-Twilio-Signature");
  if (header === null) return unauthorized("X-Twilio-Signature sent more than once");
  const signature = decodeSignature(header, "base64");
  if (signature?.length !== 20) return unauthorized("malformed X-Twilio-Signature");

  const query = rawQuery(input.url);
  const form = isForm(input.headers.get("content-type")) || input.body.length === 0;
  let params = new URLSearchParams();
  if (form) {
    try {
      params = new URLSearchParams(decoder.decode(input.body));
    } catch {
      return unauthorized("body is not valid UTF-8");
    }
  } else {
    // Outside a form, only the bodySHA256 query parameter ties the body to the signature.
    const claimed = new URLSearchParams(query).get("bodySHA256");
    if (!claimed) return unauthorized("body not covered: no bodySHA256 in the URL");
    if (claimed.toLowerCase() !== await sha256Hex(input.body)) {
      return unauthorized("invalid signature");
    }
  }
  const tail = parameterString(params);
  let index = -1;
  for (const url of signedUrls(publicUrl, query)) {
    index = await verifyAnyHmac(keys, [signature], encoder.encode(url + tail));
    if (index >= 0) break;
  }
  if (index < 0) return unauthorized("invalid signature");

  let event = "webhook";
  if (form) {
    const call = params.get("CallStatus");
    const message = params.get("MessageStatus") ?? params.get("SmsStatus");
    if (call) event = `call.${call}`;
    else if (message) event = `message.${message}`;
  } else {
    const parsed = parseJsonBody(input.body);
    if (isRejected(parsed)) return parsed;
    event = readPath(parsed.value, "type") ?? event;
  }
  return {
    ok: true,
    event,
    deliveryId: singleHeader(input.headers, "i-twilio-idempotency-token") ?? undefined,
    verifiedBy: verifiedBy(index),
    replayKey: encoder.encode(query + tail),
    payload: input.body,
    contentType: input.headers.get("content-type") ?? "application/x-www-form-urlencoded",
  };
}

/** The `twilio` provider. */
export const twilio: Provider = {
  name: "twilio",
  summary:
    "Twilio: X-Twilio-Signature (HMAC-SHA1, base64) over PUBLIC_URL + sorted form parameters",
  secret: "required",
  settings: { PUBLIC_URL: publicUrlSetting("Twilio") },
  async create(endpoint) {
    const publicUrl = readPublicUrl(endpoint, "Twilio");
    const keys = await importHmacKeys(endpoint.secrets, "sha1");
    return (input) => verifyTwilio(input, keys, publicUrl);
  },
  async sign(endpoint, body, options) {
    const [url] = signedUrls(endpoint.settings.PUBLIC_URL ?? "", rawQuery(options.url ?? ""));
    let params: URLSearchParams;
    try {
      params = new URLSearchParams(decoder.decode(body));
    } catch {
      throw new Error(
        "The twilio provider signs form bodies: the body is not UTF-8 name=value&… text",
      );
    }
    const data = encoder.encode((url ?? "") + parameterString(params));
    return {
      "Content-Type": "application/x-www-form-urlencoded",
      "I-Twilio-Idempotency-Token": options.deliveryId ?? crypto.randomUUID(),
      "X-Twilio-Signature": await signEncoded(endpoint.secrets[0], "sha1", data, "base64"),
    };
  },
};
