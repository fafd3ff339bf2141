/**
 * Bitbucket: HMAC of the raw body, hex, in `X-Hub-Signature` written
 * `sha256=<hex>` (the same header GitHub uses for SHA-1: the prefix is
 * read; SHA-512 is taken too, since the header names its algorithm and
 * both are sound). The event is `X-Event-Key` (`repo:push`,
 * `pullrequest:created`, already carrying the action); the delivery id is
 * Cloud's `X-Request-UUID`, or Data Center's `X-Request-Id`.
 *
 * Replays: only the body is signed (no timestamp; the event and delivery id
 * are headers), so the replay key is the body.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `bitbucket` provider. */
export const bitbucket: Provider = bodyHmacProvider({
  name: "bitbucket",
  summary: "Bitbucket: X-Hub-Signature (sha256=<hex> of the body), event X-Event-Key",
  header: "X-Hub-Signature",
  hash: ["sha256", "sha512"],
  eventHeader: "X-Event-Key",
  sampleEvent: "repo:push",
  deliveryHeader: ["X-Request-UUID", "X-Request-Id"],
});
