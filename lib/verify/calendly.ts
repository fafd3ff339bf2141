/**
 * Calendly: `Calendly-Webhook-Signature: t=<seconds>,v1=<hex>`, the hex
 * HMAC-SHA256 of `<t>.<raw body>` keyed with the webhook signing key.
 * Entries are comma-separated; unknown ones are skipped and any `v1` may
 * match. `t` must lie within `TOLERANCE` of now. The event is the body's
 * `event` (`invitee.created`); Calendly sends no delivery id.
 *
 * Replays: stale after `TOLERANCE`; within it, with no delivery id, the
 * replay key is the body.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { pairHeaderProvider } from "./_pair_header.ts";
import { readDuration } from "./_settings.ts";

/** The `calendly` provider. */
export const calendly: Provider = pairHeaderProvider({
  name: "calendly",
  summary:
    "Calendly: Calendly-Webhook-Signature t=…,v1=<hex of t.body>, timestamp window, event from event",
  header: "Calendly-Webhook-Signature",
  separator: ",",
  timestamp: { key: "t", joiner: "." },
  signature: "v1",
  event: "event",
  withAction: true,
  keepContentType: true,
  lenient: true,
  tolerance: (endpoint) => readDuration(endpoint, "TOLERANCE", "5m"),
});
