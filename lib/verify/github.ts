/**
 * GitHub: HMAC-SHA256 of the raw body in `X-Hub-Signature-256`
 * (`sha256=<hex>`), event in `X-GitHub-Event`, delivery id in
 * `X-GitHub-Delivery`. A form-encoded delivery is signed as the raw form;
 * the hook gets the JSON from its `payload` field.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { decodeSignature, importHmacKeys, verifiedBy, verifyHmac } from "./_hmac.ts";
import {
  formPayload,
  isForm,
  isRejected,
  malformed,
  parseJsonBody,
  singleHeader,
  unauthorized,
  withAction,
} from "./_payload.ts";

/**
 * Verify a GitHub delivery with already-imported keys.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict; event is `X-GitHub-Event` plus `.action`
 */
export async function verifyGithub(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  const header = singleHeader(input.headers, "x-hub-signature-256");
  if (header === undefined) return unauthorized("missing X-Hub-Signature-256");
  if (header === null) return unauthorized("X-Hub-Signature-256 sent more than once");
  const hex = header.startsWith("sha256=") ? header.slice(7) : undefined;
  const signature = hex === undefined ? undefined : decodeSignature(hex, "hex");
  if (!signature || signature.length !== 32) return unauthorized("malformed X-Hub-Signature-256");
  const index = await verifyHmac(keys, signature, input.body);
  if (index < 0) return unauthorized("invalid signature");

  const event = singleHeader(input.headers, "x-github-event");
  if (!event) return malformed("missing X-GitHub-Event");
  const form = isForm(input.headers.get("content-type"));
  const payload = form ? formPayload(input.body) : input.body;
  if (isRejected(payload)) return payload;
  const parsed = parseJsonBody(payload);
  if (isRejected(parsed)) return parsed;
  return {
    ok: true,
    event: withAction(event, parsed.value),
    deliveryId: singleHeader(input.headers, "x-github-delivery") ?? undefined,
    verifiedBy: verifiedBy(index),
    payload,
    contentType: "application/json",
  };
}

/** The `github` provider. */
export const github: Provider = {
  name: "github",
  summary: "GitHub: X-Hub-Signature-256 (HMAC-SHA256, hex), X-GitHub-Event + .action",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyGithub(input, keys);
  },
};
