/**
 * Slack: `X-Slack-Signature: v0=<hex>`, an HMAC-SHA256 of
 * `v0:<X-Slack-Request-Timestamp>:<raw body>` under the app's signing
 * secret. The Events API's `url_verification` challenge is answered here.
 *
 * Events: Events API deliveries are the inner `event.type` (plus
 * `.subtype` for message subtypes), delivery id `event_id`; interactivity
 * posts a form whose `payload` JSON has a `type` (`block_actions`,
 * `view_submission`…), which is what the hook gets; slash commands are
 * `command.<name>` (`/deploy` is `command.deploy`) with the raw form.
 *
 * @module
 */

import type { Accepted, Provider, Rejected, Verdict, VerifyInput } from "./types.ts";
import { encodeSignature, importHmacKeys, signHmac, verifiedBy } from "./_hmac.ts";
import {
  isForm,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
} from "./_payload.ts";
import { decodeAll, signedBytes, verifyAnyHmac } from "./_signatures.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * Verify a Slack request with already-imported keys.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current signing secret first
 * @param toleranceMs the replay window either way
 * @returns the verdict; a `url_verification` challenge carries its reply
 */
export async function verifySlack(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const timestamp = singleHeader(input.headers, "x-slack-request-timestamp");
  const header = singleHeader(input.headers, "x-slack-signature");
  if (timestamp === undefined) return unauthorized("missing X-Slack-Request-Timestamp");
  if (header === undefined) return unauthorized("missing X-Slack-Signature");
  if (timestamp === null) return unauthorized("X-Slack-Request-Timestamp sent more than once");
  if (header === null) return unauthorized("X-Slack-Signature sent more than once");
  const seconds = parseSeconds(timestamp);
  if (Number.isNaN(seconds)) return unauthorized("malformed X-Slack-Request-Timestamp");
  const candidates = header.startsWith("v0=") ? decodeAll([header.slice(3)], "hex", 32) : [];
  if (candidates.length === 0) return unauthorized("malformed X-Slack-Signature");
  const data = signedBytes("v0:", timestamp, ":", input.body);
  const index = await verifyAnyHmac(keys, candidates, data);
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;
  return isForm(input.headers.get("content-type"))
    ? formVerdict(input.body, verifiedBy(index))
    : jsonVerdict(input.body, verifiedBy(index));
}

function jsonVerdict(body: Uint8Array, by: Accepted["verifiedBy"]): Verdict {
  const parsed = parseJsonBody(body);
  if (isRejected(parsed)) return parsed;
  const type = readPath(parsed.value, "type");
  if (!type) return malformed("payload has no type");
  const accepted: Accepted = {
    ok: true,
    event: type,
    verifiedBy: by,
    payload: body,
    contentType: "application/json",
  };
  if (type === "url_verification") {
    const challenge = readPath(parsed.value, "challenge");
    if (!challenge) return malformed("url_verification has no challenge");
    return { ...accepted, reply: { status: 200, body: { challenge } } };
  }
  if (type === "event_callback") {
    const inner = readPath(parsed.value, "event.type");
    if (!inner) return malformed("event_callback has no event.type");
    const subtype = readPath(parsed.value, "event.subtype");
    accepted.event = subtype ? `${inner}.${subtype}` : inner;
    accepted.deliveryId = readPath(parsed.value, "event_id");
  }
  return accepted;
}

function formVerdict(body: Uint8Array, by: Accepted["verifiedBy"]): Accepted | Rejected {
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(decoder.decode(body));
  } catch {
    return malformed("body is not valid UTF-8");
  }
  const interaction = form.get("payload");
  if (interaction !== null) {
    const payload = encoder.encode(interaction);
    const parsed = parseJsonBody(payload);
    if (isRejected(parsed)) return parsed;
    const type = readPath(parsed.value, "type");
    if (!type) return malformed("interaction payload has no type");
    return { ok: true, event: type, verifiedBy: by, payload, contentType: "application/json" };
  }
  const contentType = "application/x-www-form-urlencoded";
  const command = form.get("command");
  if (command) {
    const event = `command.${command.replace(/^\//, "")}`;
    return { ok: true, event, verifiedBy: by, payload: body, contentType };
  }
  if (form.get("ssl_check") === "1") {
    return {
      ok: true,
      event: "ssl_check",
      verifiedBy: by,
      payload: body,
      contentType,
      reply: { status: 200, body: "" },
    };
  }
  return malformed("form has no payload, command or ssl_check");
}

/** The `slack` provider. */
export const slack: Provider = {
  name: "slack",
  summary: "Slack: X-Slack-Signature v0=<hex> over v0:timestamp:body, answers url_verification",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifySlack(input, keys, toleranceMs);
  },
  async sign(endpoint, body, options) {
    const [key] = await importHmacKeys(endpoint.secrets.slice(0, 1), "sha256");
    const timestamp = String(Math.floor(options.now / 1000));
    const mac = await signHmac(key, signedBytes("v0:", timestamp, ":", body));
    // Slack posts JSON for the Events API and forms for everything else.
    const json = body.find((byte) => byte > 0x20) === 0x7b;
    return {
      "Content-Type": json ? "application/json" : "application/x-www-form-urlencoded",
      "X-Slack-Request-Timestamp": timestamp,
      "X-Slack-Signature": `v0=${encodeSignature(mac, "hex")}`,
    };
  },
};
