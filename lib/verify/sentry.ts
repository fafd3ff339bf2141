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

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import {
  acceptedBody,
  isRejected,
  malformed,
  parseJsonBody,
  singleHeader,
  withAction,
} from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";
import { signEncoded } from "./_hub.ts";

/**
 * Verify a Sentry delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict; event is `<resource>.<action>`
 */
export async function verifySentry(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "Sentry-Hook-Signature",
    hash: "sha256",
    encoding: "hex",
  });
  if ("ok" in checked) return checked;
  const resource = singleHeader(input.headers, "sentry-hook-resource");
  if (!resource) return malformed("missing Sentry-Hook-Resource");
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  return acceptedBody(input, {
    parsed,
    event: withAction(resource, parsed.value),
    deliveryId: singleHeader(input.headers, "request-id") ?? undefined,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
}

/** The `sentry` provider. */
export const sentry: Provider = {
  name: "sentry",
  summary:
    "Sentry: Sentry-Hook-Signature (HMAC-SHA256, hex), event <Sentry-Hook-Resource>.<action>",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifySentry(input, keys);
  },
  async sign(endpoint, body, options) {
    return {
      "Content-Type": "application/json",
      "Request-ID": options.deliveryId ?? crypto.randomUUID(),
      "Sentry-Hook-Resource": options.event ?? "issue",
      "Sentry-Hook-Timestamp": String(Math.floor(options.now / 1000)),
      "Sentry-Hook-Signature": await signEncoded(endpoint.secrets[0], "sha256", body, "hex"),
    };
  },
};
