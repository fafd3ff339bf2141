/**
 * The `token` provider: a shared secret in a header or, for senders that cannot
 * set headers, a query parameter (hookd logs no query and stores no URL). Both
 * sides are MACed under a random key made at start-up, so the compare is
 * constant-time. Nothing is signed: no replay key.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { equalBytes, importHmacKeys, signHmac, verifiedBy } from "./_hmac.ts";
import { singleHeader, unauthorized } from "./_payload.ts";
import { checkEventSettings, EVENT_SETTINGS, genericAccept, genericSignHeaders } from "./_event.ts";

const encoder = new TextEncoder();

/** A constant-time check of tokens, built once per endpoint. */
export interface TokenCheck {
  /** The random key both sides are MACed under. */
  key: CryptoKey;
  /** The MAC of each accepted token, current first. */
  expected: Uint8Array[];
}

/** Prepare a check of the tokens, the current one first. */
export async function prepareTokenCheck(tokens: readonly string[]): Promise<TokenCheck> {
  const [key] = await importHmacKeys([crypto.getRandomValues(new Uint8Array(32))], "sha256");
  const expected = await Promise.all(tokens.map((t) => signHmac(key, encoder.encode(t))));
  return { key, expected };
}

async function verifyToken(
  input: VerifyInput,
  check: TokenCheck,
  settings: Record<string, string>,
): Promise<Verdict> {
  const header = settings.TOKEN_HEADER;
  let value = header ? singleHeader(input.headers, header) : queryToken(input.url, settings);
  const where = header ?? `query parameter ${settings.TOKEN_QUERY}`;
  if (value === undefined) return unauthorized(`missing ${where}`, "rejected.token");
  if (value === null) return unauthorized(`${where} sent more than once`, "rejected.token");
  if (header?.toLowerCase() === "authorization") value = authorizationCredentials(value);
  const index = await matchToken(check, value);
  if (index < 0) return unauthorized("invalid token", "rejected.token");
  return genericAccept(input.headers, input.body, settings, verifiedBy(index));
}

/**
 * Which of the prepared tokens a value is, compared in constant time.
 *
 * @returns the index of the matching token (0 current, 1 previous), or -1
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchToken, prepareTokenCheck } from "./token.ts";
 * const check = await prepareTokenCheck(["new-token", "old-token"]);
 * assert.equal(await matchToken(check, "old-token"), 1);
 * assert.equal(await matchToken(check, "guess"), -1);
 * ```
 */
export async function matchToken(check: TokenCheck, value: string): Promise<number> {
  const mac = await signHmac(check.key, encoder.encode(value));
  return check.expected.findIndex((expected) => equalBytes(expected, mac));
}

/** The `TOKEN_QUERY` parameter: `undefined` when absent, `null` when repeated. */
function queryToken(url: string, settings: Record<string, string>): string | null | undefined {
  let values: string[];
  try {
    values = new URL(url).searchParams.getAll(settings.TOKEN_QUERY);
  } catch {
    return undefined;
  }
  return values.length === 0 ? undefined : values.length > 1 ? null : values[0];
}

/**
 * The secret part of an `Authorization` header: a `Bearer` token as is, or
 * `user:password` decoded from `Basic` (Alertmanager, Docker Hub and Azure
 * DevOps can send either); any other value, or a `Basic` one that is not
 * base64, is compared whole, and refused like any wrong token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authorizationCredentials } from "./token.ts";
 * assert.equal(authorizationCredentials("Basic " + btoa("hook:s3cret")), "hook:s3cret");
 * assert.equal(authorizationCredentials("Bearer abc"), "abc");
 * ```
 */
export function authorizationCredentials(value: string): string {
  const bearer = /^Bearer\s+(.+)$/i.exec(value);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(value);
  if (!basic) return value;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(basic[1]));
  } catch {
    return value;
  }
}

/** The `token` provider. */
export const token: Provider = {
  name: "token",
  summary: "A shared token in a header or query parameter, compared in constant time",
  secret: "required",
  settings: {
    TOKEN_HEADER: {
      help:
        "header carrying the token (Authorization takes Bearer <token>, or Basic with the secret written user:password)",
    },
    TOKEN_QUERY: {
      help: "query parameter carrying the token, for senders that cannot set headers",
      validate: (value) =>
        /^[A-Za-z0-9_.~-]+$/.test(value)
          ? undefined
          : `is "${value}", not a plain parameter name: use letters, digits, _ . ~ -`,
    },
    ...EVENT_SETTINGS,
  },
  async create(endpoint) {
    checkEventSettings(endpoint);
    const { TOKEN_HEADER, TOKEN_QUERY } = endpoint.settings;
    if ((TOKEN_HEADER === undefined) === (TOKEN_QUERY === undefined)) {
      throw new Error(
        `${endpoint.prefix}TOKEN_HEADER and ${endpoint.prefix}TOKEN_QUERY: set exactly one, the header or the query parameter the sender puts the token in`,
      );
    }
    const check = await prepareTokenCheck(endpoint.secrets);
    return (input) => verifyToken(input, check, endpoint.settings);
  },
  sign(endpoint, _body, options) {
    const header = endpoint.settings.TOKEN_HEADER;
    if (header === undefined) {
      return Promise.reject(
        new Error(
          `${endpoint.prefix}TOKEN_QUERY puts the token in the URL, not a header: add ?${endpoint.settings.TOKEN_QUERY}=<the secret> to the URL yourself`,
        ),
      );
    }
    const [secret] = endpoint.secrets;
    return Promise.resolve({
      ...genericSignHeaders(endpoint.settings, options),
      [header]: header.toLowerCase() === "authorization" ? `Bearer ${secret}` : secret,
    });
  },
};
