/**
 * The sample delivery the store, queue and intake tests start from: one push to
 * the `deploy` endpoint, as the app hands it to intake and intake to the store.
 *
 * @module
 */

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
 * A verified delivery (`NewDelivery`), received now.
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
