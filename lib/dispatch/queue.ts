/**
 * The durable dispatcher: runs the hooks of queued deliveries from the
 * store, within global and per-endpoint concurrency limits, with retries,
 * exponential backoff and jitter, and the `latest` run policy.
 *
 * The store is the queue; this keeps only the ids of running deliveries in
 * memory, so memory stays flat however long the queue grows, and work
 * requeued by another process (`hookd replay`) is found by polling.
 *
 * @module
 */

import type {
  ClaimedDelivery,
  DeliveryState,
  NextState,
  QueuedRef,
  RunEnd,
  RunOutcome,
  RunRecord,
  Store,
} from "../store/mod.ts";
import { checkNonNegative } from "../config/limits.ts";
import { createStartTimeReader, type StartTimeReader } from "./start_time.ts";
import type { HookRunResult, RunHookOptions } from "./hook_runner.ts";
import {
  checkEndpointPolicy,
  decideAfterRun,
  DEFAULT_POLICY,
  type EndpointPolicy,
  type EndpointView,
  pickToRun,
  retryDelayMs,
} from "./policy.ts";
import { settleWithin } from "./_settle.ts";
import { Waiters } from "./_waiters.ts";

/**
 * Runs one hook command; `runHook` from `hook_runner.ts` in production. The
 * queue passes `env` from `QueueOptions.env`, the time limit from the
 * delivery, a `signal` that fires when the queue closes and stops waiting
 * for the hook, and `startTimes`, the queue's one `StartTimeReader` (its shell
 * starts at the first run and stops when the queue closes). In the
 * result, `timedOut` counts as a failure; `aborted` (the queue closed)
 * requeues the delivery instead.
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
  /** Builds a hook's whole environment for a delivery. */
  env: (delivery: ClaimedDelivery) => Record<string, string>;
  /** Hooks that may run at once, across endpoints. */
  maxConcurrent: number;
  /** Policies by endpoint name; others get {@linkcode DEFAULT_POLICY}. */
  endpoints: ReadonlyMap<string, EndpointPolicy>;
  /** Where the runner writes payload files. */
  payloadDir: string;
  /** How often to look for work another process queued, default 1000 ms. */
  pollIntervalMs?: number;
  /** The longest retry delay, default 300000 (5 minutes). */
  maxBackoffMs?: number;
  /** Passed to the runner. */
  killGraceMs?: number;
  /** Passed to the runner. */
  outputLimitBytes?: number;
  /** How often to purge deliveries older than the store's retention, default 1 hour; 0 never. */
  purgeIntervalMs?: number;
  /** The clock, epoch milliseconds; for tests. */
  now?: () => number;
  /** Jitter source in [0, 1); for tests. */
  random?: () => number;
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
  start(): void;

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
 * Build the dispatcher over a store. Nothing runs until `start()`.
 *
 * @param store the delivery store (the queue itself lives there)
 * @param options the runner, environment builder, limits and policies
 * @returns the queue
 * @throws {RangeError} when a limit or policy is invalid
 * @example
 * ```ts
 * import { openStore } from "../store/mod.ts";
 * import { createQueue } from "./queue.ts";
 *
 * using store = openStore(":memory:");
 * await using queue = createQueue(store, {
 *   run: () => Promise.reject(new Error("not in this example")),
 *   env: (d) => ({ HOOKD_DELIVERY_ID: d.id }),
 *   maxConcurrent: 4,
 *   endpoints: new Map([["deploy", { concurrency: 1, retries: 3, onBusy: "latest" }]]),
 *   payloadDir: "/tmp",
 * });
 * ```
 */
export function createQueue(store: Store, options: QueueOptions): Queue {
  checkOptions(options);
  return new DurableQueue(store, options);
}

function checkOptions(options: QueueOptions): void {
  const positiveInteger = (name: string, value: unknown) => {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new RangeError(`createQueue: ${name} must be a positive integer: got ${value}`);
    }
  };
  const nonNegative = (name: string, value: unknown) =>
    checkNonNegative("createQueue", name, value);
  if (typeof options.run !== "function") throw new TypeError("createQueue: run must be a function");
  if (typeof options.env !== "function") throw new TypeError("createQueue: env must be a function");
  positiveInteger("maxConcurrent", options.maxConcurrent);
  if (options.pollIntervalMs !== undefined) {
    positiveInteger("pollIntervalMs", options.pollIntervalMs);
  }
  if (options.maxBackoffMs !== undefined) nonNegative("maxBackoffMs", options.maxBackoffMs);
  if (options.purgeIntervalMs !== undefined) {
    nonNegative("purgeIntervalMs", options.purgeIntervalMs);
  }
  for (const [name, policy] of options.endpoints) checkEndpointPolicy("createQueue", name, policy);
}

interface Running {
  endpoint: string;
  controller: AbortController;
  done: Promise<void>;
}

interface Unsaved {
  claimed: ClaimedDelivery;
  end: RunEnd;
  next: NextState;
}

const PURGE_BATCH = 500;

class DurableQueue implements Queue {
  #store: Store;
  #options: QueueOptions;
  #now: () => number;
  #random: () => number;
  #running = new Map<string, Running>();
  #runningByEndpoint = new Map<string, number>();
  /** Runs that ended but could not be recorded yet; their slots stay taken until they are. */
  #unsaved: Unsaved[] = [];
  #waiters = new Waiters<RunSettled>();
  #started = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  #pumpScheduled = false;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #wakeTimer: ReturnType<typeof setTimeout> | undefined;
  #wakeAt: number | null = null;
  #purgeTimer: ReturnType<typeof setTimeout> | undefined;
  #purging: Promise<void> | undefined;
  /** Shared by all runs, so that recording a hook's group spawns nothing. */
  #startTimes: StartTimeReader = createStartTimeReader();

  constructor(store: Store, options: QueueOptions) {
    this.#store = store;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  start(): void {
    if (this.#started || this.#closing) throw new Error("The queue was already started");
    const count = this.#store.recover();
    this.#started = true;
    if (count > 0) this.#emit({ type: "recovered", count });
    this.#pollTimer = setInterval(() => this.#pump(), this.#options.pollIntervalMs ?? 1000);
    this.#schedulePurge(0);
    this.#pump();
  }

  notify(): void {
    if (!this.#started || this.#closing || this.#pumpScheduled) return;
    // With every slot taken there is nothing to start, so spare the store the reads: the
    // run that frees a slot pumps again, and the poll still supersedes waiting `latest`
    // deliveries and retries unsaved runs meanwhile.
    if (this.#running.size >= this.#options.maxConcurrent) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  waitForRun(id: string, options: { signal?: AbortSignal } = {}): Promise<RunSettled> {
    if (this.#closing) return Promise.reject(new QueueClosedError());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let detail;
    try {
      detail = this.#store.get(id);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!detail) return Promise.reject(new RangeError(`Unknown delivery ${id}`));
    if (detail.state !== "queued" && detail.state !== "running") {
      return Promise.resolve({
        id,
        state: detail.state,
        run: detail.runs.at(-1) ?? null,
        supersededBy: detail.supersededBy,
      });
    }
    return this.#waiters.wait(id, signal);
  }

  runningIds(): string[] {
    return [...this.#running.keys()];
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closed ??= this.#close(options.timeoutMs ?? 10_000);
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#wakeTimer);
    clearTimeout(this.#purgeTimer);
    await this.#purging;
    const allDone = () => Promise.all([...this.#running.values()].map((r) => r.done));
    if (!await settleWithin(allDone(), timeoutMs)) {
      for (const running of this.#running.values()) {
        running.controller.abort(new QueueClosedError("hookd is shutting down"));
      }
      // The runner terminates aborted hooks within its kill grace; do not wait forever for one that will not.
      await settleWithin(allDone(), (this.#options.killGraceMs ?? 5000) + 5000);
    }
    // A run still going gets a one-off shell from now on: its group is still recorded.
    await this.#startTimes.close();
    this.#saveUnsaved();
    this.#waiters.rejectAll(() => new QueueClosedError());
  }

  #pump(): void {
    if (!this.#started || this.#closing) return;
    this.#saveUnsaved();
    try {
      const now = this.#now();
      const views: EndpointView[] = [];
      for (const endpoint of this.#store.queuedEndpoints()) {
        const policy = this.#policy(endpoint);
        const running = this.#runningByEndpoint.get(endpoint) ?? 0;
        let head: QueuedRef[];
        if (policy.onBusy === "latest") {
          head = this.#supersedeWaiting(endpoint);
        } else {
          const slots = policy.concurrency - running;
          head = slots > 0 ? this.#store.queued(endpoint, { limit: slots }) : [];
        }
        views.push({ concurrency: policy.concurrency, running, head });
      }
      const free = this.#options.maxConcurrent - this.#running.size;
      const { start, wakeAt } = pickToRun(views, { freeSlots: free, now });
      for (const ref of start) {
        const claimed = this.#store.claim(ref.id);
        if (claimed) this.#start(claimed);
      }
      this.#scheduleWake(wakeAt);
    } catch (error) {
      this.#emit({ type: "error", during: "dispatch", error });
    }
  }

  /** For `latest`: keep only the newest waiting delivery of the endpoint. */
  #supersedeWaiting(endpoint: string): QueuedRef[] {
    const [newest] = this.#store.queued(endpoint, { newest: true });
    if (!newest) return [];
    if (this.#store.queued(endpoint, { limit: 2 }).length > 1) {
      const ids = this.#store.supersede(endpoint, newest.id);
      if (ids.length > 0) {
        this.#emit({ type: "superseded", endpoint, ids, by: newest.id });
        for (const id of ids) {
          this.#settle({ id, state: "superseded", run: null, supersededBy: newest.id });
        }
      }
    }
    return [newest];
  }

  #start(claimed: ClaimedDelivery): void {
    const controller = new AbortController();
    const entry: Running = {
      endpoint: claimed.endpoint,
      controller,
      done: Promise.resolve(),
    };
    this.#running.set(claimed.id, entry);
    this.#adjustEndpoint(claimed.endpoint, 1);
    this.#emit({
      type: "run-start",
      id: claimed.id,
      endpoint: claimed.endpoint,
      event: claimed.event,
      attempt: claimed.attempt,
      runId: claimed.runId,
    });
    entry.done = this.#execute(claimed, controller.signal);
  }

  async #execute(claimed: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const startedAt = this.#now();
    const started = performance.now();
    let result: HookRunResult;
    try {
      result = await this.#options.run(claimed.hook, {
        env: this.#options.env(claimed),
        stdin: claimed.body,
        timeoutMs: claimed.timeoutMs,
        payloadDir: this.#options.payloadDir,
        killGraceMs: this.#options.killGraceMs,
        outputLimitBytes: this.#options.outputLimitBytes,
        signal,
        startTimes: this.#startTimes,
        // Kept in the store so that the next start can end the group after a crash.
        onSpawn: (group) => {
          try {
            this.#store.recordProcessGroup(claimed, group);
          } catch (error) {
            this.#emit({ type: "error", during: "record", error, id: claimed.id });
          }
        },
      });
    } catch (error) {
      result = {
        startedAt,
        endedAt: this.#now(),
        durationMs: performance.now() - started,
        exitCode: null,
        signal: null,
        success: false,
        timedOut: false,
        aborted: signal.aborted,
        stdout: "",
        stderr: "",
        stdoutTruncated: false,
        stderrTruncated: false,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    const policy = this.#policy(claimed.endpoint);
    const now = this.#now();
    const { outcome, next } = decideAfterRun(result, {
      failures: claimed.failures,
      retries: policy.retries,
      now,
      delayMs: retryDelayMs(claimed.failures + 1, {
        baseMs: policy.backoffMs ?? DEFAULT_POLICY.backoffMs,
        maxMs: this.#options.maxBackoffMs ?? 300_000,
        random: this.#random(),
      }),
    });
    const end: RunEnd = {
      outcome,
      startedAt: result.startedAt,
      endedAt: result.endedAt,
      durationMs: result.durationMs,
      exitCode: result.exitCode,
      signal: result.signal,
      stdout: result.stdout,
      stderr: result.stderr,
      stdoutTruncated: result.stdoutTruncated,
      stderrTruncated: result.stderrTruncated,
      error: result.error,
    };
    this.#unsaved.push({ claimed, end, next });
    this.#saveUnsaved();
  }

  /** Record ended runs; one that cannot be recorded keeps its slot and is tried again at the next pump. */
  #saveUnsaved(): void {
    while (this.#unsaved.length > 0) {
      const { claimed, end, next } = this.#unsaved[0];
      try {
        this.#store.finishRun(claimed, end, next);
      } catch (error) {
        this.#emit({ type: "error", during: "record", error, id: claimed.id });
        return;
      }
      this.#unsaved.shift();
      this.#finished(claimed, end, next);
    }
  }

  #finished(claimed: ClaimedDelivery, end: RunEnd, next: NextState): void {
    this.#running.delete(claimed.id);
    this.#adjustEndpoint(claimed.endpoint, -1);
    const retryAt = next.state === "queued" && next.failed ? next.notBefore : null;
    this.#emit({
      type: "run-end",
      id: claimed.id,
      endpoint: claimed.endpoint,
      event: claimed.event,
      attempt: claimed.attempt,
      runId: claimed.runId,
      outcome: end.outcome,
      exitCode: end.exitCode,
      signal: end.signal,
      durationMs: Math.round(end.durationMs),
      state: next.state,
      retryAt,
    });
    this.#settle({
      id: claimed.id,
      state: next.state,
      run: {
        id: claimed.runId,
        attempt: claimed.attempt,
        startedAt: end.startedAt ?? end.endedAt,
        endedAt: end.endedAt,
        durationMs: Math.round(end.durationMs),
        outcome: end.outcome,
        exitCode: end.exitCode,
        signal: end.signal,
        stdout: end.stdout,
        stderr: end.stderr,
        stdoutTruncated: end.stdoutTruncated,
        stderrTruncated: end.stderrTruncated,
        error: end.error ?? null,
      },
      supersededBy: null,
    });
    this.notify();
  }

  #settle(settled: RunSettled): void {
    this.#waiters.settle(settled.id, settled);
  }

  #adjustEndpoint(endpoint: string, delta: number): void {
    const count = (this.#runningByEndpoint.get(endpoint) ?? 0) + delta;
    if (count > 0) this.#runningByEndpoint.set(endpoint, count);
    else this.#runningByEndpoint.delete(endpoint);
  }

  #policy(endpoint: string): EndpointPolicy {
    return this.#options.endpoints.get(endpoint) ?? DEFAULT_POLICY;
  }

  #scheduleWake(wakeAt: number | null): void {
    if (wakeAt === this.#wakeAt) return;
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#wakeAt = wakeAt;
    if (wakeAt === null) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#wakeAt = null;
      this.#pump();
    }, Math.max(wakeAt - this.#now(), 0));
  }

  #schedulePurge(delayMs: number): void {
    const interval = this.#options.purgeIntervalMs ?? 3_600_000;
    if (interval === 0 || this.#closing) return;
    this.#purgeTimer = setTimeout(() => {
      this.#purging = this.#purge().finally(() => {
        this.#purging = undefined;
        this.#schedulePurge(interval);
      });
    }, delayMs);
  }

  async #purge(): Promise<void> {
    let total = 0;
    try {
      const olderThan = this.#now() - this.#store.retentionMs;
      while (!this.#closing) {
        const deleted = this.#store.purge(olderThan, { limit: PURGE_BATCH });
        total += deleted;
        if (deleted < PURGE_BATCH) break;
        // Let requests in between batches: purging must never stall the accept path.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } catch (error) {
      this.#emit({ type: "error", during: "purge", error });
    }
    if (total > 0) this.#emit({ type: "purged", count: total });
  }

  #emit(event: QueueEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // A broken log must not stop the queue.
    }
  }
}
