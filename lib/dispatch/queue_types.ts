/**
 * The dispatcher's vocabulary: its options, events and the {@linkcode Queue}
 * interface; `queue.ts` implements it.
 *
 * @module
 */

import type { ClaimedDelivery, DeliveryState, RunOutcome, RunRecord } from "../store/mod.ts";
import type { HookRunResult, RunHookOptions } from "./hook_runner.ts";
import { checkEndpointPolicy, type EndpointPolicy } from "./policy.ts";
import { checkNonNegative } from "../config/mod.ts";
import type { RunPlan } from "./run_plan.ts";

/**
 * Runs one hook command (`runHook` in production). A result `timedOut`
 * counts as a failure; `aborted` (the queue closed) requeues the delivery.
 */
export type HookRunner = (command: string, options: RunHookOptions) => Promise<HookRunResult>;

/** Something the queue did, for the log. */
export type QueueEvent =
  | { type: "recovered"; count: number }
  | {
    type: "run-start";
    id: string;
    endpoint: string;
    event: string;
    attempt: number;
    runId: number;
  }
  | {
    type: "run-end";
    id: string;
    endpoint: string;
    event: string;
    attempt: number;
    runId: number;
    outcome: RunOutcome;
    exitCode: number | null;
    signal: string | null;
    durationMs: number;
    /** Where the delivery went: `done`, `failed`, or `queued` for a retry or after an abort. */
    state: DeliveryState;
    /** For a retry: when it may start, epoch milliseconds. */
    retryAt: number | null;
  }
  | { type: "superseded"; endpoint: string; ids: string[]; by: string }
  | { type: "purged"; count: number }
  | { type: "error"; during: "dispatch" | "record" | "purge"; error: unknown; id?: string };

/** Options for {@linkcode createQueue}. */
export interface QueueOptions {
  /** Runs a hook. */
  run: HookRunner;
  /**
   * What a claimed delivery runs, read when its run starts (`planRun` in
   * production): its command, time limit and whole environment, or why
   * nothing runs (recorded as a `skipped` run).
   */
  plan: (delivery: ClaimedDelivery) => RunPlan;
  /** Hooks that may run at once, across endpoints. */
  maxConcurrent: number;
  /** Policies by endpoint name; others get {@linkcode DEFAULT_POLICY}. */
  endpoints: ReadonlyMap<string, EndpointPolicy>;
  /** Where the runner writes payload files. */
  payloadDir: string;
  /** How often to look for work another process queued, default 1000 ms (30× that while idle). */
  pollIntervalMs?: number;
  /** Passed to the runner. */
  killGraceMs?: number;
  /** How often to purge deliveries older than the store's retention, default 1 hour; 0 never. */
  purgeIntervalMs?: number;
  /** The clock, epoch milliseconds; for tests. */
  now?: () => number;
  /** Jitter source in [0, 1); for tests. */
  random?: () => number;
  /**
   * Told each piece of a running hook's output as it is read (for live
   * watchers); must not throw and must return quickly.
   */
  onOutput?: (id: string, stream: "stdout" | "stderr", bytes: Uint8Array) => void;
  /** Told about every run, retry, supersession, purge and error; must not throw. */
  onEvent?: (event: QueueEvent) => void;
}

/** What a waiter learns when a delivery's run ends or it leaves the queue without one. */
export interface RunSettled {
  /** The delivery's id. */
  id: string;
  /** The delivery's state now: `done`, `failed`, `queued` (a retry is due), `superseded`, `ignored`. */
  state: DeliveryState;
  /** The run that ended; null when the delivery never ran (`superseded`, `ignored`). */
  run: RunRecord | null;
  /** For `superseded`: the delivery that replaced it. */
  supersededBy: string | null;
}

/** The dispatcher. */
export interface Queue extends AsyncDisposable {
  /**
   * Recover runs interrupted by a crash, then start dispatching and polling.
   *
   * @throws {StoreUnavailableError} when recovery cannot be written
   * @throws {Error} when already started or closed
   */
  start(): Promise<void>;

  /** New work was stored: look for it now rather than at the next poll. */
  notify(): void;

  /**
   * Wait for the delivery's next run to end (`_RESPOND=output`), or for it to
   * leave the queue without running. Resolves at once for a finished delivery,
   * with its last run.
   *
   * @param id a delivery id
   * @param options `signal` to stop waiting (rejects with its reason)
   * @returns the delivery's state and the run
   * @throws {RangeError} (as a rejection) for an unknown id
   * @throws {QueueClosedError} (as a rejection) when the queue closes first
   */
  waitForRun(id: string, options?: { signal?: AbortSignal }): Promise<RunSettled>;

  /**
   * The ids of deliveries whose hooks are running.
   *
   * @returns ids, in start order
   */
  runningIds(): string[];

  /**
   * Stop taking work and wait for running hooks; after `timeoutMs` abort
   * them (their deliveries go back to the queue). Queued deliveries stay in
   * the store for the next start. Does not close the store.
   *
   * @param options `timeoutMs`, default 10000
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** The queue closed before the awaited run ended. */
export class QueueClosedError extends Error {
  /**
   * Make the error.
   *
   * @param message why
   */
  constructor(message = "The queue closed before the delivery ran") {
    super(message);
    this.name = "QueueClosedError";
  }
}

/**
 * Check what {@linkcode QueueOptions} the queue is built with, once, before it starts.
 *
 * @param options the queue's options
 * @throws {RangeError} when a limit or an endpoint's policy is invalid
 */
export function checkQueueOptions(options: QueueOptions): void {
  const { maxConcurrent, pollIntervalMs = 1, purgeIntervalMs = 0 } = options;
  for (const [name, value] of Object.entries({ maxConcurrent, pollIntervalMs })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`createQueue: ${name} must be a positive integer: got ${value}`);
    }
  }
  checkNonNegative("createQueue", "purgeIntervalMs", purgeIntervalMs);
  for (const [name, policy] of options.endpoints) checkEndpointPolicy("createQueue", name, policy);
}
