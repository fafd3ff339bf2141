/**
 * Senders that sign only the raw body, in one header, and name the event
 * inside the JSON (Vercel, Lemon Squeezy, Intercom): such a provider is a
 * {@linkcode BodyHmacScheme} given to {@linkcode bodyHmacProvider}.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { type HashName, importHmacKeys } from "./_hmac.ts";
import { acceptedBody, isRejected, malformed, parseJsonBody, readPath } from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";
import { signEncoded } from "./_hub.ts";

/** How one body-signing sender writes its header and names its deliveries. */
export interface BodyHmacScheme {
  /** The provider name. */
  name: string;
  /** One line for `hookd help`. */
  summary: string;
  /** The signature header as reasons write it, e.g. `X-Vercel-Signature`. */
  header: string;
  /** The hash. */
  hash: HashName;
  /** How the MAC is written. */
  encoding: "hex" | "base64";
  /** Text before the MAC, e.g. `sha1=`. */
  prefix?: string;
  /** Dotted path to the event name in the body. */
  event: string;
  /** Dotted path to the sender's delivery id in the body, when it has one. */
  deliveryId?: string;
}

/**
 * Verify a delivery of a body-signing sender.
 *
 * @param input the delivery
 * @param keys keys for the scheme's hash, current secret first
 * @param scheme how the sender signs
 * @returns the verdict; 400 when the verified body lacks the event
 */
export async function verifyBodyScheme(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  scheme: BodyHmacScheme,
): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, scheme);
  if ("ok" in checked) return checked;
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, scheme.event);
  if (!event) return malformed(`payload has no ${scheme.event}`);
  return acceptedBody(input, {
    parsed,
    event,
    deliveryId: scheme.deliveryId ? readPath(parsed.value, scheme.deliveryId) : undefined,
    verifiedBy: checked.verifiedBy,
    // The signature covers the body only (with a timestamp at most): body dedupe stops replays.
    replayKey: input.body,
  });
}

/**
 * The provider for a body-signing sender: a required secret, no settings,
 * and `hookd sign` writing the one header.
 *
 * @param scheme how the sender signs
 * @returns the provider
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyHmacProvider } from "./_body_hmac_provider.ts";
 * const acme = bodyHmacProvider({
 *   name: "acme",
 *   summary: "Acme: X-Acme-Signature (HMAC-SHA256, hex)",
 *   header: "X-Acme-Signature",
 *   hash: "sha256",
 *   encoding: "hex",
 *   event: "type",
 * });
 * assert.equal(acme.secret, "required");
 * ```
 */
export function bodyHmacProvider(scheme: BodyHmacScheme): Provider {
  return {
    name: scheme.name,
    summary: scheme.summary,
    secret: "required",
    settings: {},
    async create(endpoint) {
      const keys = await importHmacKeys(endpoint.secrets, scheme.hash);
      return (input) => verifyBodyScheme(input, keys, scheme);
    },
    async sign(endpoint, body) {
      const mac = await signEncoded(endpoint.secrets[0], scheme.hash, body, scheme.encoding);
      return {
        "Content-Type": "application/json",
        [scheme.header]: `${scheme.prefix ?? ""}${mac}`,
      };
    },
  };
}
