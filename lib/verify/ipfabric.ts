/**
 * IP Fabric: HMAC-SHA256 of the raw body, hex, in `X-IPF-Signature`. The
 * event is `<type>.<action>.<status>` (`snapshot.discover.completed`,
 * `intent-verification.calculate.failed`); IP Fabric sends no delivery
 * id. Test deliveries carry `"test": true` in the body, which the hook can
 * read. A custom payload template (JSON or XML) that does not carry
 * `type` gives the event `webhook`.
 *
 * Replays: only the body is signed, with no delivery id or signed time, so
 * the replay key is the body.
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
 * The event name of an IP Fabric body.
 *
 * @param payload the parsed body
 * @returns `<type>.<action>.<status>` (the parts present), or `undefined`
 *   without a `type`
 */
export function ipfabricEvent(payload: unknown): string | undefined {
  const parts = ["type", "action", "status"].map((key) => readPath(payload, key));
  return parts[0] ? parts.filter(Boolean).join(".") : undefined;
}

/**
 * Verify an IP Fabric delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict; event `<type>.<action>.<status>`
 */
export async function verifyIpfabric(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "X-IPF-Signature",
    hash: "sha256",
    encoding: "hex",
  });
  if ("ok" in checked) return checked;
  const parsed = parseJsonBody(input.body);
  return acceptedBody(input, {
    parsed,
    event: (isRejected(parsed) ? undefined : ipfabricEvent(parsed.value)) ?? FALLBACK_EVENT,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
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
  async sign(endpoint, body) {
    return {
      "Content-Type": "application/json",
      "X-IPF-Signature": await signEncoded(endpoint.secrets[0], "sha256", body, "hex"),
    };
  },
};
