/**
 * Linear: hex HMAC-SHA256 of the body in `Linear-Signature`. The body's signed
 * `webhookTimestamp` (ms) is held to `TOLERANCE` (5m as for every sender;
 * Linear's SDK uses 1m); `hookd sign` cannot refresh it, so sign a recent body.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `linear` provider. */
export const linear: Provider = bodyHmacProvider({
  name: "linear",
  summary:
    "Linear: Linear-Signature (HMAC-SHA256, hex), webhookTimestamp window, Linear-Event + .action",
  header: "Linear-Signature",
  hash: "sha256",
  timestampField: "webhookTimestamp",
  eventField: "type",
  eventHeader: "Linear-Event",
  withAction: true,
  sampleEvent: "Issue",
  deliveryHeader: "Linear-Delivery",
});
