/**
 * Jira: HMAC of the raw body, hex, in `X-Hub-Signature` written
 * `<method>=<hex>` where the method is the hash (`sha256` today; the
 * prefix is read, never assumed). The event is the body's `webhookEvent`
 * (`jira:issue_created`, plus `.action` if any); the delivery id is
 * `X-Atlassian-Webhook-Identifier`, which is kept across retries.
 *
 * Replays: the event is in the signed body, but there is no signed
 * timestamp and the delivery id is a header, so the replay key is the body.
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
