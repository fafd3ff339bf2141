/**
 * IP Fabric: hex HMAC-SHA256 of the body in `X-IPF-Signature`. Test deliveries
 * carry `"test": true`, which a hook may read.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { readPath } from "./_payload.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
import { FALLBACK_EVENT } from "./_event.ts";

/** `<type>.<action>.<status>`, the parts present; none without a `type`. */
function ipfabricEvent(payload: unknown): string | undefined {
  const parts = ["type", "action", "status"].map((key) => readPath(payload, key));
  return parts[0] ? parts.filter(Boolean).join(".") : undefined;
}

/** The `ipfabric` provider. */
export const ipfabric: Provider = bodyHmacProvider({
  name: "ipfabric",
  summary: "IP Fabric: X-IPF-Signature (HMAC-SHA256, hex), event <type>.<action>.<status>",
  header: "X-IPF-Signature",
  hash: "sha256",
  eventField: ipfabricEvent,
  eventFallback: FALLBACK_EVENT,
});
