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

import type { Provider } from "./types.ts";
import { readPath } from "./_payload.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
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

/** The `ipfabric` provider. */
export const ipfabric: Provider = bodyHmacProvider({
  name: "ipfabric",
  summary: "IP Fabric: X-IPF-Signature (HMAC-SHA256, hex), event <type>.<action>.<status>",
  header: "X-IPF-Signature",
  hash: "sha256",
  eventField: ipfabricEvent,
  eventFallback: FALLBACK_EVENT,
});
