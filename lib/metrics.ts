/**
 * Prometheus metrics for the admin listener's `GET /metrics`, kept with
 * prom-client in a registry of their own (one per daemon, so tests and
 * reloads never collide on the global one).
 *
 * Next to hookd's own families the registry has prom-client's default
 * metrics (`process_*` and `nodejs_*`): CPU time, start time, resident
 * memory, heap, event-loop lag.
 *
 * Label values come from hookd's own vocabulary (configured endpoint names,
 * fixed outcomes), never from a request's path or headers, so a scanner
 * cannot grow the series without bound.
 *
 * @module
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import gcDuration from "prom-client/lib/metrics/gc.js";
import heapSizeAndUsed from "prom-client/lib/metrics/heapSizeAndUsed.js";
import heapSpacesSizeAndUsed from "prom-client/lib/metrics/heapSpacesSizeAndUsed.js";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal.js";
import processHandles from "prom-client/lib/metrics/processHandles.js";
import processRequests from "prom-client/lib/metrics/processRequests.js";
import processStartTime from "prom-client/lib/metrics/processStartTime.js";
import nodeVersion from "prom-client/lib/metrics/version.js";
import type { VerifyOutcome } from "./verify/types.ts";

/**
 * What became of one request, as its log record and `hookd_requests_total`
 * name it: taken (`accepted`, `ignored` for no hook, `filtered` for a
 * delivery whose filter failed, `duplicate`,
 * `answered` for a handshake, `accepted.pending` and `hook.*` for
 * `_RESPOND=output`), refused (`rejected.*`), or `error` for hookd's own
 * fault (500).
 */
export type RequestOutcome =
  | "accepted"
  | "accepted.pending"
  | "ignored"
  | "filtered"
  | "duplicate"
  | "answered"
  | "hook.succeeded"
  | "hook.failed"
  | "rejected"
  | "rejected.not_found"
  | "rejected.forbidden"
  | "rejected.method"
  | "rejected.too_large"
  | "rejected.incomplete"
  | "rejected.timeout"
  | "rejected.rate_limited"
  | "rejected.queue_full"
  | "rejected.store_unavailable"
  | VerifyOutcome
  | "error";

/** Request outcomes that mean the sender failed to authenticate. */
const AUTH_FAILURES: ReadonlySet<RequestOutcome> = new Set<RequestOutcome>([
  "rejected.signature",
  "rejected.token",
  "rejected.stale",
]);

/** Hook durations in seconds: from a quick `echo` to a long deploy. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** One answered request, as the request log record has it. */
export interface RequestObservation {
  /** The configured endpoint, or `undefined` when none matched. */
  endpoint?: string;
  /** The log outcome, e.g. `accepted` or `rejected.signature`. */
  outcome: RequestOutcome;
  /** Body bytes read, when the body was read. */
  bytes?: number;
}

/** One finished hook run. */
export interface HookRunObservation {
  /** The endpoint. */
  endpoint: string;
  /** The queue's run outcome: `succeeded`, `failed`, `timed_out` or `aborted`. */
  outcome: string;
  /** How long it ran, in seconds. */
  durationSeconds: number;
}

/** The queue as a scrape sees it. */
export interface QueueSnapshot {
  /** Deliveries waiting to run. */
  depth: number;
  /** Age of the oldest waiting delivery in seconds; 0 when none waits. */
  oldestAgeSeconds: number;
}

/** Options for {@linkcode createMetrics}. */
export interface MetricsOptions {
  /**
   * Read the queue at each scrape, so the gauges are never stale; without
   * it they hold what {@linkcode Metrics.setQueue} set last.
   */
  queue?: () => QueueSnapshot | Promise<QueueSnapshot>;
  /** Read the store's own counters at each scrape (see {@linkcode StoreCounters}). */
  store?: () => StoreCounters | Promise<StoreCounters>;
}

/** The delivery store's work since it opened, as `Store.stats()` reports it. */
export interface StoreCounters {
  /** Transactions that stored accepted deliveries (one per group commit). */
  insertTransactions: number;
  /** Deliveries stored. */
  inserted: number;
  /** WAL checkpoints done in the background. */
  checkpoints: number;
}

/** The daemon's metrics. */
export interface Metrics {
  /** Count an answered request, its body bytes and, if so, a failed signature. */
  observeRequest(record: RequestObservation): void;
  /** Count a finished hook run and record its duration. */
  observeHookRun(run: HookRunObservation): void;
  /** Set the queue gauges. */
  setQueue(depth: number, oldestAgeSeconds: number): void;
  /** The exposition text. */
  render(): Promise<string>;
  /** The exposition's content type, for the response header. */
  readonly contentType: string;
}

/**
 * Create the metrics, all at zero.
 *
 * @param options where to read the queue from at scrape time
 * @returns the metrics
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "./metrics.ts";
 * const metrics = createMetrics();
 * metrics.observeRequest({ endpoint: "github", outcome: "accepted", bytes: 120 });
 * const text = await metrics.render();
 * assert.ok(text.includes('hookd_requests_total{endpoint="github",outcome="accepted"} 1'));
 * ```
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  addProcessMetrics(registry);
  const registers = [registry];
  const requests = new Counter({
    name: "hookd_requests_total",
    help: "Requests answered, by endpoint and outcome (endpoint is empty when none matched).",
    labelNames: ["endpoint", "outcome"] as const,
    registers,
  });
  const signatureFailures = new Counter({
    name: "hookd_signature_failures_total",
    help: "Requests refused because their signature, token or timestamp did not verify.",
    labelNames: ["endpoint"] as const,
    registers,
  });
  const bodyBytes = new Counter({
    name: "hookd_body_bytes_total",
    help: "Request body bytes read.",
    labelNames: ["endpoint"] as const,
    registers,
  });
  const hookRuns = new Counter({
    name: "hookd_hook_runs_total",
    help: "Hook runs finished, by endpoint and outcome.",
    labelNames: ["endpoint", "outcome"] as const,
    registers,
  });
  const hookDuration = new Histogram({
    name: "hookd_hook_duration_seconds",
    help: "How long hook runs took.",
    buckets: DURATION_BUCKETS,
    registers,
  });
  const queueDepth = new Gauge({
    name: "hookd_queue_depth",
    help: "Deliveries waiting to run.",
    registers,
  });
  const oldestAge = new Gauge({
    name: "hookd_oldest_queued_age_seconds",
    help: "Age of the oldest delivery waiting to run; 0 when none waits.",
    registers,
  });

  const storeCounters = {
    insertTransactions: new Counter({
      name: "hookd_store_commits_total",
      help:
        "Commits that stored accepted deliveries; inserts / commits is the group-commit batch size.",
      registers,
    }),
    inserted: new Counter({
      name: "hookd_store_inserts_total",
      help: "Accepted deliveries stored.",
      registers,
    }),
    checkpoints: new Counter({
      name: "hookd_store_checkpoints_total",
      help: "WAL checkpoints done by the background checkpointer.",
      registers,
    }),
  };
  const storeSeen: StoreCounters = { insertTransactions: 0, inserted: 0, checkpoints: 0 };

  function setQueue(depth: number, oldestAgeSeconds: number): void {
    queueDepth.set(depth);
    oldestAge.set(oldestAgeSeconds);
  }

  return {
    observeRequest(record) {
      const endpoint = record.endpoint ?? "";
      requests.inc({ endpoint, outcome: label(record.outcome) });
      if (AUTH_FAILURES.has(record.outcome)) signatureFailures.inc({ endpoint });
      if (record.bytes !== undefined && record.bytes > 0) {
        bodyBytes.inc({ endpoint }, record.bytes);
      }
    },
    observeHookRun(run) {
      hookRuns.inc({ endpoint: run.endpoint, outcome: label(run.outcome) });
      hookDuration.observe(Math.max(0, run.durationSeconds));
    },
    setQueue,
    async render() {
      if (options.queue) {
        const snapshot = await options.queue();
        setQueue(snapshot.depth, snapshot.oldestAgeSeconds);
      }
      if (options.store) {
        const now = await options.store();
        for (const key of Object.keys(storeCounters) as (keyof StoreCounters)[]) {
          // Counters only go up: a store reopened by a reload starts again from 0.
          const delta = now[key] - storeSeen[key];
          if (delta > 0) storeCounters[key].inc(delta);
          storeSeen[key] = now[key];
        }
      }
      // prom-client spells NaN `Nan` (the event-loop lag before its first
      // sample); Prometheus reads either, the text format says `NaN`.
      return (await registry.metrics()).replaceAll(/ Nan$/gm, " NaN");
    },
    contentType: registry.contentType,
  };
}

/**
 * prom-client's default collectors, less two kinds. Those that read
 * `/proc/self` (resident and virtual memory, open and max file descriptors):
 * Deno refuses `/proc` to a process without `--allow-all`, so they would read
 * 0; the resident size comes from Deno instead. And the event-loop lag
 * (`nodejs_eventloop_lag_*`): its `monitorEventLoopDelay` cost hookd about
 * 8 MB of peak RSS in the bench's burst of 10,000 deliveries (149 against 141
 * MB, two rounds each), which the 150 MB bound cannot spare.
 */
const DEFAULT_COLLECTORS: ((registry: Registry, config: object) => void)[] = [
  processCpuTotal,
  processStartTime,
  processHandles,
  processRequests,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  nodeVersion,
  gcDuration,
];

/** prom-client's default metrics in `registry`, each with a real value. */
function addProcessMetrics(registry: Registry): void {
  for (const collect of DEFAULT_COLLECTORS) collect(registry, {});
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers: [registry],
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
}

/** Keep label values to hookd's own vocabulary shape. */
function label(outcome: string): string {
  return /^[a-z_.]{1,64}$/.test(outcome) ? outcome : "other";
}
