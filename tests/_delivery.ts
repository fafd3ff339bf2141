/**
 * The sample delivery the store, queue and intake tests start from: one push to
 * the `deploy` endpoint, in the two shapes it takes on its way in.
 *
 * @module
 */

import type { NewDelivery as VerifiedDelivery } from "../lib/http/app.ts";
import type { NewDelivery } from "../lib/store/mod.ts";

const SAMPLE = {
  endpoint: "deploy",
  event: "push",
  contentType: "application/json",
  headers: { "x-github-event": "push", "x-hub-signature-256": "[redacted]" },
  body: '{"ref":"main"}',
  command: "./deploy.sh",
  timeoutMs: 60_000,
};

/**
 * A delivery as the store takes it (`Store.insert`), received now.
 *
 * @param overrides fields to replace
 * @returns a fresh object (and body) on every call
 */
export function delivery(overrides: Partial<NewDelivery> = {}): NewDelivery {
  return {
    endpoint: SAMPLE.endpoint,
    event: SAMPLE.event,
    receivedAt: Date.now(),
    contentType: SAMPLE.contentType,
    headers: { ...SAMPLE.headers },
    body: new TextEncoder().encode(SAMPLE.body),
    hook: SAMPLE.command,
    timeoutMs: SAMPLE.timeoutMs,
    verifiedBy: "github",
    ...overrides,
  };
}

/**
 * The same delivery as the app hands it to intake once its signature is verified.
 *
 * @param overrides fields to replace
 * @returns a fresh object (and payload) on every call
 */
export function verifiedDelivery(overrides: Partial<VerifiedDelivery> = {}): VerifiedDelivery {
  return {
    endpoint: SAMPLE.endpoint,
    event: SAMPLE.event,
    hook: { variable: "HOOKD_DEPLOY_HOOK_PUSH", command: SAMPLE.command },
    payload: new TextEncoder().encode(SAMPLE.body),
    contentType: SAMPLE.contentType,
    headers: { ...SAMPLE.headers },
    receivedAt: Date.now(),
    timeoutMs: SAMPLE.timeoutMs,
    verifiedBy: "secret",
    ...overrides,
  };
}
