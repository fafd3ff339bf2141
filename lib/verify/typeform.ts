/**
 * Typeform: HMAC-SHA256 of the raw body, base64, in `Typeform-Signature`
 * written `sha256=<base64>`. The event is the body's `event_type`
 * (`form_response`); the delivery id is the body's `event_id`.
 *
 * Replays: there is no signed timestamp, but the event and `event_id` are
 * in the signed body: a replay is a duplicate by its id (no replay key,
 * unless a body lacks `event_id`: then the body).
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
  unlessSignedId,
} from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";
import { signEncoded } from "./_hub.ts";

/**
 * Verify a Typeform delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict; event is `event_type`, delivery id `event_id`
 */
export async function verifyTypeform(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "Typeform-Signature",
    hash: "sha256",
    encoding: "base64",
    prefix: "sha256=",
  });
  if ("ok" in checked) return checked;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "event_type");
  if (!event) return malformed("payload has no event_type");
  const deliveryId = readPath(parsed.value, "event_id");
  return acceptedBody(input, {
    parsed,
    event,
    deliveryId,
    verifiedBy: checked.verifiedBy,
    replayKey: unlessSignedId(deliveryId, input.body),
  });
}

/** The `typeform` provider. */
export const typeform: Provider = {
  name: "typeform",
  summary: "Typeform: Typeform-Signature (sha256=<base64> of the body), event from event_type",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyTypeform(input, keys);
  },
  async sign(endpoint, body) {
    const signature = await signEncoded(endpoint.secrets[0], "sha256", body, "base64");
    return { "Content-Type": "application/json", "Typeform-Signature": `sha256=${signature}` };
  },
};
