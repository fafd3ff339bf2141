/**
 * The store's contract ({@linkcode Store}) and its vocabulary: what a
 * delivery, a run and a filter are, the results of its operations, and the
 * error it throws when it cannot do the work. Every store implementation
 * fulfils it; the accept path, the queue, the CLI and the admin pages read
 * it through `mod.ts`.
 *
 * @module
 */

/** Where a delivery stands. `queued` and `running` are unfinished; the rest are final. */
export type DeliveryState =
  | "queued"
  | "running"
  | "done"
  | "failed"
  | "ignored"
  | "superseded";

/** Every delivery state, in lifecycle order. */
export const DELIVERY_STATES: readonly DeliveryState[] = [
  "queued",
  "running",
  "done",
  "failed",
  "ignored",
  "superseded",
];

/**
 * How one hook run ended. `aborted`: hookd stopped it while shutting down;
 * `interrupted`: hookd died while it ran. Neither counts against retries.
 */
export type RunOutcome =
  | "running"
  | "succeeded"
  | "failed"
  | "timed_out"
  | "aborted"
  | "interrupted";

/** A delivery as the accept path hands it over. */
export interface NewDelivery {
  /** The configured endpoint name. */
  endpoint: string;
  /** The sender's event type. */
  event: string;
  /** The sender's delivery id (`X-GitHub-Delivery`, `webhook-id`), used to suppress duplicates. */
  sourceId?: string;
  /** When the request arrived, epoch milliseconds. */
  receivedAt: number;
  /** The request's Content-Type. */
  contentType: string;
  /** The headers needed to re-verify or replay, signature values already redacted by the caller. */
  headers: Record<string, string>;
  /** The raw body. */
  body: Uint8Array;
  /** The hook command chosen for the event; null means no hook, and the delivery is `ignored`. */
  hook: string | null;
  /** The hook's time limit in milliseconds. */
  timeoutMs: number;
  /** The verifier that accepted the delivery, e.g. `github`. */
  verifiedBy?: string;
  /**
   * The hex SHA-256 of what the sender's signature covers, for senders that
   * sign neither a timestamp nor the event: the same hash on the same
   * endpoint within the retention window is a duplicate, like `sourceId`.
   */
  replayHash?: string;
}

/** What {@linkcode Store.insert} did. */
export interface InsertResult {
  /** The delivery's id; for a duplicate, the id of the delivery stored first. */
  id: string;
  /**
   * True when the same endpoint already stored this `sourceId`, or this
   * `replayHash`, within the retention window.
   */
  duplicate: boolean;
  /** The new delivery's state (`queued` or `ignored`); for a duplicate, the stored one's state now. */
  state: DeliveryState;
}

/** Options for {@linkcode openStore}. */
export interface StoreOptions {
  /** How long deliveries are kept and duplicates are recognised, default 7 days. */
  retentionMs?: number;
  /** How long an insert may wait for others to share its commit, default 0 (just after this turn's I/O). */
  groupCommitMaxWaitMs?: number;
  /**
   * How long to wait for another process's write lock before giving up,
   * default 1000: `insert` retries on a timer for this long, measured from
   * its call; opening, `recover`, `requeue`, `requeueMatching` and a
   * read-only store's reads wait in SQLite. The dispatcher's writes never wait.
   */
  busyTimeoutMs?: number;
  /** Open without write access (for `hookd deliveries` and `hookd show`); the schema must be current. */
  readOnly?: boolean;
  /**
   * Copy the WAL back into the database file in a worker thread (the
   * daemon's setting), rather than in whichever commit fills it, which
   * would stop the event loop for the whole checkpoint. Default false.
   */
  backgroundCheckpoint?: boolean;
  /** The clock, epoch milliseconds; for tests. */
  now?: () => number;
}

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
  /** At most this many, newest first; default 100 for `list`, unlimited for `requeueMatching`. */
  limit?: number;
}

/** One hook run. Times are epoch milliseconds. */
export interface RunRecord {
  /** The run's number in the store. */
  id: number;
  /** 1 for the delivery's first run, counting every run including replays. */
  attempt: number;
  /** When the hook started. */
  startedAt: number;
  /** Null while running, or for a run interrupted by a crash. */
  endedAt: number | null;
  /** How long it ran; null while running or when interrupted. */
  durationMs: number | null;
  /** How it ended. */
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
export interface DeliverySummary {
  /** hookd's id: sortable by the time it was stored. */
  id: string;
  /** The configured endpoint name. */
  endpoint: string;
  /** The sender's event type. */
  event: string;
  /** The sender's delivery id, when it sent one. */
  sourceId: string | null;
  /** When the request arrived, epoch milliseconds. */
  receivedAt: number;
  /** The request's Content-Type. */
  contentType: string;
  /** The body's length in bytes. */
  bodySize: number;
  /** The hook command chosen when it arrived; null for `ignored`. */
  hook: string | null;
  /** The verifier that accepted it. */
  verifiedBy: string | null;
  /** Where it stands. */
  state: DeliveryState;
  /** Runs started so far, replays included. */
  attempts: number;
  /** When the delivery was last queued (received or replayed). */
  queuedAt: number;
  /** When its state last changed. */
  updatedAt: number;
  /** When it reached its final state; null while unfinished. */
  finishedAt: number | null;
  /** For `superseded`: the newer delivery that replaced it. */
  supersededBy: string | null;
  /** The latest run, without output; null before the first run. */
  lastRun:
    | Pick<RunRecord, "outcome" | "exitCode" | "signal" | "startedAt" | "endedAt">
    | null;
}

/** A whole delivery, for `hookd show` and replays. */
export interface DeliveryDetail extends DeliverySummary {
  /** The stored request headers, signatures redacted. */
  headers: Record<string, string>;
  /** The raw body. */
  body: Uint8Array;
  /** The hook's time limit in milliseconds. */
  timeoutMs: number;
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
  /** The hook command to run. */
  hook: string;
  /** This run's attempt number (1 for the first run). */
  attempt: number;
  /** Failed runs before this one since the delivery was queued. */
  failures: number;
  /** The run row created by the claim. */
  runId: number;
}

/**
 * A hook's process group, as Linux names it: the group's id (its leader's
 * pid) and the leader's start time, field 22 of `/proc/<pid>/stat` (clock
 * ticks since boot). Together they name one process, even after its pid is
 * reused.
 */
export interface ProcessGroup {
  /** The process group's id. */
  pgid: number;
  /** When the group's leader started, in clock ticks since boot. */
  leaderStartTime: number;
}

/** The process group of a run still marked `running`, from {@linkcode Store.runningGroups}. */
export interface RunningGroup extends ProcessGroup {
  /** The run's number in the store. */
  runId: number;
  /** The delivery it runs. */
  deliveryId: string;
}

/** A queued delivery's place, as the dispatcher sees it. */
export interface QueuedRef {
  /** The delivery's id. */
  id: string;
  /** Queue position; lower runs first. */
  seq: number;
  /** Earliest start time of a retry, epoch milliseconds; 0 when it need not wait. */
  notBefore: number;
}

/** What a finished run did, as recorded. */
export interface RunEnd {
  /** How it ended. */
  outcome: Exclude<RunOutcome, "running" | "interrupted">;
  /** When the hook really started, if later than the claim. */
  startedAt?: number;
  /** When it ended, epoch milliseconds. */
  endedAt: number;
  /** How long it ran. */
  durationMs: number;
  /** The shell's exit code, or null. */
  exitCode: number | null;
  /** The signal that ended it, or null. */
  signal: string | null;
  /** The start of its stdout. */
  stdout: string;
  /** The start of its stderr. */
  stderr: string;
  /** stdout was cut. */
  stdoutTruncated: boolean;
  /** stderr was cut. */
  stderrTruncated: boolean;
  /** Why the hook could not run. */
  error?: string;
}

/** Where a delivery goes after a run. */
export type NextState =
  | { state: "done" | "failed" }
  /** Back to the queue, keeping its place; `notBefore` delays a retry, `failed` counts the run against retries. */
  | { state: "queued"; notBefore: number; failed: boolean };

/** What a replay did. */
export interface RequeueResult {
  /** Ids put back in the queue. */
  requeued: string[];
  /** Ids left alone, with why: `unknown`, `queued`, `running` or `no hook`. */
  skipped: { id: string; reason: "unknown" | "queued" | "running" | "no hook" }[];
}

/** Queue depth for back-pressure and monitoring. */
export interface QueueCounts {
  /** Deliveries waiting to run, retries included. */
  queued: number;
  /** Deliveries whose hook is running. */
  running: number;
  /** Inserts accepted by this process and not yet committed. */
  inserting: number;
  /** When the longest-waiting queued delivery was queued, epoch milliseconds; null when none. */
  oldestQueuedAt: number | null;
  /** Deliveries stored, by state. */
  byState: Record<DeliveryState, number>;
}

/** Counters of this store's own work since it was opened. */
export interface StoreStats {
  /** Transactions committed by `insert` (one per group commit). */
  insertTransactions: number;
  /** Rows written by `insert` (duplicates excluded). */
  inserted: number;
  /** Checkpoints the background checkpointer finished. */
  checkpoints: number;
  /**
   * A worker thread does the checkpoints (`backgroundCheckpoint`); false
   * without one, or once it failed and SQLite's own checkpoints took over.
   */
  checkpointsInWorker: boolean;
}

/**
 * The store cannot do the work: the database is locked, the disk full or
 * read-only, or the store closed. The accept path answers 503 with
 * `Retry-After: retryAfterSeconds` so that the sender tries again.
 */
export class StoreUnavailableError extends Error {
  /** A suggested `Retry-After`, in seconds. */
  readonly retryAfterSeconds: number;

  /**
   * Make the error.
   *
   * @param message what could not be done and why
   * @param options the SQLite error as `cause`, and the suggested `retryAfterSeconds` (default 5)
   */
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, { cause: options?.cause });
    this.name = "StoreUnavailableError";
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 5;
  }
}

/** The delivery store. Dispose it (or call `close`) to commit pending inserts and close the file. */
export interface Store extends Disposable {
  /** The database file. */
  readonly path: string;
  /** How long deliveries are kept and duplicates recognised, milliseconds. */
  readonly retentionMs: number;

  /**
   * Store a delivery. Resolves only after the row is committed, so a 2xx may
   * follow; inserts arriving together share one transaction. A delivery whose
   * `sourceId` the endpoint already stored within the retention window is
   * not inserted: the result names the first one and `duplicate` is true.
   * A delivery without a hook is stored as `ignored`, any other as `queued`.
   * While another process holds the write lock the commit is retried on a
   * timer, never by blocking the event loop; inserts arriving meanwhile
   * wait for the next commit, so rows are stored in call order.
   *
   * @param delivery the delivery, headers already redacted
   * @returns its id, whether it was a duplicate, and its state
   * @throws {StoreUnavailableError} (as a rejection) when the commit failed, or
   *   the write lock stayed taken for `busyTimeoutMs`; nothing was stored
   * @throws {TypeError} (as a rejection) when a field is missing or malformed
   */
  insert(delivery: NewDelivery): Promise<InsertResult>;

  /**
   * One delivery with its headers, body and every run.
   *
   * @param id a delivery id
   * @returns the delivery, or null when there is none with that id
   */
  get(id: string): DeliveryDetail | null;

  /**
   * Deliveries matching `filter`, newest first.
   *
   * @param filter which deliveries; default the newest 100
   * @returns summaries without bodies or output
   */
  list(filter?: DeliveryFilter): DeliverySummary[];

  /**
   * Queue depth, read from counters the database keeps, so cheap enough for
   * every request.
   *
   * @returns the counts, including other processes' changes
   */
  counts(): QueueCounts;

  /**
   * Replay: put finished deliveries back at the end of the queue with a fresh
   * retry budget. Queued or running deliveries, unknown ids and deliveries
   * without a hook are skipped. A running daemon picks them up within its
   * poll interval. For the command line: waits up to `busyTimeoutMs` for
   * the write lock, blocking.
   *
   * @param ids delivery ids
   * @returns which were requeued and which skipped, and why
   */
  requeue(ids: readonly string[]): RequeueResult;

  /**
   * Replay every finished delivery with a hook that matches `filter`, e.g.
   * `{ state: "failed", since }`.
   *
   * @param filter which deliveries; `limit` caps how many, newest first
   * @returns which were requeued (none skipped: unmatched ones are not listed)
   */
  requeueMatching(filter: DeliveryFilter): RequeueResult;

  /**
   * Delete finished deliveries received before `olderThan`, and their runs.
   * Queued and running deliveries are never purged. Deletes at most `limit`
   * rows so that a caller can yield between batches. Does not wait for
   * another process's write lock: it throws, and the caller tries later.
   *
   * @param olderThan epoch milliseconds
   * @param options `limit`, default 500
   * @returns how many deliveries were deleted
   */
  purge(olderThan: number, options?: { limit?: number }): number;

  /**
   * After a crash: record every `running` run as `interrupted` and put its
   * delivery back in the queue (keeping its place). Only the process that
   * runs hooks may call this, at start, before dispatching. Waits up to
   * `busyTimeoutMs` for the write lock, blocking: nothing is served yet.
   *
   * @returns how many deliveries were requeued
   */
  recover(): number;

  /**
   * The endpoints that have queued deliveries.
   *
   * @returns endpoint names, sorted
   */
  queuedEndpoints(): string[];

  /**
   * The first queued deliveries of an endpoint, in queue order (or the last
   * one, with `newest`).
   *
   * @param endpoint the endpoint name
   * @param options `limit` (default 1) and `newest` to read from the end of the queue
   * @returns their places in the queue
   */
  queued(endpoint: string, options?: { limit?: number; newest?: boolean }): QueuedRef[];

  /**
   * Mark an endpoint's queued deliveries ahead of `keepId` as `superseded` by
   * it. Does not wait for another process's write lock: it throws.
   *
   * @param endpoint the endpoint name
   * @param keepId the newest queued delivery, which stays
   * @returns the ids superseded
   */
  supersede(endpoint: string, keepId: string): string[];

  /**
   * Take a queued delivery for a run: mark it `running` and record a run
   * that has started. Fails softly (null) when another process changed it
   * meanwhile. Does not wait for another process's write lock: it throws,
   * and the dispatcher tries at its next poll.
   *
   * @param id a queued delivery's id
   * @returns the delivery with its body and the new run's id, or null
   */
  claim(id: string): ClaimedDelivery | null;

  /**
   * Record the process group a claimed run's hook runs in, so that after a
   * crash the next start can end it ({@linkcode Store.runningGroups}). Does
   * not wait for another process's write lock: it throws.
   *
   * @param claimed the claim, as returned by `claim`
   * @param group the hook's process group and its leader's start time
   */
  recordProcessGroup(claimed: Pick<ClaimedDelivery, "runId">, group: ProcessGroup): void;

  /**
   * The process groups recorded for runs still marked `running`: at start,
   * before {@linkcode Store.recover}, the hooks a crashed daemon may have
   * left running.
   *
   * @returns one entry per such run that recorded its group, oldest first
   */
  runningGroups(): RunningGroup[];

  /**
   * Record how a claimed run ended and where the delivery goes next. Does
   * not wait for another process's write lock: it throws, and the
   * dispatcher keeps the run's slot and tries again at its next poll.
   *
   * @param claimed the claim, as returned by `claim`
   * @param end what the run did
   * @param next the delivery's next state
   */
  finishRun(claimed: Pick<ClaimedDelivery, "id" | "runId">, end: RunEnd, next: NextState): void;

  /**
   * This store's own counters, for tests and metrics.
   *
   * @returns a snapshot
   */
  stats(): StoreStats;

  /**
   * Commit pending inserts and close the file; an insert waiting for the
   * write lock gets one last try that waits up to `busyTimeoutMs`, blocking.
   * Later calls throw {@linkcode StoreUnavailableError}.
   */
  close(): void;
}
