/**
 * Linear: hex HMAC-SHA256 of the raw body in `Linear-Signature`. The event
 * is the signed body's `type` (e.g. `Issue`; the unsigned `Linear-Event`
 * header, which repeats it, only when the body has none) plus its `action`
 * (`Issue.create`); the delivery id is `Linear-Delivery`, not signed. The replay
 * window rests on the body's `webhookTimestamp` (milliseconds), which the
 * signature covers; it must lie within `TOLERANCE` of now (Linear's SDK
 * uses one minute; the default here is 5m like every other sender).
 *
 * Replays: stale after `TOLERANCE`; within it only the body identifies a
 * delivery (the id is an unsigned header), so the replay key is the body.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import {
  acceptedBody,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
  withAction,
} from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";
import { signEncoded } from "./_hub.ts";
import { checkTimestamp, TOLERANCE_SETTING } from "./_timestamp.ts";
import { readDuration } from "./_settings.ts";

/**
 * Verify a Linear delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @param toleranceMs how far `webhookTimestamp` may be from now, either way
 * @returns the verdict; event is `<type>.<action>`
 */
export async function verifyLinear(
  input: VerifyInput,
  keys: CryptoKey[],
  toleranceMs: number,
): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "Linear-Signature",
    hash: "sha256",
    encoding: "hex",
  });
  if ("ok" in checked) return checked;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const sent = (parsed.value as { webhookTimestamp?: unknown } | null)?.webhookTimestamp;
  if (typeof sent !== "number") return unauthorized("missing webhookTimestamp");
  const stale = checkTimestamp(sent / 1000, input.now, toleranceMs);
  if (stale) return stale;
  const type = readPath(parsed.value, "type") || singleHeader(input.headers, "linear-event");
  if (!type) return malformed("missing Linear-Event");
  return acceptedBody(input, {
    parsed,
    event: withAction(type, parsed.value),
    deliveryId: singleHeader(input.headers, "linear-delivery") ?? undefined,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
}

/** The `linear` provider. */
export const linear: Provider = {
  name: "linear",
  summary:
    "Linear: Linear-Signature (HMAC-SHA256, hex), webhookTimestamp window, Linear-Event + .action",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const tolerance = readDuration(endpoint, "TOLERANCE", "5m");
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyLinear(input, keys, tolerance);
  },
  // The timestamp lives in the signed body, so `hookd sign` cannot refresh
  // it: the body given must carry a recent `webhookTimestamp`.
  async sign(endpoint, body, options) {
    const parsed = parseJsonBody(body);
    const type = isRejected(parsed) ? undefined : readPath(parsed.value, "type");
    return {
      "Content-Type": "application/json",
      "Linear-Event": options.event ?? type ?? "Issue",
      "Linear-Delivery": options.deliveryId ?? crypto.randomUUID(),
      "Linear-Signature": await signEncoded(endpoint.secrets[0], "sha256", body, "hex"),
    };
  },
};
