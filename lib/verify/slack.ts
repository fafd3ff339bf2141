/**
 * Slack: `X-Slack-Signature: v0=<hex>` over `v0:<timestamp>:<body>`; the
 * `url_verification` challenge is answered here. Events API deliveries are
 * deduped by their signed `event_id`; interactions and slash commands carry no
 * id, so the signed form is their replay key.
 *
 * @module
 */

import type { Accepted, Provider, Rejected, Verdict } from "./types.ts";
import {
  isForm,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  unlessSignedId,
} from "./_payload.ts";
import { TOLERANCE_SETTING } from "./_timestamp.ts";
import { createV0Verifier, signV0, type V0Scheme } from "./_v0_signature.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

const SCHEME: V0Scheme = {
  signature: "X-Slack-Signature",
  timestamp: "X-Slack-Request-Timestamp",
  timestampFirst: true,
  verdict(input, _key, by) {
    return isForm(input.headers.get("content-type"))
      ? formVerdict(input.body, by)
      : jsonVerdict(input.body, by);
  },
};

function jsonVerdict(body: Uint8Array, by: Accepted["verifiedBy"]): Verdict {
  const parsed = parseJsonBody(body);
  if (isRejected(parsed)) return parsed;
  const type = readPath(parsed.value, "type");
  if (!type) return malformed("payload has no type");
  const accepted: Accepted = {
    ok: true,
    event: type,
    verifiedBy: by,
    replayKey: body,
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
    accepted.replayKey = unlessSignedId(accepted.deliveryId, body);
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
    return {
      ok: true,
      event: type,
      verifiedBy: by,
      replayKey: body,
      payload,
      contentType: "application/json",
    };
  }
  const contentType = "application/x-www-form-urlencoded";
  const command = form.get("command");
  if (command) {
    const event = `command.${command.replace(/^\//, "")}`;
    return { ok: true, event, verifiedBy: by, replayKey: body, payload: body, contentType };
  }
  if (form.get("ssl_check") === "1") {
    return {
      ok: true,
      event: "ssl_check",
      verifiedBy: by,
      replayKey: body,
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
  create(endpoint) {
    return createV0Verifier(endpoint, SCHEME);
  },
  async sign(endpoint, body, options) {
    // Slack posts JSON for the Events API and forms for everything else.
    const json = body.find((byte) => byte > 0x20) === 0x7b;
    return {
      "Content-Type": json ? "application/json" : "application/x-www-form-urlencoded",
      ...await signV0(endpoint.secrets[0], body, options.now, SCHEME),
    };
  },
};
