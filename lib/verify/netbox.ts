/**
 * NetBox: HMAC-SHA512 of the raw body, hex, in `X-Hook-Signature`
 * (`extras/webhooks.py`, `generate_signature`). The event is
 * `<model>.<event>` (`site.created`; `event` is `created`, `updated`,
 * `deleted` or a job event). NetBox up to 4.3 writes the bare `model`
 * (`site`); 4.4 added `object_type` (`dcim.site`) beside it (netbox#20029)
 * and a later release dropped `model` (netbox#20088), so the model is
 * taken from either and event names stay the same across upgrades.
 *
 * NetBox sends no delivery id: `request_id` (4.6: `request.id`) is shared
 * by every change one API request made, so it must not be mistaken for
 * one. A custom body template without these fields gives the event
 * `webhook`.
 *
 * Replays: only the body is signed and NetBox sends no delivery id or
 * signed time, so the replay key is the body (NetBox's body carries a
 * `timestamp`, so distinct changes differ; a custom body template should
 * keep one).
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { acceptedBody, isRejected, parseJsonBody, readPath } from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";
import { signEncoded } from "./_hub.ts";
import { FALLBACK_EVENT } from "./_event.ts";

/**
 * The event name of a NetBox body.
 *
 * @param payload the parsed body
 * @returns `<model>.<event>`, or `undefined` when either is missing
 */
export function netboxEvent(payload: unknown): string | undefined {
  const model = readPath(payload, "object_type")?.split(".").at(-1) ??
    readPath(payload, "model");
  const event = readPath(payload, "event");
  return model && event ? `${model}.${event}` : undefined;
}

/**
 * Verify a NetBox delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA512 keys, current secret first
 * @returns the verdict; event `<model>.<event>`, no delivery id
 */
export async function verifyNetbox(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "X-Hook-Signature",
    hash: "sha512",
    encoding: "hex",
  });
  if ("ok" in checked) return checked;
  const parsed = parseJsonBody(input.body);
  return acceptedBody(input, {
    parsed,
    event: (isRejected(parsed) ? undefined : netboxEvent(parsed.value)) ?? FALLBACK_EVENT,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
}

/** The `netbox` provider. */
export const netbox: Provider = {
  name: "netbox",
  summary: "NetBox: X-Hook-Signature (HMAC-SHA512, hex), event <model>.<event>",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha512");
    return (input) => verifyNetbox(input, keys);
  },
  async sign(endpoint, body) {
    return {
      "Content-Type": "application/json",
      "X-Hook-Signature": await signEncoded(endpoint.secrets[0], "sha512", body, "hex"),
    };
  },
};
