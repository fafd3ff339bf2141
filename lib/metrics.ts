/**
 * Prometheus metrics for the admin listener's `GET /metrics`, in a prom-client
 * registry per daemon, and per-minute counts the store does not keep
 * ({@linkcode createMinuteCounter}). The process gauges are hookd's own, not
 * `collectDefaultMetrics`: it has no include list, and its event-loop monitor
 * cost about 8 MB of peak RSS in the 10,000-delivery burst. Label values come
 * from hookd's own vocabulary, never from a request, so a scanner cannot grow
 * the series without bound.
 *
 * @module
 */

import type { Metric, Registry } from "prom-client";
import type { VerifyOutcome } from "./verify/mod.ts";
import type { StoreStats } from "./store/mod.ts";

/**
 * What became of one request, as its log record and `hookd_requests_total`
 * name it: taken, refused (`rejected.*`), or `error` for hookd's own fault (500).
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
  /** Read the queue at each scrape; without it the queue gauges read 0. */
  queue?: () => QueueSnapshot | Promise<QueueSnapshot>;
  /** Read the store's own counters at each scrape (`Store.stats()`). */
  store?: () => StoreCounters | Promise<StoreCounters>;
}

/** The store's counters the metrics export. */
export type StoreCounters = Pick<StoreStats, "insertTransactions" | "inserted" | "checkpoints">;

/** The daemon's metrics. */
export interface Metrics {
  /** Count an answered request, its body bytes and, if so, a failed signature. */
  observeRequest(record: RequestObservation): void;
  /** Count a finished hook run and record its duration. */
  observeHookRun(run: HookRunObservation): void;
  /** The exposition text. */
  render(): Promise<string>;
  /** The exposition's content type, for the response header. */
  readonly contentType: string;
}

/**
 * Create the metrics, all at zero. Requests and runs only add to plain counts;
 * prom-client (about 8 MB of resident memory) is imported at the first scrape,
 * so a daemon nobody scrapes never loads it.
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
 * assert.match(text, /hookd_requests_total{endpoint="github",outcome="accepted"} 1/);
 * ```
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const counts: Counts = {
    requests: new Map(),
    signatureFailures: new Map(),
    bodyBytes: new Map(),
    hookRuns: new Map(),
    // Per bucket, not cumulative; the last slot counts what is above every bound.
    durationBuckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
    durationSum: 0,
    durationCount: 0,
    queueDepth: 0,
    oldestAge: 0,
    store: { insertTransactions: 0, inserted: 0, checkpoints: 0 },
  };
  const storeSeen: StoreCounters = { insertTransactions: 0, inserted: 0, checkpoints: 0 };
  let registry: Promise<Registry> | undefined;

  return {
    observeRequest(record) {
      const endpoint = record.endpoint ?? "";
      add(counts.requests, labelKey(endpoint, label(record.outcome)), 1);
      if (AUTH_FAILURES.has(record.outcome)) add(counts.signatureFailures, endpoint, 1);
      if (record.bytes !== undefined && record.bytes > 0) {
        add(counts.bodyBytes, endpoint, record.bytes);
      }
    },
    observeHookRun(run) {
      add(counts.hookRuns, labelKey(run.endpoint, label(run.outcome)), 1);
      const seconds = Math.max(0, run.durationSeconds);
      let bucket = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
      if (bucket === -1) bucket = DURATION_BUCKETS.length;
      counts.durationBuckets[bucket]++;
      counts.durationSum += seconds;
      counts.durationCount++;
    },
    async render() {
      if (options.queue) {
        const snapshot = await options.queue();
        counts.queueDepth = snapshot.depth;
        counts.oldestAge = snapshot.oldestAgeSeconds;
      }
      if (options.store) {
        const now = await options.store();
        for (const key of Object.keys(counts.store) as (keyof StoreCounters)[]) {
          // Counters only go up: a store reopened by a reload starts again from 0.
          const delta = now[key] - storeSeen[key];
          if (delta > 0) counts.store[key] += delta;
          storeSeen[key] = now[key];
        }
      }
      registry ??= buildRegistry(counts);
      registry.catch(() => registry = undefined);
      return await (await registry).metrics();
    },
    contentType: PROMETHEUS_CONTENT_TYPE,
  };
}

/** prom-client's `Registry.PROMETHEUS_CONTENT_TYPE`, known before it is imported. */
const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What the metrics hold between scrapes. */
interface Counts {
  /** By {@linkcode labelKey} of endpoint and outcome. */
  requests: Map<string, number>;
  signatureFailures: Map<string, number>;
  bodyBytes: Map<string, number>;
  /** By {@linkcode labelKey} of endpoint and outcome. */
  hookRuns: Map<string, number>;
  durationBuckets: number[];
  durationSum: number;
  durationCount: number;
  queueDepth: number;
  oldestAge: number;
  store: StoreCounters;
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Two label values in one map key; NUL is in neither (endpoint names and outcomes are checked). */
function labelKey(endpoint: string, outcome: string): string {
  return `${endpoint}\0${outcome}`;
}

/** Import prom-client and build a registry whose families read `counts` at each scrape. */
async function buildRegistry(counts: Counts): Promise<Registry> {
  // node:process with it: both only for a daemon that is scraped.
  const [{ Counter, Gauge, Registry }, { cpuUsage }] = await Promise.all([
    import("prom-client"),
    import("node:process"),
  ]);
  const registry = new Registry();
  const registers = [registry];
  // A counter set at each scrape to a total kept elsewhere: one number, or a map by label
  // values (NUL-joined for two, see labelKey).
  const total = (
    name: string,
    help: string,
    read: () => number | Map<string, number>,
    ...labelNames: string[]
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        const value = read();
        if (typeof value === "number") return this.inc(value);
        for (const [key, n] of value) {
          const values = key.split("\0");
          this.inc(Object.fromEntries(labelNames.map((label, i) => [label, values[i]])), n);
        }
      },
    });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  // The process gauges, named as prom-client's default metrics name them.
  const cpu = (name: string, help: string, seconds: (usage: NodeJS.CpuUsage) => number) =>
    total(name, help, () => seconds(cpuUsage()));
  cpu("process_cpu_user_seconds_total", "User CPU time spent in seconds.", (u) => u.user / 1e6);
  cpu("process_cpu_system_seconds_total", "System CPU time in seconds.", (u) => u.system / 1e6);
  cpu("process_cpu_seconds_total", "Total CPU time in seconds.", (u) => (u.user + u.system) / 1e6);
  const startSeconds = Math.round(performance.timeOrigin / 1000);
  gauge("process_start_time_seconds", "Start time since the epoch in seconds.", () => startSeconds);
  const memory = (name: string, help: string, key: keyof Deno.MemoryUsage) =>
    gauge(name, help, () => Deno.memoryUsage()[key]);
  memory("process_resident_memory_bytes", "Resident memory size in bytes.", "rss");
  memory("nodejs_heap_size_total_bytes", "V8 heap size in bytes.", "heapTotal");
  memory("nodejs_heap_size_used_bytes", "V8 heap used in bytes.", "heapUsed");
  memory("nodejs_external_memory_bytes", "V8 external memory in bytes.", "external");
  total(
    "hookd_requests_total",
    "Requests answered, by endpoint and outcome (endpoint is empty when none matched).",
    () => counts.requests,
    "endpoint",
    "outcome",
  );
  total(
    "hookd_signature_failures_total",
    "Requests refused because their signature, token or timestamp did not verify.",
    () => counts.signatureFailures,
    "endpoint",
  );
  total("hookd_body_bytes_total", "Request body bytes read.", () => counts.bodyBytes, "endpoint");
  total(
    "hookd_hook_runs_total",
    "Hook runs finished, by endpoint and outcome.",
    () => counts.hookRuns,
    "endpoint",
    "outcome",
  );
  registry.registerMetric(durationHistogram(counts) as unknown as Metric);
  gauge("hookd_queue_depth", "Deliveries waiting to run.", () => counts.queueDepth);
  gauge(
    "hookd_oldest_queued_age_seconds",
    "Age of the oldest delivery waiting to run; 0 when none waits.",
    () => counts.oldestAge,
  );
  total(
    "hookd_store_commits_total",
    "Commits that stored accepted deliveries; inserts / commits is the group-commit batch size.",
    () => counts.store.insertTransactions,
  );
  total("hookd_store_inserts_total", "Accepted deliveries stored.", () => counts.store.inserted);
  total(
    "hookd_store_checkpoints_total",
    "WAL checkpoints done by the background checkpointer.",
    () => counts.store.checkpoints,
  );
  return registry;
}

/**
 * `hookd_hook_duration_seconds` as prom-client's histograms give their `get()`,
 * from counts kept without it: its `Histogram` takes one observation at a time.
 */
function durationHistogram(counts: Counts) {
  const name = "hookd_hook_duration_seconds";
  return {
    name,
    help: "How long hook runs took.",
    type: "histogram",
    aggregator: "sum",
    get() {
      let cumulative = 0;
      const values = DURATION_BUCKETS.map((bound, i) => {
        cumulative += counts.durationBuckets[i];
        return { labels: { le: bound }, value: cumulative, metricName: `${name}_bucket` };
      });
      values.push(
        {
          labels: { le: "+Inf" as unknown as number },
          value: counts.durationCount,
          metricName: `${name}_bucket`,
        },
        { labels: {} as { le: number }, value: counts.durationSum, metricName: `${name}_sum` },
        { labels: {} as { le: number }, value: counts.durationCount, metricName: `${name}_count` },
      );
      return Promise.resolve({ name, help: this.help, type: this.type, values, aggregator: "sum" });
    },
    reset() {},
  };
}

/** Keep label values to hookd's own vocabulary shape. */
function label(outcome: string): string {
  return /^[a-z_.]{1,64}$/.test(outcome) ? outcome : "other";
}

const MINUTE_MS = 60_000;

/** A ring of per-minute counts. */
export interface MinuteCounter {
  /** Count one event at `now` (default: the clock's time). */
  add(now?: number): void;
  /**
   * The counts of the minutes from `since` (rounded down to its minute) up to `until`.
   *
   * @param since epoch milliseconds
   * @param until epoch milliseconds
   * @returns one count per minute, oldest first; 0 for minutes older than the ring holds
   */
  perMinute(since: number, until: number): number[];
}

/** Options for {@linkcode createMinuteCounter}. */
export interface MinuteCounterOptions {
  /** Minutes kept; default 60. */
  minutes?: number;
  /** The clock, epoch milliseconds; for tests. */
  now?: () => number;
}

/**
 * Make a counter that keeps the last `minutes` minutes.
 *
 * @param options how many minutes, and the clock
 * @returns the counter
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMinuteCounter } from "./metrics.ts";
 * const counter = createMinuteCounter({ now: () => 120_000 });
 * counter.add();
 * counter.add();
 * assert.deepEqual(counter.perMinute(60_000, 180_000), [0, 2]);
 * ```
 */
export function createMinuteCounter(options: MinuteCounterOptions = {}): MinuteCounter {
  const size = options.minutes ?? 60;
  const clock = options.now ?? Date.now;
  const counts = new Array<number>(size).fill(0);
  /** The minute number each slot counts, so a slot left from an older lap reads as 0. */
  const slotMinute = new Array<number>(size).fill(-1);
  return {
    add(now = clock()) {
      const minute = Math.floor(now / MINUTE_MS);
      const slot = minute % size;
      if (slotMinute[slot] !== minute) {
        slotMinute[slot] = minute;
        counts[slot] = 0;
      }
      counts[slot]++;
    },
    perMinute(since, until) {
      const out: number[] = [];
      for (let minute = Math.floor(since / MINUTE_MS); minute * MINUTE_MS < until; minute++) {
        const slot = minute % size;
        out.push(slotMinute[slot] === minute ? counts[slot] : 0);
      }
      return out;
    },
  };
}
