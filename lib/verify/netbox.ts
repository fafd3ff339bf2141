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

import type { Provider } from "./types.ts";
import { readPath } from "./_payload.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";
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

/** The `netbox` provider. */
export const netbox: Provider = bodyHmacProvider({
  name: "netbox",
  summary: "NetBox: X-Hook-Signature (HMAC-SHA512, hex), event <model>.<event>",
  header: "X-Hook-Signature",
  hash: "sha512",
  eventField: netboxEvent,
  eventFallback: FALLBACK_EVENT,
});
