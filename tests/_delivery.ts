/**
 * The sample delivery the store, queue and intake tests start from: one push to
 * the `deploy` endpoint, as the app hands it to intake and intake to the store.
 *
 * @module
 */

import type { NewDelivery, RunEnd, Store } from "../lib/store/mod.ts";

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

/**
 * Store a delivery and, unless `end` is null, run it to the end given.
 *
 * @param store the store
 * @param d the delivery
 * @param end how its one run ended; null leaves it queued (or ignored, without a hook)
 * @returns its id
 */
export async function seed(
  store: Store,
  d: NewDelivery,
  end: Partial<RunEnd> & { outcome: "succeeded" | "failed" } | null = { outcome: "succeeded" },
): Promise<string> {
  const { id } = await store.insert(d);
  if (end === null || d.hook === null) return id;
  const claimed = await store.claim(id);
  if (!claimed) throw new Error(`could not claim ${id}`);
  await store.finishRun(claimed, {
    endedAt: d.receivedAt + (end.durationMs ?? 120),
    startedAt: d.receivedAt,
    durationMs: 120,
    exitCode: end.outcome === "succeeded" ? 0 : 1,
    signal: null,
    stdout: "deployed\n",
    stderr: "",
    stdoutTruncated: false,
    stderrTruncated: false,
    ...end,
  }, { state: end.outcome === "succeeded" ? "done" : "failed" });
  return id;
}
