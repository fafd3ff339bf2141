/**
 * Jira: HMAC of the raw body, hex, in `X-Hub-Signature` written
 * `<method>=<hex>` where the method is the hash (`sha256` today; the
 * prefix is read, never assumed). The event is the body's `webhookEvent`
 * (`jira:issue_created`); the delivery id is
 * `X-Atlassian-Webhook-Identifier`, which is kept across retries.
 *
 * Replays: the event is in the signed body, but there is no signed
 * timestamp and the delivery id is a header, so the replay key is the body.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import {
  acceptedBody,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  withAction,
} from "./_payload.ts";
import { type HubKeys, importHubKeys, signHub, verifyHubSignature } from "./_hub.ts";

/**
 * Verify a Jira delivery.
 *
 * @param input the delivery
 * @param keys SHA-256 (and SHA-512) keys, current secret first
 * @returns the verdict; event is `webhookEvent` (plus `.action` if any)
 */
export async function verifyJira(input: VerifyInput, keys: HubKeys): Promise<Verdict> {
  const checked = await verifyHubSignature(input, "X-Hub-Signature", keys);
  if (isRejected(checked)) return checked;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, "webhookEvent");
  if (!event) return malformed("payload has no webhookEvent");
  return acceptedBody(input, {
    parsed,
    event: withAction(event, parsed.value),
    deliveryId: singleHeader(input.headers, "x-atlassian-webhook-identifier") ?? undefined,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
}

/** The `jira` provider. */
export const jira: Provider = {
  name: "jira",
  summary: "Jira: X-Hub-Signature (sha256=<hex> of the body), event from webhookEvent",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHubKeys(endpoint.secrets, ["sha256", "sha512"]);
    return (input) => verifyJira(input, keys);
  },
  async sign(endpoint, body, options) {
    return {
      "Content-Type": "application/json",
      "X-Atlassian-Webhook-Identifier": options.deliveryId ?? crypto.randomUUID(),
      "X-Hub-Signature": await signHub(endpoint.secrets[0], "sha256", body),
    };
  },
};
