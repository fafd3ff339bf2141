/**
 * GitLab: each secret is either a token sent as is in `X-Gitlab-Token`
 * (compared in constant time) or a `whsec_` signing token, with which GitLab
 * signs as Standard Webhooks do. `_SECRET` and `_SECRET_PREVIOUS` may be of
 * either kind, so an endpoint can rotate from one to the other. No replay key:
 * a signed delivery has a signed id and time, and whoever captured a
 * token-only one holds the token and can forge anything.
 *
 * @module
 */

import type { EndpointSettings, Provider, Rejected, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys, signedBytes, verifiedBy, verifyAnyHmac } from "./_hmac.ts";
import {
  acceptedBody,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
} from "./_payload.ts";
import { matchToken, prepareTokenCheck, type TokenCheck } from "./token.ts";
import { decodeStandardSecret, secretVariable, standard, v1Signatures } from "./standard.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

/** The prefix that marks a signing token. */
const SIGNING_PREFIX = "whsec_";

/** An endpoint's GitLab secrets, sorted by kind, each with its index in `endpoint.secrets`. */
interface GitlabCheck {
  tokens?: { check: TokenCheck; indexes: number[] };
  signing?: { keys: CryptoKey[]; indexes: number[] };
  toleranceMs: number;
}

async function prepareGitlab(endpoint: EndpointSettings): Promise<GitlabCheck> {
  const toleranceMs = toleranceOf(endpoint);
  const tokens: string[] = [];
  const tokenIndexes: number[] = [];
  const keys: Uint8Array[] = [];
  const keyIndexes: number[] = [];
  for (const [index, secret] of endpoint.secrets.entries()) {
    if (!secret.startsWith(SIGNING_PREFIX)) {
      tokens.push(secret);
      tokenIndexes.push(index);
      continue;
    }
    const key = decodeStandardSecret(secret);
    if (!key) {
      throw new Error(
        `${
          secretVariable(endpoint, index)
        } is not a valid GitLab signing token: write whsec_ followed by the base64 key GitLab shows`,
      );
    }
    keys.push(key);
    keyIndexes.push(index);
  }
  return {
    tokens: tokens.length
      ? { check: await prepareTokenCheck(tokens), indexes: tokenIndexes }
      : undefined,
    signing: keys.length
      ? { keys: await importHmacKeys(keys, "sha256"), indexes: keyIndexes }
      : undefined,
    toleranceMs,
  };
}

async function checkSigned(
  input: VerifyInput,
  signing: NonNullable<GitlabCheck["signing"]>,
  toleranceMs: number,
): Promise<number | Rejected> {
  const values: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const value = singleHeader(input.headers, name);
    if (value === undefined) return unauthorized(`missing ${name}`);
    if (value === null) return unauthorized(`${name} sent more than once`);
    values[name] = value;
  }
  const timestamp = values["webhook-timestamp"];
  const seconds = parseSeconds(timestamp);
  if (Number.isNaN(seconds)) return unauthorized("malformed timestamp");
  const signatures = v1Signatures(values["webhook-signature"]);
  if (isRejected(signatures)) return signatures;
  if (signatures.length === 0) return unauthorized("malformed webhook-signature");
  const signed = signedBytes(values["webhook-id"], ".", timestamp, ".", input.body);
  const found = await verifyAnyHmac(signing.keys, signatures, signed);
  if (found < 0) return unauthorized("invalid signature");
  return checkTimestamp(seconds, input.now, toleranceMs) ?? signing.indexes[found];
}

async function checkToken(
  input: VerifyInput,
  tokens: NonNullable<GitlabCheck["tokens"]>,
): Promise<number | Rejected> {
  const value = singleHeader(input.headers, "x-gitlab-token");
  if (value === undefined) return unauthorized("missing X-Gitlab-Token", "rejected.token");
  if (value === null) {
    return unauthorized("X-Gitlab-Token sent more than once", "rejected.token");
  }
  const index = await matchToken(tokens.check, value);
  return index < 0 ? unauthorized("invalid token", "rejected.token") : tokens.indexes[index];
}

/** `object_kind` (system hooks: `event_name`, else the header) plus `object_attributes.action`. */
function gitlabEvent(payload: unknown, header: string | null | undefined): string | undefined {
  const kind = readPath(payload, "object_kind") ?? readPath(payload, "event_name") ??
    (header || undefined);
  const action = readPath(payload, "object_attributes.action");
  return kind && action ? `${kind}.${action}` : kind;
}

/** A signed delivery is judged by its signature, a token-only one by its token. */
async function verifyGitlab(input: VerifyInput, check: GitlabCheck): Promise<Verdict> {
  let index = -1;
  let failure: Rejected | undefined;
  let signed = false;
  if (check.signing && input.headers.has("webhook-signature")) {
    const result = await checkSigned(input, check.signing, check.toleranceMs);
    if (isRejected(result)) failure = result;
    else [index, signed] = [result, true];
  }
  if (index !== 0 && check.tokens && input.headers.has("x-gitlab-token")) {
    const result = await checkToken(input, check.tokens);
    if (isRejected(result)) failure ??= result;
    else if (index < 0 || result < index) index = result;
  }
  if (index < 0) {
    if (failure) return failure;
    return check.signing
      ? unauthorized(
        check.tokens ? "missing X-Gitlab-Token or webhook-signature" : "missing webhook-signature",
      )
      : unauthorized("missing X-Gitlab-Token", "rejected.token");
  }

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = gitlabEvent(parsed.value, singleHeader(input.headers, "x-gitlab-event"));
  if (!event) return malformed("payload has no object_kind");
  // A signed id always wins: the unsigned ones could be changed in a replay.
  const deliveryId = signed
    ? singleHeader(input.headers, "webhook-id")!
    : singleHeader(input.headers, "idempotency-key") ??
      singleHeader(input.headers, "webhook-id") ??
      singleHeader(input.headers, "x-gitlab-webhook-uuid") ?? undefined;
  return acceptedBody(input, {
    parsed,
    event,
    deliveryId,
    verifiedBy: verifiedBy(index),
    replayKey: null,
  });
}

/** The `gitlab` provider. */
export const gitlab: Provider = {
  name: "gitlab",
  summary:
    "GitLab: X-Gitlab-Token (constant time) or, with a whsec_ signing token, webhook-signature; event object_kind.action",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  async create(endpoint) {
    const check = await prepareGitlab(endpoint);
    return (input) => verifyGitlab(input, check);
  },
  async sign(endpoint, body, options) {
    const [secret] = endpoint.secrets;
    const id = options.deliveryId ?? crypto.randomUUID();
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "X-Gitlab-Event": options.event ?? "Push Hook",
      "Idempotency-Key": id,
    };
    if (!secret.startsWith(SIGNING_PREFIX)) return { ...headers, "X-Gitlab-Token": secret };
    if (!decodeStandardSecret(secret)) {
      throw new Error(`${secretVariable(endpoint, 0)} is not a valid GitLab signing token`);
    }
    const signing = { ...endpoint, secrets: [secret] };
    return { ...headers, ...await standard.sign!(signing, body, { ...options, deliveryId: id }) };
  },
};
