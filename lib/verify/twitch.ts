/**
 * Twitch EventSub: `sha256=<hex>` of message id + timestamp (RFC 3339) + body,
 * the time held to `TOLERANCE` (10m, as Twitch advises); the signed message id
 * is the delivery id. The verification challenge is answered here. The message
 * type header is not signed, so the signed body must agree with it: a captured
 * verification resent as a notification is refused 400.
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
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  requiredHeaders,
  singleHeader,
  unauthorized,
} from "./_payload.ts";
import { checkTimestamp, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

const ID = "Twitch-Eventsub-Message-Id";
const TIMESTAMP = "Twitch-Eventsub-Message-Timestamp";
const SIGNATURE = "Twitch-Eventsub-Message-Signature";
const TYPE = "Twitch-Eventsub-Message-Type";

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Read an RFC 3339 timestamp as Twitch writes it, nanoseconds included:
 * seconds since the epoch (fractional), or `NaN` when not RFC 3339.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRfc3339 } from "./twitch.ts";
 * assert.equal(parseRfc3339("2023-11-14T22:13:20.123456789Z"), 1_700_000_000.123);
 * assert.ok(Number.isNaN(parseRfc3339("1700000000")));
 * ```
 */
export function parseRfc3339(text: string): number {
  const match = RFC3339.exec(text);
  if (!match) return NaN;
  const millis = (match[2] ?? "").slice(0, 3).padEnd(3, "0");
  const ms = Date.parse(`${match[1]}.${millis}${match[3].toUpperCase()}`);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

async function verifyTwitch(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const values = requiredHeaders(input.headers, [SIGNATURE, ID, TIMESTAMP]);
  if (isRejected(values)) return values;
  const header = values[SIGNATURE];
  const candidates = header.startsWith("sha256=") ? decodeAll([header.slice(7)], "hex", 32) : [];
  if (candidates.length === 0) return unauthorized(`malformed ${SIGNATURE}`);
  const seconds = parseRfc3339(values[TIMESTAMP]);
  if (Number.isNaN(seconds)) return unauthorized(`malformed ${TIMESTAMP}`);
  const data = signedBytes(values[ID], values[TIMESTAMP], input.body);
  const index = await verifyAnyHmac(keys, candidates, data);
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const subscription = readPath(parsed.value, "subscription.type");
  if (!subscription) return malformed("payload has no subscription.type");
  const accepted = {
    ok: true as const,
    deliveryId: values[ID],
    verifiedBy: verifiedBy(index),
    // The message id is signed: deduping on it stops replays.
    replayKey: null,
    payload: input.body,
    contentType: "application/json",
  };
  const type = singleHeader(input.headers, TYPE);
  const mismatch = typeMismatch(type, parsed.value);
  if (mismatch) return malformed(mismatch);
  switch (type) {
    case "notification":
      return { ...accepted, event: subscription };
    case "revocation":
      return { ...accepted, event: `revocation.${subscription}` };
    case "webhook_callback_verification": {
      const challenge = readPath(parsed.value, "challenge");
      if (!challenge) return malformed("verification payload has no challenge");
      return {
        ...accepted,
        event: "webhook_callback_verification",
        reply: { status: 200, body: challenge },
      };
    }
    default:
      return malformed(type ? `unknown ${TYPE}` : `missing ${TYPE}`);
  }
}

const PENDING = "webhook_callback_verification_pending";

/**
 * Why the signed body cannot be a message of this (unsigned) type: a
 * captured verification or revocation resent as a notification, or the
 * other way round. Twitch writes `subscription.status` into every message
 * (`enabled` in notifications, `webhook_callback_verification_pending` in
 * verifications, the reason in revocations), and only verifications carry
 * a `challenge`. A body without a status (a hand-signed test) passes.
 */
function typeMismatch(type: string | null | undefined, body: unknown): string | undefined {
  // A verification is judged by its challenge below: a notification resent as one has none.
  if (type !== "notification" && type !== "revocation") return undefined;
  const status = readPath(body, "subscription.status");
  const agrees = status === undefined ||
    (type === "notification" ? status === "enabled" : status !== "enabled" && status !== PENDING);
  if (!agrees) {
    return `subscription.status "${status!.slice(0, 60)}" does not match ${TYPE} ${type}`;
  }
  const challenge = typeof body === "object" && body !== null && Object.hasOwn(body, "challenge");
  if (challenge) {
    return `a ${type} carries no challenge: this body is a webhook_callback_verification`;
  }
  return undefined;
}

/** The `twitch` provider. */
export const twitch: Provider = {
  name: "twitch",
  summary:
    "Twitch EventSub: Twitch-Eventsub-Message-Signature (sha256= of id + timestamp + body); answers the callback verification",
  secret: "required",
  settings: { TOLERANCE: { ...TOLERANCE_SETTING, default: "10m" } },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyTwitch(input, keys, toleranceMs);
  },
  async sign(endpoint, body, options) {
    const id = options.deliveryId ?? crypto.randomUUID();
    const timestamp = new Date(options.now).toISOString();
    const mac = await signEncoded(
      endpoint.secrets[0],
      "sha256",
      signedBytes(id, timestamp, body),
      "hex",
    );
    return {
      "Content-Type": "application/json",
      [ID]: id,
      [TIMESTAMP]: timestamp,
      [TYPE]: "notification",
      ...options.event && { "Twitch-Eventsub-Subscription-Type": options.event },
      [SIGNATURE]: `sha256=${mac}`,
    };
  },
};
