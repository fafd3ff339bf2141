/**
 * The durable dispatcher: runs queued deliveries' hooks within global and
 * per-endpoint limits, with retries and the `latest` policy. The store is the
 * queue; only running deliveries are kept in memory, so memory stays flat
 * however long the queue grows.
 *
 * @module
 */

import {
  type ClaimedDelivery,
  DEFAULT_PURGE_LIMIT,
  type NextState,
  type QueuedRef,
  type RunEnd,
  type Store,
} from "../store/mod.ts";
import type { HookRunResult } from "./hook_runner.ts";
import type { SkipPlan } from "./run_plan.ts";
import {
  decideAfterRun,
  DEFAULT_POLICY,
  type EndpointPolicy,
  type EndpointView,
  pickToRun,
  retryDelayMs,
} from "./policy.ts";
import { setTimeout as delay } from "node:timers/promises";

import {
  checkQueueOptions,
  type Queue,
  QueueClosedError,
  type QueueEvent,
  type QueueOptions,
  type RunSettled,
} from "./queue_types.ts";

/**
 * Build the dispatcher over a store. Nothing runs until `start()`.
 *
 * @param store the delivery store (the queue itself lives there)
 * @param options the runner, what each run starts with, limits and policies
 * @returns the queue
 * @throws {RangeError} when a limit or policy is invalid
 * @example
 * ```ts
 * import { openStore } from "../store/mod.ts";
 * import { createQueue } from "./queue.ts";
 *
 * await using store = openStore(":memory:");
 * await using queue = createQueue(store, {
 *   run: () => Promise.reject(new Error("not in this example")),
 *   plan: (d) => ({ command: d.hook, timeoutMs: d.timeoutMs, env: { HOOKD_DELIVERY_ID: d.id } }),
 *   maxConcurrent: 4,
 *   endpoints: new Map([["deploy", { concurrency: 1, retries: 3, onBusy: "latest" }]]),
 *   payloadDir: "/tmp",
 * });
 * ```
 */
export function createQueue(store: Store, options: QueueOptions): Queue {
  checkQueueOptions(options);
  return new DurableQueue(store, options);
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
  /** Failed tries to record it so far. */
  tries?: number;
}

/**
 * Tries to record a run's end before its slot is freed anyway (the store's
 * recovery settles the delivery later): a refused end must not hold a slot forever.
 */
const MAX_RECORD_TRIES = 10;

/** The longest retry delay: 5 minutes. */
const MAX_BACKOFF_MS = 300_000;

/**
 * An idle daemon polls every 30 s: new work is announced (intake, NOTIFY, the
 * re-queue file), so the idle poll is only a safety net, and a 5 s poll alone
 * cost ~60 ms of CPU a minute at rest.
 */
const IDLE_POLL_FACTOR = 30;

/** A run's record when no hook ran (skipped, or the runner threw). */
const NOTHING_RAN = {
  exitCode: null,
  signal: null,
  stdout: "",
  stderr: "",
  stdoutTruncated: false,
  stderrTruncated: false,
} as const;

class DurableQueue implements Queue {
  #store: Store;
  #options: QueueOptions;
  #now: () => number;
  #random: () => number;
  #running = new Map<string, Running>();
  /** Runs that ended but could not be recorded yet; their slots stay taken until they are. */
  #unsaved: Unsaved[] = [];
  /** Runs that ended, as events named by delivery id, and `close`; each wait's listeners go with its signal. */
  #settled = new EventTarget();
  #started = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  #pumpScheduled = false;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #queuedSeen = false;
  #wakeTimer: ReturnType<typeof setTimeout> | undefined;
  #wakeAt: number | null = null;
  #purgeTimer: ReturnType<typeof setTimeout> | undefined;
  #purging: Promise<void> | undefined;
  #starting = false;
  /** The pump under way; a pump asked for meanwhile runs once it ends. */
  #pumping: Promise<void> | undefined;
  #pumpAgain = false;
  /** The recording of ended runs under way. */
  #saving: Promise<void> | undefined;

  constructor(store: Store, options: QueueOptions) {
    this.#store = store;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  async start(): Promise<void> {
    if (this.#started || this.#closing || this.#starting) {
      throw new Error("The queue was already started");
    }
    this.#starting = true;
    const count = await this.#store.recover();
    this.#started = true;
    if (count > 0) this.#emit({ type: "recovered", count });
    this.#schedulePoll();
    this.#schedulePurge(0);
    this.#pump();
  }

  /** The next poll: {@linkcode IDLE_POLL_FACTOR} times later when nothing runs or waits. */
  #schedulePoll(): void {
    if (this.#closing) return;
    const every = this.#options.pollIntervalMs ?? 1000;
    const busy = this.#running.size > 0 || this.#unsaved.length > 0 || this.#queuedSeen;
    this.#pollTimer = setTimeout(async () => {
      await this.#poll();
      this.#schedulePoll();
    }, busy ? every : every * IDLE_POLL_FACTOR);
  }

  /**
   * At every poll: take back runs whose instance stopped renewing their
   * lease (a shared store; SQLite has none), then look for work.
   */
  async #poll(): Promise<void> {
    if (!this.#started || this.#closing) return;
    try {
      const count = await this.#store.reclaimExpired();
      if (count > 0) this.#emit({ type: "recovered", count });
    } catch (error) {
      this.#emit({ type: "error", during: "dispatch", error });
    }
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

  async waitForRun(id: string, options: { signal?: AbortSignal } = {}): Promise<RunSettled> {
    if (this.#closing) throw new QueueClosedError();
    const { signal } = options;
    if (signal?.aborted) throw signal.reason;
    const done = new AbortController();
    const stop = signal ? AbortSignal.any([signal, done.signal]) : done.signal;
    // Registered before the read, so that a run ending while the store answers is not missed.
    const waiting = new Promise<RunSettled>((resolve, reject) => {
      const listen = { once: true, signal: stop };
      this.#settled.addEventListener(id, (e) => resolve((e as CustomEvent).detail), listen);
      this.#settled.addEventListener("close", () => reject(new QueueClosedError()), listen);
      stop.addEventListener("abort", () => reject(stop.reason), { once: true });
    });
    waiting.catch(() => {});
    try {
      // Another instance sharing the store may run it: its end shows in the store only.
      for (;;) {
        const detail = await this.#store.get(id);
        if (!detail) throw new RangeError(`Unknown delivery ${id}`);
        if (detail.state !== "queued" && detail.state !== "running") {
          return {
            id,
            state: detail.state,
            run: detail.runs.at(-1) ?? null,
            supersededBy: detail.supersededBy,
          };
        }
        const settled = await Promise.race([
          waiting,
          delay(this.#options.pollIntervalMs ?? 1000, undefined, { signal: stop }).catch(() => {}),
        ]);
        if (settled) return settled;
      }
    } finally {
      done.abort();
    }
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
    clearTimeout(this.#pollTimer);
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
    await this.#pumping;
    await this.#saveUnsaved();
    this.#settled.dispatchEvent(new Event("close"));
  }

  #pump(): void {
    if (!this.#started || this.#closing) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = this.#pumpOnce().finally(() => {
      this.#pumping = undefined;
      if (this.#pumpAgain) {
        this.#pumpAgain = false;
        this.#pump();
      }
    });
  }

  async #pumpOnce(): Promise<void> {
    await this.#saveUnsaved();
    try {
      const now = this.#now();
      const views: EndpointView[] = [];
      // Runs on every instance sharing the store: a slot filled elsewhere is no slot here.
      const [endpoints, everywhere] = await Promise.all([
        this.#store.queuedEndpoints(),
        this.#store.runningByEndpoint(),
      ]);
      this.#queuedSeen = endpoints.length > 0;
      for (const endpoint of endpoints) {
        if (this.#closing) return;
        const policy = this.#policy(endpoint);
        const here = [...this.#running.values()].filter((r) => r.endpoint === endpoint).length;
        const running = Math.max(here, everywhere.get(endpoint) ?? 0);
        let head: QueuedRef[];
        if (policy.onBusy === "latest") {
          head = await this.#supersedeWaiting(endpoint);
        } else {
          const slots = policy.concurrency - running;
          head = slots > 0 ? await this.#store.queued(endpoint, { limit: slots }) : [];
        }
        views.push({ concurrency: policy.concurrency, running, head });
      }
      const free = this.#options.maxConcurrent - this.#running.size;
      const { start, wakeAt } = pickToRun(views, { freeSlots: free, now });
      if (this.#closing) return;
      // Asked together, so that the store may claim them in one commit; started in order.
      const claims = start.map((ref) => {
        // A store shared by several instances counts the endpoint's runs in all of them.
        const endpoint = views.find((view) => view.head.includes(ref));
        const concurrency = endpoint ? endpoint.concurrency : undefined;
        return this.#store.claim(ref.id, { concurrency });
      });
      let failure: { reason: unknown } | undefined;
      for (const claim of await Promise.allSettled(claims)) {
        // A claimed delivery is started even when closing: close() waits for it.
        if (claim.status === "fulfilled" && claim.value) this.#start(claim.value);
        else if (claim.status === "rejected") failure ??= claim;
      }
      if (failure) throw failure.reason;
      this.#scheduleWake(wakeAt);
    } catch (error) {
      this.#emit({ type: "error", during: "dispatch", error });
    }
  }

  /** For `latest`: keep only the newest waiting delivery of the endpoint. */
  async #supersedeWaiting(endpoint: string): Promise<QueuedRef[]> {
    const [newest] = await this.#store.queued(endpoint, { newest: true });
    if (!newest) return [];
    if ((await this.#store.queued(endpoint, { limit: 2 })).length > 1) {
      const ids = await this.#store.supersede(endpoint, newest.id);
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
      // The one moment configuration is read for this run.
      const plan = this.#options.plan(claimed);
      if ("skip" in plan) return await this.#skipped(claimed, plan);
      result = await this.#options.run(plan.command, {
        env: plan.env,
        stdin: claimed.body,
        timeoutMs: plan.timeoutMs,
        payloadDir: this.#options.payloadDir,
        killGraceMs: this.#options.killGraceMs,
        signal,
        ...(this.#options.onOutput
          ? {
            onOutput: (stream: "stdout" | "stderr", bytes: Uint8Array) =>
              this.#options.onOutput!(claimed.id, stream, bytes),
          }
          : {}),
        // Kept in the store so that the next start can end the group after a crash.
        onSpawn: (group) => {
          this.#store.recordProcessGroup(claimed, group).catch((error) =>
            this.#emit({ type: "error", during: "record", error, id: claimed.id })
          );
        },
      });
    } catch (error) {
      result = {
        ...NOTHING_RAN,
        startedAt,
        endedAt: this.#now(),
        durationMs: performance.now() - started,
        success: false,
        timedOut: false,
        aborted: signal.aborted,
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
        maxMs: MAX_BACKOFF_MS,
        random: this.#random(),
      }),
    });
    const { success: _, timedOut: _t, aborted: _a, ...run } = result;
    this.#unsaved.push({ claimed, end: { outcome, ...run }, next });
    await this.#saveUnsaved();
  }

  /** Record a run that had nothing to run: the hook is gone, or the filter refuses it now. */
  #skipped(claimed: ClaimedDelivery, plan: SkipPlan): Promise<void> {
    const end: RunEnd = {
      ...NOTHING_RAN,
      outcome: "skipped",
      endedAt: this.#now(),
      durationMs: 0,
      error: plan.reason,
    };
    this.#unsaved.push({ claimed, end, next: plan.skip });
    return this.#saveUnsaved();
  }

  /** Record ended runs; one that cannot be recorded keeps its slot and is tried again at the next pump. */
  #saveUnsaved(): Promise<void> {
    // One recorder at a time, in order; a run ending meanwhile is picked up by its loop.
    this.#saving ??= this.#saveInOrder().finally(() => this.#saving = undefined);
    return this.#saving;
  }

  async #saveInOrder(): Promise<void> {
    while (this.#unsaved.length > 0) {
      // All that ended so far, asked together so that the store may record them in one commit.
      const saving = this.#unsaved.splice(0);
      const saved = await Promise.allSettled(
        saving.map(({ claimed, end, next }) => this.#store.finishRun(claimed, end, next)),
      );
      const failed: Unsaved[] = [];
      saving.forEach((run, i) => {
        const result = saved[i];
        if (result.status === "fulfilled") this.#finished(run.claimed, run.end, run.next);
        else if ((run.tries = (run.tries ?? 0) + 1) < MAX_RECORD_TRIES) {
          this.#emit({ type: "error", during: "record", error: result.reason, id: run.claimed.id });
          failed.push(run);
        } else this.#giveUp(run, result.reason);
      });
      if (failed.length > 0) {
        this.#unsaved.unshift(...failed);
        return;
      }
    }
  }

  /** Free the slot of a run whose end could not be recorded, and say so. */
  #giveUp(run: Unsaved, reason: unknown): void {
    this.#running.delete(run.claimed.id);
    const error = new Error(
      `Gave up recording the end of run ${run.claimed.runId} after ${MAX_RECORD_TRIES} tries ` +
        `(${reason instanceof Error ? reason.message : String(reason)}): its slot is free, and ` +
        "the delivery stays running until the store's recovery takes it back",
      { cause: reason },
    );
    this.#emit({ type: "error", during: "record", error, id: run.claimed.id });
    this.notify();
  }

  #finished(claimed: ClaimedDelivery, end: RunEnd, next: NextState): void {
    this.#running.delete(claimed.id);
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
        ...end,
        id: claimed.runId,
        attempt: claimed.attempt,
        startedAt: end.startedAt ?? end.endedAt,
        durationMs: Math.round(end.durationMs),
        error: end.error ?? null,
      },
      supersededBy: null,
    });
    this.notify();
  }

  #settle(settled: RunSettled): void {
    this.#settled.dispatchEvent(new CustomEvent(settled.id, { detail: settled }));
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
        const deleted = await this.#store.purge(olderThan);
        total += deleted;
        if (deleted < DEFAULT_PURGE_LIMIT) break;
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

/** Whether `promise` settles (fulfils or rejects) within `ms`; leaves no timer behind. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then(() => true, () => true),
      delay(ms, false, { signal: timer.signal }),
    ]);
  } finally {
    timer.abort();
  }
}
