/**
 * The store's vocabulary: deliveries, runs, filters, results and errors of the contract in `contract.ts`.
 *
 * @module
 */

/** Every delivery state, in lifecycle order. */
export const DELIVERY_STATES = [
  "queued",
  "running",
  "done",
  "failed",
  "ignored",
  "filtered",
  "superseded",
] as const;

/** Where a delivery stands. `queued` and `running` are unfinished; the rest are final. */
export type DeliveryState = typeof DELIVERY_STATES[number];

/**
 * How one hook run ended. `aborted` (hookd shut down) and `interrupted` (hookd died) do not count
 * against retries; `skipped`: the configuration when the run started had no hook, or its filter refused.
 */
export type RunOutcome =
  | "running"
  | "succeeded"
  | "failed"
  | "timed_out"
  | "aborted"
  | "interrupted"
  | "skipped";

/** A delivery as the accept path hands it over. */
export interface NewDelivery {
  /** The configured endpoint name. */
  endpoint: string;
  event: string;
  /** The sender's delivery id (`X-GitHub-Delivery`, `webhook-id`), used to suppress duplicates. */
  sourceId?: string;
  /** When the request arrived, epoch milliseconds. */
  receivedAt: number;
  contentType: string;
  /** The headers needed to re-verify or replay, signature values already redacted by the caller. */
  headers: Record<string, string>;
  body: Uint8Array;
  /** The hook command chosen for the event; null means no hook, and the delivery is `ignored`. */
  hook: string | null;
  /** The filter that failed (`HOOKD_GH_MATCH_PUSH: ref=refs/heads/main`): stored as `filtered`, not run. */
  filteredBy?: string;
  /** The hook's time limit in milliseconds. */
  timeoutMs: number;
  /** The verifier that accepted the delivery, e.g. `github`. */
  verifiedBy?: string;
  /** The hex SHA-256 of what an unstamped signature covers: a duplicate key, like `sourceId`. */
  replayHash?: string;
}

/** What {@linkcode Store.insert} did. */
export interface InsertResult {
  /** The delivery's id; for a duplicate, the id of the delivery stored first. */
  id: string;
  /** The endpoint already stored this `sourceId` or `replayHash` within the retention window. */
  duplicate: boolean;
  /** The new delivery's state (`queued`, `ignored` or `filtered`); for a duplicate, the stored one's state now. */
  state: DeliveryState;
}

/** Options for {@linkcode openStore}. */
export interface StoreOptions {
  /** How long deliveries are kept and duplicates are recognised, default 7 days. */
  retentionMs?: number;
  /** How long an insert may wait for others to share its commit, default 0 (just after this turn's I/O). */
  groupCommitMaxWaitMs?: number;
  /** How long to wait for another process's write lock before giving up, default 1000 (see `mod.ts`). */
  busyTimeoutMs?: number;
  /** Open without write access (for `hookd deliveries` and `hookd show`); the schema must be current. */
  readOnly?: boolean;
  /** Create a missing directory and file, default true (false: a new empty store hides a wrong path). */
  create?: boolean;
  /**
   * What an acknowledged insert survives (`HOOKD_SYNC`): `full` (default), a
   * power cut (the WAL is fdatasync'd before `insert` resolves); `normal`, a
   * crash of hookd only (committed to the operating system).
   */
  sync?: "full" | "normal";
  /** WAL bytes after which the checkpoint worker starts and checkpoints, default 4 MiB. */
  checkpointAfterBytes?: number;
  /** The checkpoint worker ends after this long without a write, default 30 s. */
  checkpointQuietMs?: number;
  /** The clock, epoch milliseconds; for tests. */
  now?: () => number;
}

/** How many deliveries `list` returns when its filter names no `limit`. */
export const DEFAULT_LIST_LIMIT = 100;

/** How many deliveries one `purge` deletes at most when it is given no `limit`. */
export const DEFAULT_PURGE_LIMIT = 500;

/** Which deliveries {@linkcode Store.list} and {@linkcode Store.requeueMatching} select. */
export interface DeliveryFilter {
  /** Only this endpoint. */
  endpoint?: string;
  /** Only these states. */
  state?: DeliveryState | readonly DeliveryState[];
  /** Only deliveries received at or after this time, epoch milliseconds. */
  since?: number;
  /** Only deliveries received before this time, epoch milliseconds. */
  until?: number;
  /** Only deliveries older than this id (the next page of a list). */
  before?: string;
  /** At most this many, newest first; default 100 for `list`, unlimited for `requeueMatching`. */
  limit?: number;
}

/** One hook run. Times are epoch milliseconds. */
export interface RunRecord {
  id: number;
  /** 1 for the delivery's first run, counting every run including replays. */
  attempt: number;
  startedAt: number;
  /** Null while running, or for a run interrupted by a crash. */
  endedAt: number | null;
  /** How long it ran; null while running or when interrupted. */
  durationMs: number | null;
  outcome: RunOutcome;
  /** The shell's exit code; null when killed by a signal or never started. */
  exitCode: number | null;
  /** The signal that ended the hook, e.g. `SIGKILL`. */
  signal: string | null;
  /** The start of the hook's stdout. */
  stdout: string;
  /** The start of the hook's stderr. */
  stderr: string;
  /** stdout was longer than what was kept. */
  stdoutTruncated: boolean;
  /** stderr was longer than what was kept. */
  stderrTruncated: boolean;
  /** Why the hook could not run or the run could not be recorded. */
  error: string | null;
}

/** A delivery without its body, headers and run output. */
export interface DeliverySummary
  extends Pick<NewDelivery, "endpoint" | "event" | "receivedAt" | "contentType"> {
  /** hookd's id: sortable by the time it was stored. */
  id: string;
  /** The sender's delivery id, when it sent one. */
  sourceId: string | null;
  /** The body's length in bytes. */
  bodySize: number;
  /** The hook command chosen when it arrived; null for `ignored`. */
  hook: string | null;
  verifiedBy: string | null;
  state: DeliveryState;
  /** Runs started so far, replays included. */
  attempts: number;
  /** When the delivery was last queued (received or replayed). */
  queuedAt: number;
  updatedAt: number;
  /** When it reached its final state; null while unfinished. */
  finishedAt: number | null;
  /** For `superseded`: the newer delivery that replaced it. */
  supersededBy: string | null;
  /** For `filtered`: the filter's variable and the condition that failed. */
  filteredBy: string | null;
  /** The latest run, without output; null before the first run. */
  lastRun:
    | Pick<RunRecord, "outcome" | "exitCode" | "signal" | "startedAt" | "endedAt">
    | null;
}

/** A whole delivery, for `hookd show` and replays. */
export interface DeliveryDetail
  extends DeliverySummary, Pick<NewDelivery, "headers" | "body" | "timeoutMs"> {
  /** Failed runs since it was last queued. */
  failures: number;
  /** A queued retry waits until this time, epoch milliseconds; 0 when it need not wait. */
  notBefore: number;
  /** Every run, oldest first, with its output. */
  runs: RunRecord[];
}

/** A delivery just claimed for a run: everything the hook needs. */
export interface ClaimedDelivery extends
  Pick<
    DeliveryDetail,
    | "id"
    | "endpoint"
    | "event"
    | "sourceId"
    | "receivedAt"
    | "contentType"
    | "headers"
    | "body"
    | "timeoutMs"
    | "verifiedBy"
  > {
  hook: string;
  /** This run's attempt number (1 for the first run). */
  attempt: number;
  /** Failed runs before this one since the delivery was queued. */
  failures: number;
  /** The run row created by the claim. */
  runId: number;
}

/** A hook's process group and its leader's start time: one process, even after its pid is reused. */
export interface ProcessGroup {
  pgid: number;
  /** When the group's leader was started, epoch milliseconds (taken just before the spawn). */
  leaderStartTime: number;
}

/** The process group of a run still marked `running`, from {@linkcode Store.runningGroups}. */
export interface RunningGroup extends ProcessGroup {
  runId: number;
  deliveryId: string;
}

/** What a claim may be bound by (see `Store.claim`). */
export interface ClaimOptions {
  /** Runs of the endpoint allowed at once across instances (else null); SQLite ignores it. */
  concurrency?: number;
  /** The claim's lease, default the delivery's time limit plus the kill grace plus a margin. */
  leaseMs?: number;
}

/** A queued delivery's place, as the dispatcher sees it. */
export interface QueuedRef {
  id: string;
  /** Queue position; lower runs first. */
  seq: number;
  /** Earliest start time of a retry, epoch milliseconds; 0 when it need not wait. */
  notBefore: number;
}

/** What a finished run did, as recorded. */
export interface RunEnd extends
  Pick<
    RunRecord,
    "exitCode" | "signal" | "stdout" | "stderr" | "stdoutTruncated" | "stderrTruncated"
  > {
  outcome: Exclude<RunOutcome, "running" | "interrupted">;
  /** When the hook really started, if later than the claim. */
  startedAt?: number;
  /** When it ended, epoch milliseconds. */
  endedAt: number;
  durationMs: number;
  error?: string;
}

/** How a run ended, as a watcher of its output is told (the admin stream, `hookd show --follow`). */
export interface OutputEnd {
  /** `succeeded`, `failed`, `timed_out`, `aborted`, … or null when the delivery never ran. */
  outcome: string | null;
  /** The exit code; null after a signal or when the hook never ran. */
  exitCode: number | null;
  /** The signal that ended the hook, e.g. `SIGKILL`; null otherwise. */
  signal: string | null;
  /** Whether the hook ran past its time limit. */
  timedOut: boolean;
  /** How long it ran, milliseconds; null when it never ran. */
  durationMs: number | null;
  /** The delivery's state now (`queued` when a retry is due). */
  state: string;
}

/**
 * What a run has written so far, the same shape for a live run and a stored
 * one: each stream bounded and flagged when it went past the bound; `end` is
 * set once the run has ended and is recorded.
 */
export interface OutputSnapshot {
  /** The run's attempt number (1 for the first run, 2 for the first retry, …). */
  attempt: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  end?: OutputEnd;
}

/** Where a delivery goes after a run. */
export type NextState =
  | { state: "done" | "failed" | "ignored" }
  /** The filter configured when the run started refused it: its variable and failed condition. */
  | { state: "filtered"; filteredBy: string }
  /** Back to the queue, keeping its place; `notBefore` delays a retry, `failed` counts the run against retries. */
  | { state: "queued"; notBefore: number; failed: boolean };

/** Options for {@linkcode Store.requeue} and {@linkcode Store.requeueMatching}. */
export interface RequeueOptions {
  /** The hook configured now for a delivery (null: skipped, `no hook`); pure, called in the write transaction. */
  hookFor?: (
    delivery: Pick<DeliverySummary, "id" | "endpoint" | "event" | "hook">,
  ) => string | null;
}

/** What a replay did. */
export interface RequeueResult {
  requeued: string[];
  /** Ids left alone, with why; `filtered` (by the command line) with the failed condition as `detail`. */
  skipped: {
    id: string;
    reason: "unknown" | "queued" | "running" | "no hook" | "filtered";
    detail?: string;
  }[];
}

/** Queue depth for back-pressure and monitoring. */
export interface QueueCounts {
  /** Deliveries waiting to run, retries included. */
  queued: number;
  running: number;
  /** Inserts accepted by this process and not yet committed. */
  inserting: number;
  /** When the longest-waiting queued delivery was queued, epoch milliseconds; null when none. */
  oldestQueuedAt: number | null;
  byState: Record<DeliveryState, number>;
}

/** Counters of this store's own work since it was opened. */
export interface StoreStats {
  /** Transactions committed by `insert` (one per group commit). */
  insertTransactions: number;
  /** Rows written by `insert` (duplicates excluded). */
  inserted: number;
  /** Checkpoints the checkpoint worker finished (`hookd_store_checkpoints_total`). */
  checkpoints: number;
  /** A checkpoint worker runs now (SQLite, after a burst of writes; see `checkpointQuietMs`). */
  checkpointWorker: boolean;
}

/**
 * The store cannot do the work (locked, disk full or read-only, closed): the
 * accept path answers 503 with `Retry-After: retryAfterSeconds`.
 */
export class StoreUnavailableError extends Error {
  /** A suggested `Retry-After`, in seconds. */
  readonly retryAfterSeconds: number;

  /**
   * @param message what could not be done and why
   * @param options the database's error as `cause`, and the suggested `retryAfterSeconds` (default 5)
   */
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, { cause: options?.cause });
    this.name = "StoreUnavailableError";
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 5;
  }
}

/** `openStore` with `create: false` found no database file (a {@linkcode StoreUnavailableError}). */
export class StoreMissingError extends StoreUnavailableError {
  readonly path: string;

  /** @param path the database file */
  constructor(path: string) {
    super(`No delivery store at ${path}`);
    this.name = "StoreMissingError";
    this.path = path;
  }
}

/** One minute of activity. */
export interface MinuteActivity {
  /** The minute's start, epoch milliseconds. */
  minute: number;
  /** Deliveries received in this minute, by the state they are in now. */
  received: Partial<Record<DeliveryState, number>>;
  /** Hook runs that ended in this minute. */
  runs: number;
  /** Those runs' duration percentiles in ms, each its bucket's upper bound (≤10% above); null without runs. */
  durationMs: { p50: number; p95: number; p99: number } | null;
}
