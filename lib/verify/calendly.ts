/**
 * Calendly: `Calendly-Webhook-Signature: t=…,v1=…`, read leniently (see
 * `lenient`). Calendly sends no delivery id, so the body is the replay key.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { pairHeaderProvider } from "./_pair_header.ts";

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
});
