/**
 * Gitea, Forgejo and Gogs: one scheme under three header prefixes. With the
 * form content type the signature is still over the JSON inside `payload`
 * (Gitea's `addDefaultHeaders`, Gogs' `JSONPayload()`), so that JSON, never
 * the form bytes a replay could re-encode, is the replay key.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys, signEncoded } from "./_hmac.ts";
import { verifyBodyHmac } from "./_signed.ts";
import {
  formPayload,
  isForm,
  isRejected,
  malformed,
  parseJsonBody,
  singleHeader,
  withAction,
} from "./_payload.ts";

/** The headers one forge writes. */
export interface ForgeHeaders {
  /** e.g. `X-Gitea-Signature`. */
  signature: string;
  /** e.g. `X-Gitea-Event`. */
  event: string;
  /** e.g. `X-Gitea-Delivery`. */
  delivery: string;
}

const decoder = new TextDecoder();

/**
 * Whether a body to sign is a form with a `payload` field rather than JSON;
 * `hookd sign` is handed a file, not a content type.
 */
export function looksLikeForm(body: Uint8Array): boolean {
  return decoder.decode(body.subarray(0, 8)) === "payload=";
}

async function verifyForge(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  names: ForgeHeaders,
): Promise<Verdict> {
  // The signed bytes are inside the form, so here the form is decoded
  // before the signature is checked; nothing else is read until it holds.
  const payload = isForm(input.headers.get("content-type")) ? formPayload(input.body) : input.body;
  if (isRejected(payload)) return payload;
  const checked = await verifyBodyHmac({ ...input, body: payload }, keys, {
    header: names.signature,
    hash: "sha256",
    encoding: "hex",
  });
  if (isRejected(checked)) return checked;

  const event = singleHeader(input.headers, names.event);
  if (!event) return malformed(`missing ${names.event}`);
  const parsed = parseJsonBody(payload);
  if (isRejected(parsed)) return parsed;
  return {
    ok: true,
    event: withAction(event, parsed.value),
    deliveryId: singleHeader(input.headers, names.delivery) ?? undefined,
    verifiedBy: checked.verifiedBy,
    replayKey: payload,
    payload,
    contentType: "application/json",
    parsed,
  };
}

/** The header names of a forge (`Gitea`): `X-Gitea-Signature`, `-Event` and `-Delivery`. */
export function forgeHeaders(forge: string): ForgeHeaders {
  const name = (part: string) => `X-${forge}-${part}`;
  return { signature: name("Signature"), event: name("Event"), delivery: name("Delivery") };
}

/**
 * The provider of a Gitea-family forge, named as its headers spell it (`Gitea`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forgeProvider } from "./_forge.ts";
 * assert.equal(forgeProvider("Gitea").name, "gitea");
 * ```
 */
export function forgeProvider(forge: string): Provider {
  const names = forgeHeaders(forge);
  return {
    name: forge.toLowerCase(),
    summary:
      `${forge}: ${names.signature} (HMAC-SHA256 of the JSON, hex), ${names.event} + .action`,
    secret: "required",
    settings: {},
    async create(endpoint) {
      const keys = await importHmacKeys(endpoint.secrets, "sha256");
      return (input) => verifyForge(input, keys, names);
    },
    async sign(endpoint, body, options) {
      // A form body is signed over its decoded `payload`, as the forge does.
      const form = looksLikeForm(body);
      const signed = form ? formPayload(body) : body;
      if (isRejected(signed)) throw new Error(`Cannot sign the form: ${signed.reason}`);
      return {
        "Content-Type": form ? "application/x-www-form-urlencoded" : "application/json",
        [names.event]: options.event ?? "push",
        [names.delivery]: options.deliveryId ?? crypto.randomUUID(),
        [names.signature]: await signEncoded(endpoint.secrets[0], "sha256", signed, "hex"),
      };
    },
  };
}
