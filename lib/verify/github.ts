/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` of the body. The SHA-1
 * `X-Hub-Signature` is read only with `ALLOW_SHA1=true` and no SHA-256 header.
 * A form delivery is signed as sent; the hook gets its `payload` JSON.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import {
  formPayload,
  isForm,
  isRejected,
  malformed,
  parseJsonBody,
  singleHeader,
  withAction,
} from "./_payload.ts";
import { type HubKeys, importHubKeys, signHub, verifyHubSignature } from "./_signed.ts";
import { looksLikeForm } from "./_forge.ts";

/** `keys` holds SHA-1 keys only when SHA-1 is allowed. */
async function verifyGithub(input: VerifyInput, keys: HubKeys): Promise<Verdict> {
  // A present SHA-256 header is always the one judged: a bad one is never
  // rescued by a SHA-1 header sent beside it.
  const strong = input.headers.has("x-hub-signature-256") || !keys.sha1;
  const checked = strong
    ? await verifyHubSignature(input, "X-Hub-Signature-256", { sha256: keys.sha256 })
    : await verifyHubSignature(input, "X-Hub-Signature", keys);
  if (isRejected(checked)) return checked;

  const event = singleHeader(input.headers, "x-github-event");
  if (!event) return malformed("missing X-GitHub-Event");
  const payload = isForm(input.headers.get("content-type")) ? formPayload(input.body) : input.body;
  if (isRejected(payload)) return payload;
  const parsed = parseJsonBody(payload);
  if (isRejected(parsed)) return parsed;
  return {
    ok: true,
    event: withAction(event, parsed.value),
    deliveryId: singleHeader(input.headers, "x-github-delivery") ?? undefined,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
    payload,
    contentType: "application/json",
    parsed,
  };
}

/** The `github` provider. */
export const github: Provider = {
  name: "github",
  summary: "GitHub: X-Hub-Signature-256 (HMAC-SHA256, hex), X-GitHub-Event + .action",
  secret: "required",
  settings: {
    ALLOW_SHA1: {
      help: "also accept the legacy SHA-1 X-Hub-Signature when X-Hub-Signature-256 is absent",
      default: "false",
      choices: ["true", "false"],
    },
  },
  async create(endpoint) {
    const allowSha1 = endpoint.settings.ALLOW_SHA1 ?? "false";
    if (allowSha1 !== "true" && allowSha1 !== "false") {
      throw new Error(`${endpoint.prefix}ALLOW_SHA1 must be true or false: got ${allowSha1}`);
    }
    const hashes = allowSha1 === "true" ? ["sha256", "sha1"] as const : ["sha256"] as const;
    const keys = await importHubKeys(endpoint.secrets, hashes);
    return (input) => verifyGithub(input, keys);
  },
  async sign(endpoint, body, options) {
    const [secret] = endpoint.secrets;
    return {
      "Content-Type": looksLikeForm(body)
        ? "application/x-www-form-urlencoded"
        : "application/json",
      "X-GitHub-Event": options.event ?? "push",
      "X-GitHub-Delivery": options.deliveryId ?? crypto.randomUUID(),
      "X-Hub-Signature": await signHub(secret, "sha1", body),
      "X-Hub-Signature-256": await signHub(secret, "sha256", body),
    };
  },
};
