/**
 * Linear: hex HMAC-SHA256 of the raw body in `Linear-Signature`. The event
 * is the signed body's `type` (e.g. `Issue`; the unsigned `Linear-Event`
 * header, which repeats it, only when the body has none) plus its `action`
 * (`Issue.create`); the delivery id is `Linear-Delivery`, not signed. The replay
 * window rests on the body's `webhookTimestamp` (milliseconds), which the
 * signature covers; it must lie within `TOLERANCE` of now (Linear's SDK
 * uses one minute; the default here is 5m like every other sender). As
 * that time is in the body, `hookd sign` cannot refresh it: the body given
 * must carry a recent one.
 *
 * Replays: stale after `TOLERANCE`; within it only the body identifies a
 * delivery (the id is an unsigned header), so the replay key is the body.
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
