/**
 * The refusals every body-signing provider owes, run as steps of one
 * test: the current and previous secret, a one-byte change, a wrong
 * secret, a truncated signature, a repeated header, the wrong encoding and
 * a missing signature. The signatures come from node:crypto, an oracle
 * independent of the WebCrypto code under test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { Provider, Verdict, VerifyInput } from "../../lib/verify/types.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

const encoder = new TextEncoder();

/** A fixed "now" for deliveries: 2023-11-14T22:13:20Z. */
export const NOW = 1_700_000_000_000;

/**
 * HMAC by node:crypto, the oracle.
 *
 * @param hash `sha1`, `sha256` or `sha512`
 * @param key the key (text or bytes)
 * @param data the signed bytes
 * @param encoding `hex` or `base64`
 * @returns the encoded MAC
 */
export function oracle(
  hash: "sha1" | "sha256" | "sha512",
  key: string | Uint8Array,
  data: string | Uint8Array,
  encoding: "hex" | "base64",
): string {
  return createHmac(hash, key).update(data).digest(encoding);
}

/** Re-encode hex as base64: the same bytes, the wrong encoding. */
export function hexToBase64(hex: string): string {
  return Uint8Array.fromHex(hex).toBase64();
}

/** Re-encode base64 as hex: the same bytes, the wrong encoding. */
export function base64ToHex(base64: string): string {
  return Uint8Array.fromBase64(base64).toHex();
}

/**
 * Build a provider's verifier for some secrets and run it once.
 *
 * @param provider the provider
 * @param secrets the current secret first
 * @param input the delivery
 * @param settings provider settings
 * @returns the verdict
 */
export async function verifyOnce(
  provider: Provider,
  secrets: string[],
  input: VerifyInput,
  settings: Record<string, string> = {},
): Promise<Verdict> {
  const verify = await provider.create(endpointFor(provider, secrets, settings));
  return verify(input);
}

/** How one sender signs, for {@linkcode bodySignedCases}. */
export interface SenderCase {
  /** The provider under test. */
  provider: Provider;
  /** Provider settings. */
  settings?: Record<string, string>;
  /** A body the provider accepts. */
  body: string;
  /** The secrets to use; plain strings unless the sender needs a form. */
  secrets?: { current: string; previous: string; wrong: string };
  /** The oracle: every header the sender sends for these bytes. */
  headers(body: Uint8Array, secret: string): Record<string, string>;
  /** The header that carries the signature. */
  signatureHeader: string;
  /** The signature header's value with its MAC in the wrong encoding. */
  wrongEncoding(value: string): string;
  /** The event the body and headers should give. */
  event: string;
}

/**
 * Run the shared refusals as steps.
 *
 * @param t the test context
 * @param c how the sender signs
 */
export async function bodySignedCases(t: Deno.TestContext, c: SenderCase): Promise<void> {
  const { current, previous, wrong } = c.secrets ??
    { current: "current-secret", previous: "previous-secret", wrong: "wrong-secret" };
  const body = encoder.encode(c.body);
  const secrets = [current, previous];
  const run = (headers: HeadersInit, bytes: Uint8Array = body) =>
    verifyOnce(c.provider, secrets, delivery(headers, bytes, NOW), c.settings);

  await t.step("accepts a delivery signed with the current secret", async () => {
    const verdict = assertAccepted(await run(c.headers(body, current)));
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(verdict.event, c.event);
  });

  await t.step("accepts the previous secret during rotation and says so", async () => {
    const verdict = assertAccepted(await run(c.headers(body, previous)));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step("rejects a one-byte change to the body", async () => {
    const middle = Math.floor(body.length / 2);
    assertRejected(await run(c.headers(body, current), flipByte(body, middle)), 401, /invalid/);
  });

  await t.step("rejects a wrong secret", async () => {
    assertRejected(await run(c.headers(body, wrong)), 401, /invalid/);
  });

  await t.step("rejects a truncated signature", async () => {
    // Four characters: base64 padding alone ("==") would leave the MAC whole.
    const headers = c.headers(body, current);
    headers[c.signatureHeader] = headers[c.signatureHeader].slice(0, -4);
    assertRejected(await run(headers), 401, /malformed|invalid/);
  });

  await t.step("rejects the signature header sent twice", async () => {
    const headers = new Headers(c.headers(body, current));
    headers.append(c.signatureHeader, headers.get(c.signatureHeader)!);
    assertRejected(await run(headers), 401, /more than once/);
  });

  await t.step("rejects the signature in the wrong encoding", async () => {
    const headers = c.headers(body, current);
    headers[c.signatureHeader] = c.wrongEncoding(headers[c.signatureHeader]);
    assertRejected(await run(headers), 401, /malformed|invalid/);
  });

  await t.step("rejects a delivery without the signature", async () => {
    const headers = c.headers(body, current);
    delete headers[c.signatureHeader];
    assertRejected(await run(headers), 401, /missing/);
  });
}
