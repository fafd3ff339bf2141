/**
 * Bitbucket: HMAC of the raw body, hex, in `X-Hub-Signature` written
 * `sha256=<hex>` (the same header GitHub uses for SHA-1: the prefix is
 * read). The event is `X-Event-Key` (`repo:push`, `pullrequest:created`);
 * the delivery id is Cloud's `X-Request-UUID`, or Data Center's
 * `X-Request-Id`.
 *
 * Replays: only the body is signed (no timestamp; the event and delivery id
 * are headers), so the replay key is the body.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { acceptedBody, isRejected, malformed, singleHeader } from "./_payload.ts";
import { type HubKeys, importHubKeys, signHub, verifyHubSignature } from "./_hub.ts";

/**
 * Verify a Bitbucket delivery.
 *
 * @param input the delivery
 * @param keys SHA-256 (and SHA-512) keys, current secret first
 * @returns the verdict; event is `X-Event-Key`, already carrying the action
 */
export async function verifyBitbucket(input: VerifyInput, keys: HubKeys): Promise<Verdict> {
  const checked = await verifyHubSignature(input, "X-Hub-Signature", keys);
  if (isRejected(checked)) return checked;
  const event = singleHeader(input.headers, "x-event-key");
  if (!event) return malformed("missing X-Event-Key");
  const deliveryId = singleHeader(input.headers, "x-request-uuid") ??
    singleHeader(input.headers, "x-request-id") ?? undefined;
  return acceptedBody(input, {
    event,
    deliveryId,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
}

/** The `bitbucket` provider. */
export const bitbucket: Provider = {
  name: "bitbucket",
  summary: "Bitbucket: X-Hub-Signature (sha256=<hex> of the body), event X-Event-Key",
  secret: "required",
  settings: {},
  async create(endpoint) {
    // SHA-256 is what Bitbucket sends; SHA-512 is taken too because the
    // header names its algorithm and both are sound.
    const keys = await importHubKeys(endpoint.secrets, ["sha256", "sha512"]);
    return (input) => verifyBitbucket(input, keys);
  },
  async sign(endpoint, body, options) {
    return {
      "Content-Type": "application/json",
      "X-Event-Key": options.event ?? "repo:push",
      "X-Request-UUID": options.deliveryId ?? crypto.randomUUID(),
      "X-Hub-Signature": await signHub(endpoint.secrets[0], "sha256", body),
    };
  },
};
