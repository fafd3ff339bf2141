/**
 * Jira: `X-Hub-Signature: <hash>=<hex>` of the body, the hash read from the
 * prefix, never assumed. `X-Atlassian-Webhook-Identifier` is kept across retries.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `jira` provider. */
export const jira: Provider = bodyHmacProvider({
  name: "jira",
  summary: "Jira: X-Hub-Signature (sha256=<hex> of the body), event from webhookEvent",
  header: "X-Hub-Signature",
  hash: ["sha256", "sha512"],
  eventField: "webhookEvent",
  withAction: true,
  deliveryHeader: "X-Atlassian-Webhook-Identifier",
});
