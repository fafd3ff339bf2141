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
import { decodeSignature, importHmacKeys, verifiedBy, verifyHmac } from "./_hmac.ts";
import {
  acceptedBody,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
} from "./_payload.ts";
import { prepareTokenCheck, type TokenCheck } from "./token.ts";
import { signEncoded } from "./_hub.ts";
import { decodeAll, signedBytes, tooManySignatures, verifyAnyHmac } from "./_signatures.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING } from "./_timestamp.ts";
import { readDuration, secretVariable } from "./_settings.ts";

/** The prefix that marks a signing token. */
export const SIGNING_PREFIX = "whsec_";

const encoder = new TextEncoder();

/** An endpoint's GitLab secrets, sorted by kind and imported once. */
export interface GitlabCheck {
  /** The secret tokens, with the index of each in `endpoint.secrets`. */
  tokens?: { check: TokenCheck; indexes: number[] };
  /** The signing keys, with the index of each in `endpoint.secrets`. */
  signing?: { keys: CryptoKey[]; indexes: number[] };
  /** How far `webhook-timestamp` may be from now, either way. */
  toleranceMs: number;
}

/**
 * Decode a signing token into its HMAC key.
 *
 * @param secret `whsec_<base64>`
 * @returns the key bytes, or `undefined` when the base64 is bad or empty
 */
export function decodeSigningToken(secret: string): Uint8Array | undefined {
  const key = decodeSignature(secret.slice(SIGNING_PREFIX.length), "base64");
  return key && key.length > 0 ? key : undefined;
}

/**
 * Sort and import an endpoint's secrets.
 *
 * @param endpoint the endpoint's resolved settings
 * @returns the check to pass to {@linkcode verifyGitlab}
 * @throws {Error} naming the variable when a signing token is not base64,
 *   or when `TOLERANCE` is not a duration
 */
export async function prepareGitlab(endpoint: EndpointSettings): Promise<GitlabCheck> {
  const toleranceMs = readDuration(endpoint, "TOLERANCE", "5m");
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
    const key = decodeSigningToken(secret);
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
  // Versions other than v1 are skipped, as Standard Webhooks asks.
  const v1 = values["webhook-signature"].split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => entry.slice(3));
  const tooMany = tooManySignatures(v1.length);
  if (tooMany) return tooMany;
  const signatures = decodeAll(v1, "base64", 32);
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
  const { check, indexes } = tokens;
  for (const [index, mac] of check.expected.entries()) {
    if (await verifyHmac(check.key, mac, encoder.encode(value)) === 0) return indexes[index];
  }
  return unauthorized("invalid token", "rejected.token");
}

function gitlabEvent(payload: unknown, header: string | null | undefined): string | undefined {
  const kind = readPath(payload, "object_kind") ?? readPath(payload, "event_name") ??
    (header || undefined);
  const action = readPath(payload, "object_attributes.action");
  return kind && action ? `${kind}.${action}` : kind;
}

/**
 * Verify a GitLab delivery.
 *
 * @param input the delivery
 * @param check from {@linkcode prepareGitlab}
 * @returns the verdict; a signed delivery is judged by its signature, a
 *   token-only one by its token, whichever secret matches first in order
 */
export async function verifyGitlab(input: VerifyInput, check: GitlabCheck): Promise<Verdict> {
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
    const key = decodeSigningToken(secret);
    if (!key) throw new Error(`${secretVariable(endpoint, 0)} is not a valid GitLab signing token`);
    const timestamp = String(Math.floor(options.now / 1000));
    const signed = signedBytes(id, ".", timestamp, ".", body);
    return {
      ...headers,
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${await signEncoded(key, "sha256", signed, "base64")}`,
    };
  },
};
