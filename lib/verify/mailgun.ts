/**
 * Mailgun: the signature is in the body (`signature.{timestamp,token,signature}`,
 * or top-level form fields), an HMAC-SHA256 of timestamp + token only. As the
 * event is not signed, a captured block verifies under any body: the signed,
 * per-delivery token is therefore the delivery id (a reuse is a duplicate within
 * `TOLERANCE`, stale after), never the body's `event-data.id`.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { decodeAll, importHmacKeys, signedBytes, verifiedBy, verifyAnyHmac } from "./_hmac.ts";
import { isForm, isRejected, parseJsonBody, readPath, unauthorized } from "./_payload.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

interface Fields {
  timestamp?: string;
  token?: string;
  signature?: string;
  event?: string;
}

function jsonFields(body: Uint8Array): Fields | undefined {
  const parsed = parseJsonBody(body);
  if (isRejected(parsed)) return undefined;
  const value = parsed.value;
  const event = readPath(value, "event-data.event");
  const severity = readPath(value, "event-data.severity");
  return {
    timestamp: readPath(value, "signature.timestamp"),
    token: readPath(value, "signature.token"),
    signature: readPath(value, "signature.signature"),
    event: event === "failed" && severity ? `failed.${severity}` : event,
  };
}

function formFields(body: Uint8Array): Fields | undefined {
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(decoder.decode(body));
  } catch {
    return undefined;
  }
  const one = (name: string) => form.getAll(name).length === 1 ? form.get(name)! : undefined;
  return {
    timestamp: one("timestamp"),
    token: one("token"),
    signature: one("signature"),
    event: one("event"),
  };
}

async function verifyMailgun(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const form = isForm(input.headers.get("content-type"));
  const fields = form ? formFields(input.body) : jsonFields(input.body);
  // Without a readable body there is no signature to check: not authenticated.
  if (!fields?.signature || fields.timestamp === undefined || !fields.token) {
    return unauthorized("missing signature in body");
  }
  const seconds = parseSeconds(fields.timestamp);
  if (Number.isNaN(seconds)) return unauthorized("malformed signature timestamp");
  const candidates = decodeAll([fields.signature], "hex", 32);
  if (candidates.length === 0) return unauthorized("malformed signature");
  const data = signedBytes(fields.timestamp, fields.token);
  const index = await verifyAnyHmac(keys, candidates, data);
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;
  return {
    ok: true,
    event: fields.event ?? "webhook",
    deliveryId: fields.token,
    verifiedBy: verifiedBy(index),
    replayKey: null,
    payload: input.body,
    contentType: form ? "application/x-www-form-urlencoded" : "application/json",
  };
}

/** The `mailgun` provider. */
export const mailgun: Provider = {
  name: "mailgun",
  summary:
    "Mailgun: signature{timestamp,token,signature} in the body (HMAC-SHA256), event-data.event",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyMailgun(input, keys, toleranceMs);
  },
};
