/**
 * Calendly: `Calendly-Webhook-Signature: t=<seconds>,v1=<hex>`, the hex
 * HMAC-SHA256 of `<t>.<raw body>` keyed with the webhook signing key.
 * Entries are comma-separated; unknown ones are skipped and any `v1` may
 * match. `t` must lie within `TOLERANCE` of now. The event is the body's
 * `event` (`invitee.created`); Calendly sends no delivery id.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { decodeSignature, importHmacKeys, verifiedBy, verifyHmac } from "./_hmac.ts";
import {
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
  withAction,
} from "./_payload.ts";
import { signEncoded } from "./_hub.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING } from "./_timestamp.ts";
import { readDuration } from "./_settings.ts";

const HEADER = "Calendly-Webhook-Signature";
const encoder = new TextEncoder();

/** The parts of a `t=…,v1=…` header. */
interface Parts {
  timestamp: string;
  signatures: Uint8Array[];
}

function concat(head: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function parseHeader(value: string): Parts | undefined {
  let timestamp: string | undefined;
  const signatures: Uint8Array[] = [];
  for (const entry of value.split(",")) {
    const equals = entry.indexOf("=");
    if (equals < 0) continue;
    const key = entry.slice(0, equals).trim();
    const text = entry.slice(equals + 1).trim();
    if (key === "t") timestamp = text;
    if (key !== "v1") continue;
    const signature = decodeSignature(text, "hex");
    if (signature?.length === 32) signatures.push(signature);
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

/**
 * Verify a Calendly delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @param toleranceMs how far `t` may be from now, either way
 * @returns the verdict; event is the body's `event`
 */
export async function verifyCalendly(
  input: VerifyInput,
  keys: CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const value = singleHeader(input.headers, HEADER);
  if (value === undefined) return unauthorized(`missing ${HEADER}`);
  if (value === null) return unauthorized(`${HEADER} sent more than once`);
  const parts = parseHeader(value);
  if (!parts) return unauthorized(`malformed ${HEADER}`);
  const seconds = parseSeconds(parts.timestamp);
  if (Number.isNaN(seconds)) return unauthorized("malformed timestamp");
  const signed = concat(encoder.encode(`${parts.timestamp}.`), input.body);
  let index = -1;
  for (const signature of parts.signatures) {
    const found = await verifyHmac(keys, signature, signed);
    if (found >= 0 && (index < 0 || found < index)) index = found;
  }
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "event");
  if (!event) return malformed("payload has no event");
  return {
    ok: true,
    event: withAction(event, parsed.value),
    verifiedBy: verifiedBy(index),
    payload: input.body,
    contentType: input.headers.get("content-type") ?? "application/json",
  };
}

/** The `calendly` provider. */
export const calendly: Provider = {
  name: "calendly",
  summary:
    "Calendly: Calendly-Webhook-Signature t=…,v1=<hex of t.body>, timestamp window, event from event",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const tolerance = readDuration(endpoint, "TOLERANCE", "5m");
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyCalendly(input, keys, tolerance);
  },
  async sign(endpoint, body, options) {
    const t = String(Math.floor(options.now / 1000));
    const signed = concat(encoder.encode(`${t}.`), body);
    const v1 = await signEncoded(endpoint.secrets[0], "sha256", signed, "hex");
    return { "Content-Type": "application/json", [HEADER]: `t=${t},v1=${v1}` };
  },
};
