/**
 * Bitbucket: `X-Hub-Signature: sha256=<hex>` of the body (GitHub's SHA-1
 * header name: the prefix is read, and SHA-512 is taken too). Delivery id:
 * Cloud's `X-Request-UUID`, or Data Center's `X-Request-Id`.
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
