/**
 * NetBox: hex HMAC-SHA512 of the body in `X-Hook-Signature`. The model comes
 * from `object_type` or `model` (4.4 added the first, a later release dropped
 * the second), so event names survive upgrades. `request_id` is shared by every
 * change of one API request, so it is no delivery id.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { readPath } from "./_payload.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
import { FALLBACK_EVENT } from "./_event.ts";

function netboxEvent(payload: unknown): string | undefined {
  const model = readPath(payload, "object_type")?.split(".").at(-1) ??
    readPath(payload, "model");
  const event = readPath(payload, "event");
  return model && event ? `${model}.${event}` : undefined;
}

/** The `netbox` provider. */
export const netbox: Provider = bodyHmacProvider({
  name: "netbox",
  summary: "NetBox: X-Hook-Signature (HMAC-SHA512, hex), event <model>.<event>",
  header: "X-Hook-Signature",
  hash: "sha512",
  eventField: netboxEvent,
  eventFallback: FALLBACK_EVENT,
});
