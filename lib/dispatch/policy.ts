/**
 * The dispatcher's pure decisions: each endpoint's run policy, the retry delay,
 * where a delivery goes after a run, and which queued deliveries start now.
 * Nothing here touches the store, a timer or a process.
 *
 * @module
 */

import { checkNonNegative } from "../config/mod.ts";
import type { NextState, QueuedRef, RunEnd } from "../store/mod.ts";
import type { HookRunResult } from "./hook_runner.ts";

/** How one endpoint's deliveries are run. */
export interface EndpointPolicy {
  /** Hooks of this endpoint that may run at once; 1 means runs never overlap. */
  concurrency: number;
  /** Extra attempts after a failed or timed-out run. */
  retries: number;
  /** The first retry's delay; each further one doubles it, default 1000. */
  backoffMs?: number;
  /**
   * `queue`: every delivery runs, in order. `latest`: while runs are going, a
   * newer delivery replaces older waiting ones, which end as `superseded`.
   */
  onBusy: "queue" | "latest";
}

/** The policy for deliveries of an endpoint the configuration no longer has. */
export const DEFAULT_POLICY: Readonly<Required<EndpointPolicy>> = {
  concurrency: 1,
  retries: 0,
  backoffMs: 1000,
  onBusy: "queue",
};

/**
 * Refuse a policy the dispatcher cannot follow.
 *
 * @param where the factory checking it, e.g. `createQueue`
 * @param name the endpoint's name
 * @param policy the endpoint's policy
 * @throws {RangeError} naming the factory, the endpoint, the field and the value
 */
export function checkEndpointPolicy(where: string, name: string, policy: EndpointPolicy): void {
  const { concurrency, retries, backoffMs, onBusy } = policy;
  const fail = (field: string, rule: string, value: unknown) => {
    throw new RangeError(`${where}: endpoint ${name}: ${field} must be ${rule}: got ${value}`);
  };
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    fail("concurrency", "a positive integer", concurrency);
  }
  if (!Number.isInteger(retries) || retries < 0) fail("retries", "a whole number >= 0", retries);
  if (backoffMs !== undefined) checkNonNegative(where, `endpoint ${name}: backoffMs`, backoffMs);
  if (onBusy !== "queue" && onBusy !== "latest") fail("onBusy", '"queue" or "latest"', onBusy);
}

/**
 * The delay before retry number `failures`: exponential from `baseMs`,
 * capped at `maxMs`, with "equal jitter" (between half and all of it) so
 * that retries of many deliveries spread out.
 *
 * @param failures failed runs so far, 1 or more
 * @param options `baseMs`, `maxMs`, and `random` in [0, 1)
 * @returns milliseconds
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryDelayMs } from "./policy.ts";
 * assert.equal(retryDelayMs(3, { baseMs: 1000, maxMs: 60_000, random: 0 }), 2000);
 * ```
 */
export function retryDelayMs(
  failures: number,
  options: { baseMs: number; maxMs: number; random: number },
): number {
  const full = Math.min(options.baseMs * 2 ** Math.max(failures - 1, 0), options.maxMs);
  return Math.round(full / 2 + (options.random * full) / 2);
}

/**
 * Decide how a run is recorded and where its delivery goes next.
 *
 * @param result what the runner reported
 * @param context failures before this run, the endpoint's retry budget, the
 *   time, and the delay to use if it is retried
 * @returns the run's outcome and the delivery's next state
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideAfterRun } from "./policy.ts";
 * const failed = { exitCode: 1, success: false, timedOut: false, aborted: false };
 * const { next } = decideAfterRun(failed, { failures: 0, retries: 2, now: 0, delayMs: 500 });
 * assert.equal(next.state, "queued");
 * ```
 */
export function decideAfterRun(
  result: Pick<HookRunResult, "success" | "timedOut" | "aborted">,
  context: { failures: number; retries: number; now: number; delayMs: number },
): { outcome: RunEnd["outcome"]; next: NextState } {
  if (result.success) return { outcome: "succeeded", next: { state: "done" } };
  // Stopped by hookd's own shutdown: not the hook's fault, so run it again at the next start.
  if (result.aborted) {
    return { outcome: "aborted", next: { state: "queued", notBefore: 0, failed: false } };
  }
  const outcome = result.timedOut ? "timed_out" : "failed";
  if (context.failures + 1 > context.retries) return { outcome, next: { state: "failed" } };
  return {
    outcome,
    next: { state: "queued", notBefore: context.now + context.delayMs, failed: true },
  };
}

/** One endpoint's view for {@linkcode pickToRun}. */
export interface EndpointView {
  /** The endpoint's concurrency. */
  concurrency: number;
  /** Its hooks running now. */
  running: number;
  /** Its first queued deliveries, in queue order (at least `concurrency - running` of them when there are). */
  head: readonly QueuedRef[];
}

/**
 * Choose which queued deliveries to start now. Per endpoint, the first
 * `concurrency - running` queued deliveries are eligible; one waiting for a
 * retry keeps its place (and its slot), so an endpoint with concurrency 1
 * runs strictly in order. Eligible deliveries start oldest first until the
 * global slots are used.
 *
 * @param views each endpoint with queued work
 * @param options free global slots and the time
 * @returns what to start, in order, and when a waiting retry becomes due (null if none)
 */
export function pickToRun(
  views: readonly EndpointView[],
  options: { freeSlots: number; now: number },
): { start: QueuedRef[]; wakeAt: number | null } {
  const ready: QueuedRef[] = [];
  let wakeAt: number | null = null;
  for (const view of views) {
    const slots = Math.max(view.concurrency - view.running, 0);
    for (const ref of view.head.slice(0, slots)) {
      if (ref.notBefore <= options.now) ready.push(ref);
      else wakeAt = wakeAt === null ? ref.notBefore : Math.min(wakeAt, ref.notBefore);
    }
  }
  ready.sort((a, b) => a.seq - b.seq);
  return { start: ready.slice(0, Math.max(options.freeSlots, 0)), wakeAt };
}
