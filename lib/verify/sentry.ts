/**
 * Sentry: hex HMAC-SHA256 of the body in `Sentry-Hook-Signature`.
 * `Sentry-Hook-Timestamp` is not signed, so no replay window can rest on it.
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
