/**
 * NetBox: HMAC-SHA512 of the raw body, hex, in `X-Hook-Signature`. The event
 * is `<model>.<event>` (`site.created`); NetBox 4 writes `object_type`
 * (`dcim.site`) where older releases wrote `model`.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { isRejected, malformed, parseJsonBody, readPath } from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";

/**
 * Verify a NetBox delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA512 keys, current secret first
 * @returns the verdict; event `<model>.<event>`, delivery id `request_id`
 */
export async function verifyNetbox(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "x-hook-signature",
    hash: "sha512",
    encoding: "hex",
  });
  if ("ok" in checked) return checked;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const model = readPath(parsed.value, "model") ??
    readPath(parsed.value, "object_type")?.split(".").at(-1);
  const event = readPath(parsed.value, "event");
  if (!model || !event) return malformed("payload has no model/object_type or event");
  return {
    ok: true,
    event: `${model}.${event}`,
    deliveryId: readPath(parsed.value, "request_id"),
    verifiedBy: checked.verifiedBy,
    payload: input.body,
    contentType: input.headers.get("content-type") ?? "application/json",
  };
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
};
