/**
 * Sentry (integration platform): hex HMAC-SHA256 of the raw body, keyed
 * with the integration's client secret, in `Sentry-Hook-Signature`. The
 * event is `Sentry-Hook-Resource` plus the body's `action`
 * (`issue.created`); the delivery id is `Request-ID`.
 * `Sentry-Hook-Timestamp` is not covered by the signature, so no replay
 * window can rest on it.
 *
 * Replays: only the body is signed (resource, request id and timestamp are
 * headers), so the replay key is the body.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `sentry` provider. */
export const sentry: Provider = bodyHmacProvider({
  name: "sentry",
  summary:
    "Sentry: Sentry-Hook-Signature (HMAC-SHA256, hex), event <Sentry-Hook-Resource>.<action>",
  header: "Sentry-Hook-Signature",
  hash: "sha256",
  eventHeader: "Sentry-Hook-Resource",
  withAction: true,
  sampleEvent: "issue",
  deliveryHeader: "Request-ID",
  signHeaders: (_body, options) => ({
    "Sentry-Hook-Timestamp": String(Math.floor(options.now / 1000)),
  }),
});
