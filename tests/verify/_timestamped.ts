/**
 * Shared fixtures for the provider tests: an endpoint's settings, a
 * delivery, and the byte-level tampering every provider must refuse.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { EndpointSettings, Provider, Verdict, VerifyInput } from "../../lib/verify/types.ts";

const encoder = new TextEncoder();

/**
 * The settings of a test endpoint named after its provider.
 *
 * @param provider the provider under test
 * @param secrets the current secret first, then the previous one
 * @param settings provider settings; spec defaults are applied first
 * @returns the endpoint settings
 */
export function endpointFor(
  provider: Provider,
  secrets: string[],
  settings: Record<string, string> = {},
): EndpointSettings {
  const defaults: Record<string, string> = {};
  for (const [suffix, spec] of Object.entries(provider.settings)) {
    if (spec.default !== undefined) defaults[suffix] = spec.default;
  }
  return {
    name: provider.name,
    prefix: `HOOKD_${provider.name.toUpperCase()}_`,
    provider: provider.name,
    secrets,
    settings: { ...defaults, ...settings },
  };
}

/**
 * A delivery as the app hands it to a provider.
 *
 * @param headers the request headers
 * @param body the raw body (text is UTF-8 encoded)
 * @param now now, in milliseconds since the epoch
 * @param url the request URL
 * @returns the verify input
 */
export function delivery(
  headers: HeadersInit,
  body: string | Uint8Array,
  now: number,
  url = "http://127.0.0.1:9000/hooks/test",
): VerifyInput {
  return {
    headers: new Headers(headers),
    body: typeof body === "string" ? encoder.encode(body) : body,
    now,
    url,
  };
}

/**
 * The body with one byte changed.
 *
 * @param body the original bytes
 * @param index which byte (negative counts from the end)
 * @returns a copy differing in exactly that byte
 */
export function flipByte(body: Uint8Array | string, index: number): Uint8Array {
  const copy = typeof body === "string" ? encoder.encode(body) : body.slice();
  const at = index < 0 ? copy.length + index : index;
  copy[at] ^= 0x01;
  return copy;
}

/**
 * Assert a verdict is a refusal with this status and a reason matching.
 *
 * @param verdict the verdict
 * @param status the expected status
 * @param reason a pattern the reason must match
 * @param outcome the expected log outcome, when it matters
 */
export function assertRejected(
  verdict: Verdict,
  status: 400 | 401,
  reason: RegExp,
  outcome?: string,
): void {
  assert.equal(verdict.ok, false, `expected a refusal, got ${JSON.stringify(verdict)}`);
  if (verdict.ok) return;
  assert.equal(verdict.status, status);
  assert.match(verdict.reason, reason);
  if (outcome) assert.equal(verdict.outcome, outcome);
}

/**
 * Assert a verdict is an acceptance and return it.
 *
 * @param verdict the verdict
 * @returns the accepted verdict
 */
export function assertAccepted(verdict: Verdict): Extract<Verdict, { ok: true }> {
  assert.equal(verdict.ok, true, `expected acceptance, got ${JSON.stringify(verdict)}`);
  if (!verdict.ok) throw new Error("unreachable");
  return verdict;
}
