/**
 * IP Fabric: HMAC-SHA256 of the raw body, hex, in `X-IPF-Signature`. The
 * event is `<type>.<action>.<status>` (`snapshot.discover.completed`).
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { isRejected, malformed, parseJsonBody, readPath } from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";

/**
 * Verify an IP Fabric delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict; event `<type>.<action>.<status>` (the parts
 *   present); IP Fabric sends no delivery id
 */
export async function verifyIpfabric(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "x-ipf-signature",
    hash: "sha256",
    encoding: "hex",
  });
  if ("ok" in checked) return checked;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const parts = ["type", "action", "status"].map((key) => readPath(parsed.value, key));
  if (!parts[0]) return malformed("payload has no type");
  return {
    ok: true,
    event: parts.filter(Boolean).join("."),
    verifiedBy: checked.verifiedBy,
    payload: input.body,
    contentType: input.headers.get("content-type") ?? "application/json",
  };
}

/** The `ipfabric` provider. */
export const ipfabric: Provider = {
  name: "ipfabric",
  summary: "IP Fabric: X-IPF-Signature (HMAC-SHA256, hex), event <type>.<action>.<status>",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyIpfabric(input, keys);
  },
};
