/**
 * The one rule for names that hold a credential, a signature, a password or
 * a raw body: the log redacts such properties, intake never stores such
 * headers' values and the deliveries page never shows them, so a value the
 * log hides is never stored or shown either.
 *
 * @module
 */

/**
 * Stems that make a name sensitive wherever they appear in one of its words,
 * so run-together names count too (`X-Authtoken`, `oauthToken`, `X-Apikey`).
 * Broad on purpose: a value hidden for nothing costs little, a secret kept
 * costs a lot.
 */
const SENSITIVE_STEMS = [
  "auth",
  "token",
  "secret",
  "passw",
  "passphrase",
  "signature",
  "hmac",
  "credential",
  "cookie",
  "apikey",
  "privatekey",
  "accesskey",
];
/** Words sensitive only whole: as stems they would catch innocent names (`design`, `somebody`). */
const SENSITIVE_WORDS = new Set(["sig", "sigs", "body", "bodies"]);
/** Two-word names that are sensitive though neither word is alone (`X-Api-Key`, `privateKey`). */
const SENSITIVE_PAIRS = new Set(["apikey", "privatekey", "accesskey", "secretkey"]);
/**
 * A last word that makes the name describe a sensitive thing rather than hold
 * it (`bodyBytes`, `signatureValid`, `secretFile`), so its value is kept.
 */
const METADATA_WORDS = new Set([
  "algo",
  "algorithm",
  "bytes",
  "count",
  "env",
  "file",
  "kind",
  "len",
  "length",
  "missing",
  "ms",
  "name",
  "ok",
  "path",
  "present",
  "required",
  "scheme",
  "size",
  "type",
  "valid",
  "var",
  "verified",
]);

/** Names already judged: the same few recur in every record, and splitting them is the costly part. */
const judged = new Map<string, boolean>();
/** Header names come from senders, so the cache is bounded by being emptied. */
const CACHE_SIZE = 1024;

/**
 * Whether a name looks like it holds a secret, a signature or a raw body:
 * split into words (camelCase, snake_case, kebab-case; numbers dropped), one
 * word contains a sensitive stem or is a sensitive word, or two adjacent
 * words make a sensitive pair, and the last word is not one that only
 * describes (`size`, `type`, `valid`, …). Case-insensitive for headers.
 *
 * @param name a header name or a property name
 * @returns true when its value must be hidden
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSecretName } from "./secret_name.ts";
 * assert.equal(isSecretName("X-Passphrase"), true);
 * assert.equal(isSecretName("x-hub-signature-256"), true);
 * assert.equal(isSecretName("apiToken"), true);
 * assert.equal(isSecretName("signatureValid"), false);
 * assert.equal(isSecretName("X-GitHub-Event"), false);
 * ```
 */
export function isSecretName(name: string): boolean {
  let secret = judged.get(name);
  if (secret === undefined) {
    if (judged.size >= CACHE_SIZE) judged.clear();
    secret = judge(name);
    judged.set(name, secret);
  }
  return secret;
}

function judge(name: string): boolean {
  const words = name
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)
    .map((word) => word.toLowerCase())
    .filter((word) => word !== "" && !/^\d+$/.test(word));
  if (words.length === 0) return false;
  if (METADATA_WORDS.has(words[words.length - 1])) return false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (SENSITIVE_WORDS.has(word)) return true;
    if (SENSITIVE_STEMS.some((stem) => word.includes(stem))) return true;
    if (i > 0 && SENSITIVE_PAIRS.has(words[i - 1] + word)) return true;
  }
  return false;
}
