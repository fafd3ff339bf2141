/**
 * The durable delivery store: every accepted delivery and every hook run, in
 * one SQLite file (WAL mode, versioned schema), so that nothing acknowledged
 * is lost to a crash and the admin can list, show and replay deliveries.
 *
 * Writes from concurrent requests are committed together (group commit):
 * {@linkcode Store.insert} resolves only once its row is durable, and many
 * inserts share one transaction and one fsync. The fsync (an fdatasync of
 * the WAL, what `synchronous = FULL` would do inside COMMIT) runs on Deno's
 * I/O threads, and inserts arriving meanwhile wait to share the next
 * commit; with `backgroundCheckpoint` the WAL is copied back into the
 * database by a worker thread. So neither the disk's sync latency nor a
 * checkpoint stops the event loop.
 *
 * The store is synchronous apart from `insert`; every method throws
 * {@linkcode StoreUnavailableError} when SQLite cannot do the work (locked,
 * disk full, read-only, I/O error).
 *
 * The daemon serves requests on the same thread, so the store never waits
 * for another process's write lock (`hookd replay`, an admin's `sqlite3`)
 * by sleeping in SQLite: that would stop every request. `insert` retries a
 * locked commit on a timer, and the dispatcher's writes (`claim`,
 * `finishRun`, `supersede`, `purge`) fail at once for the caller to retry.
 * Only what the command line and start-up use (opening, `recover`,
 * `requeue`, `requeueMatching`, and every call on a read-only store) waits
 * in SQLite, up to `busyTimeoutMs`.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { clearImmediate, setImmediate } from "node:timers";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type MinuteActivity, readActivity } from "./store/_activity.ts";
import { IdGenerator } from "./store/_id.ts";
import { MIGRATIONS } from "./store/_schema.ts";

export type { MinuteActivity } from "./store/_activity.ts";

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
}

/** What {@linkcode Store.insert} did. */
export interface InsertResult {
  /** The delivery's id; for a duplicate, the id of the delivery stored first. */
  id: string;
  /** True when the same endpoint already stored this `sourceId` within the retention window. */
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
  /** Only deliveries older than this id (the next page of a list). */
  before?: string;
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
   * Deliveries received per minute by state, and hook run durations, for a chart.
   *
   * @param since the first minute, epoch milliseconds (rounded down to the minute)
   * @param until the end, epoch milliseconds
   * @returns one entry per minute, oldest first
   */
  activity(since: number, until: number): MinuteActivity[];

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

const DAY_MS = 86_400_000;
/** SQLite's page size, the least a write transaction adds to the WAL. */
const PAGE_BYTES = 4096;
/** SQLite checkpoints after 1,000 pages by default; so does the background checkpointer. */
const CHECKPOINT_BYTES = 1000 * PAGE_BYTES;
const MAX_BATCH = 500;
const DEFAULT_LIST_LIMIT = 100;
const DEFAULT_PURGE_LIMIT = 500;

/** A locked commit is tried again after this long plus up to {@linkcode RETRY_JITTER_MS}. */
const RETRY_MIN_MS = 10;
const RETRY_JITTER_MS = 15;

interface Pending {
  row: NewDelivery;
  /** When `insert` was called, `performance.now()`: its wait for the lock counts from here. */
  since: number;
  resolve: (result: InsertResult) => void;
  reject: (error: unknown) => void;
}

/** A batch of inserts and what its commit did for each. */
interface Committed {
  batch: Pending[];
  results: InsertResult[];
}

/** Resolve each insert of the batches with its result, or reject them all with `failure`. */
function settle(committed: readonly Committed[], failure?: unknown): void {
  for (const { batch, results } of committed) {
    batch.forEach((pending, i) => failure ? pending.reject(failure) : pending.resolve(results[i]));
  }
}

/**
 * Open (creating the directory and file if needed) and migrate the store.
 *
 * @param path the database file, e.g. `$HOOKD_STATE_DIR/hookd.db`
 * @param options retention, group-commit wait, lock wait, read-only, clock
 * @returns the open store
 * @throws {StoreUnavailableError} when the file cannot be created, opened or migrated
 * @throws {RangeError} when an option is out of range
 * @example
 * ```ts
 * import { openStore } from "./store.ts";
 *
 * using store = openStore(":memory:");
 * const { id } = await store.insert({
 *   endpoint: "deploy", event: "push", receivedAt: Date.now(), contentType: "application/json",
 *   headers: {}, body: new TextEncoder().encode("{}"), hook: "./deploy.sh", timeoutMs: 60_000,
 * });
 * console.assert(store.get(id)?.state === "queued");
 * ```
 */
export function openStore(path: string, options: StoreOptions = {}): Store {
  const retentionMs = options.retentionMs ?? 7 * DAY_MS;
  const maxWaitMs = options.groupCommitMaxWaitMs ?? 0;
  const busyTimeoutMs = options.busyTimeoutMs ?? 1000;
  checkNonNegative("retentionMs", retentionMs);
  checkNonNegative("groupCommitMaxWaitMs", maxWaitMs);
  checkNonNegative("busyTimeoutMs", busyTimeoutMs);
  const readOnly = options.readOnly ?? false;

  let db: DatabaseSync;
  try {
    if (!readOnly) mkdirSync(dirname(path), { recursive: true });
    // Opening and migrating may wait for the lock: nothing is served yet.
    db = new DatabaseSync(path, { readOnly, timeout: busyTimeoutMs });
  } catch (error) {
    throw new StoreUnavailableError(`Cannot open the delivery store ${path}: ${message(error)}`, {
      cause: error,
    });
  }
  try {
    prepareDatabase(db, readOnly);
    // A read-only store belongs to the command line, which may block; the
    // daemon's connection must not (see the module doc).
    if (!readOnly) setBusyTimeout(db, 0);
  } catch (error) {
    db.close();
    if (error instanceof StoreUnavailableError) throw error;
    throw new StoreUnavailableError(`Cannot open the delivery store ${path}: ${message(error)}`, {
      cause: error,
    });
  }
  const walPath = !readOnly && journalMode(db) === "wal" ? `${path}-wal` : undefined;
  return new SqliteStore(db, path, {
    retentionMs,
    maxWaitMs,
    busyTimeoutMs,
    readOnly,
    now: options.now ?? Date.now,
    walPath,
    backgroundCheckpoint: walPath !== undefined && (options.backgroundCheckpoint ?? false),
  });
}

function checkNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`openStore: ${name} must be a finite number >= 0: got ${value}`);
  }
}

function prepareDatabase(db: DatabaseSync, readOnly: boolean): void {
  const version = readVersion(db);
  if (version > MIGRATIONS.length) {
    throw new StoreUnavailableError(
      `The delivery store has schema version ${version}, newer than this hookd knows (${MIGRATIONS.length}): upgrade hookd`,
    );
  }
  if (readOnly) {
    if (version < MIGRATIONS.length) {
      throw new StoreUnavailableError(
        `The delivery store has schema version ${version}, expected ${MIGRATIONS.length}: start the daemon once to migrate it`,
      );
    }
    return;
  }
  // Only takes effect before the first table exists.
  if (version === 0) db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  // NORMAL: run bookkeeping (claims, run ends, requeues) need not survive a
  // power cut, since a lost one only makes a delivery run again
  // (at-least-once). Accepted deliveries are durable before the 2xx: insert
  // syncs the WAL after its commit (see #syncThenSettle), or, where there is
  // no WAL, commits with FULL (see #transaction).
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
  if (version === MIGRATIONS.length) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Another process may have migrated while this one waited for the lock.
    for (let v = readVersion(db); v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function journalMode(db: DatabaseSync): string {
  const row = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
  return row.journal_mode;
}

function readVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isSqliteError(error: unknown): boolean {
  return error instanceof Error && (error as { code?: string }).code === "ERR_SQLITE_ERROR";
}

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/** SQLITE_BUSY or SQLITE_LOCKED: another connection has the lock, so trying again may work. */
function isLockError(error: unknown): boolean {
  if (!isSqliteError(error)) return false;
  // Node sets `errcode`; Deno's node:sqlite only gives sqlite3_errmsg() as the message.
  const code = (error as { errcode?: unknown }).errcode;
  if (typeof code === "number") {
    return (code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED;
  }
  return /^database (?:table |schema )?is locked/.test((error as Error).message);
}

function setBusyTimeout(db: DatabaseSync, ms: number): void {
  db.exec(`PRAGMA busy_timeout = ${Math.round(ms)}`);
}

type Row = Record<string, unknown>;

const SUMMARY_COLUMNS = `d.id, d.endpoint, d.event, d.source_id, d.received_at, d.content_type,
  d.body_size, d.hook, d.verified_by, d.state, d.attempts, d.queued_at, d.updated_at,
  d.finished_at, d.superseded_by,
  r.outcome AS r_outcome, r.exit_code AS r_exit_code, r.signal AS r_signal,
  r.started_at AS r_started_at, r.ended_at AS r_ended_at`;

const LAST_RUN_JOIN = `LEFT JOIN runs r ON r.id = (
  SELECT max(id) FROM runs WHERE delivery_id = d.id)`;

class SqliteStore implements Store {
  readonly path: string;
  readonly retentionMs: number;
  #db: DatabaseSync;
  #maxWaitMs: number;
  /** How long an insert, or a blocking call, waits for the write lock. */
  #busyTimeoutMs: number;
  /** A read-only store's connection always waits in SQLite (it belongs to the command line). */
  #readOnly: boolean;
  #now: () => number;
  #ids = new IdGenerator();
  /** Inserts not yet in a commit, oldest first. */
  #pending: Pending[] = [];
  /** The batch waiting for another process's write lock; `#pending` waits behind it. */
  #waiting: Pending[] | undefined;
  #cancelFlush: (() => void) | undefined;
  #cancelRetry: (() => void) | undefined;
  #closed = false;
  #stats: Omit<StoreStats, "checkpointsInWorker"> = {
    insertTransactions: 0,
    inserted: 0,
    checkpoints: 0,
  };
  #statements = new Map<string, StatementSync>();
  /**
   * The WAL file, when inserts are made durable by syncing it off the event
   * loop (see {@linkcode SqliteStore.#syncThenSettle}); undefined for a store
   * that is not in WAL mode, whose inserts commit with synchronous = FULL.
   */
  #walPath: string | undefined;
  /** Committed batches waiting for the next WAL sync. */
  #unsynced: Committed[] = [];
  /** The batches the WAL sync under way will settle. */
  #syncingBatches: Committed[] = [];
  /** The WAL sync under way, if any. */
  #syncing: Promise<void> | undefined;
  /** The background checkpointer, while it works. */
  #checkpointer: Worker | undefined;
  /** Set to 1 by the checkpointer once it has closed its connection. */
  #workerClosed = new Int32Array(new SharedArrayBuffer(4));
  /** The checkpoint under way: `bulk` while inserts go on, `final` while they wait. */
  #checkpointing: "no" | "bulk" | "final" = "no";
  /** About how many bytes were written to the WAL since the last checkpoint began. */
  #walBytes = 0;

  constructor(
    db: DatabaseSync,
    path: string,
    options: {
      retentionMs: number;
      maxWaitMs: number;
      busyTimeoutMs: number;
      readOnly: boolean;
      now: () => number;
      walPath?: string;
      backgroundCheckpoint: boolean;
    },
  ) {
    this.#db = db;
    this.#walPath = options.walPath;
    if (options.backgroundCheckpoint) this.#startCheckpointer(path);
    this.path = path;
    this.retentionMs = options.retentionMs;
    this.#maxWaitMs = options.maxWaitMs;
    this.#busyTimeoutMs = options.busyTimeoutMs;
    this.#readOnly = options.readOnly;
    this.#now = options.now;
  }

  insert(delivery: NewDelivery): Promise<InsertResult> {
    if (this.#closed) {
      return Promise.reject(new StoreUnavailableError("The delivery store is closed"));
    }
    try {
      checkDelivery(delivery);
    } catch (error) {
      return Promise.reject(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<InsertResult>();
    this.#pending.push({ row: delivery, since: performance.now(), resolve, reject });
    // A batch waiting for the lock, or for its WAL sync, schedules the next
    // flush when it settles: order is kept, and inserts arriving meanwhile
    // share one commit instead of paying for one each.
    if (this.#held()) return promise;
    if (this.#pending.length >= MAX_BATCH) this.#scheduleFlush(0);
    else if (!this.#cancelFlush) this.#scheduleFlush(this.#maxWaitMs);
    return promise;
  }

  #scheduleFlush(waitMs: number): void {
    this.#cancelFlush?.();
    if (waitMs > 0) {
      const timer = setTimeout(() => this.#flush(), waitMs);
      this.#cancelFlush = () => clearTimeout(timer);
    } else {
      // Not setTimeout(0), which costs milliseconds: an immediate still runs after the
      // I/O of this turn, so requests that arrived together share the commit.
      const immediate = setImmediate(() => this.#flush());
      this.#cancelFlush = () => clearImmediate(immediate);
    }
  }

  #flush(): void {
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    if (this.#held()) return;
    const batch = this.#pending.splice(0, MAX_BATCH);
    if (batch.length > 0) this.#commitBatch(batch, true);
    this.#flushRest();
  }

  /** Inserts that came while a batch committed or waited: their turn now, in one more batch. */
  #flushRest(): void {
    if (!this.#held() && this.#pending.length > 0) this.#scheduleFlush(0);
  }

  /**
   * Inserts wait, to share a later commit: while a batch waits for another
   * process's lock, while the WAL sync of the last batch runs, and while the
   * checkpointer copies the last frames (see #startCheckpointer).
   */
  #held(): boolean {
    return this.#waiting !== undefined || this.#syncing !== undefined ||
      this.#checkpointing === "final";
  }

  /**
   * Commit `batch` and settle its inserts. With `retry`, a locked database is
   * tried again on a timer until the oldest insert has waited
   * `busyTimeoutMs`: SQLite's own busy wait would stop the event loop.
   */
  #commitBatch(batch: Pending[], retry: boolean): void {
    this.#cancelRetry = undefined;
    let written: { results: InsertResult[]; inserted: number };
    try {
      written = this.#writeBatch(batch);
    } catch (error) {
      const left = batch[0].since + this.#busyTimeoutMs - performance.now();
      if (retry && left > 0 && isLockError(error)) {
        this.#waiting = batch;
        // Jitter, so that two processes retrying against each other do not collide again.
        const delay = Math.min(RETRY_MIN_MS + Math.random() * RETRY_JITTER_MS, left);
        const timer = setTimeout(() => {
          this.#waiting = undefined;
          this.#commitBatch(batch, true);
          this.#flushRest();
        }, delay);
        this.#cancelRetry = () => clearTimeout(timer);
        return;
      }
      const failure = error instanceof StoreUnavailableError
        ? error
        : unavailable("Cannot store the delivery", error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    this.#stats.insertTransactions++;
    this.#stats.inserted += written.inserted;
    if (this.#walPath === undefined) {
      settle([{ batch, results: written.results }]);
    } else {
      this.#unsynced.push({ batch, results: written.results });
      this.#syncing ??= this.#syncThenSettle(this.#walPath);
    }
  }

  #startCheckpointer(path: string): void {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./store/_checkpoint_worker.ts", import.meta.url), {
        type: "module",
      });
    } catch {
      return; // SQLite's own checkpoints stay on.
    }
    // A WAL is only rewound (written again from its start) by a checkpoint
    // that copies all of it with no writer in between, which a checkpoint
    // running beside a busy writer never achieves: the file would grow for as
    // long as requests keep coming. So the bulk pass (PASSIVE) runs beside
    // the inserts, and a short final pass (RESTART: the frames committed
    // meanwhile) runs while inserts wait; both in the worker, so the event
    // loop never waits for a checkpoint's syncs. A dispatcher write that
    // meets the final pass's lock fails at once and is retried at the next
    // poll, as with any other process's lock.
    worker.onmessage = (event: MessageEvent<{ type: string }>) => {
      if (event.data.type === "checkpointed") {
        if (this.#checkpointing === "bulk" && !this.#closed) {
          this.#checkpointing = "final";
          worker.postMessage({ type: "checkpoint", mode: "RESTART" });
          return;
        }
        this.#checkpointing = "no";
        this.#stats.checkpoints++;
        this.#flushRest();
      } else if (event.data.type === "error") this.#stopCheckpointer();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#stopCheckpointer();
    };
    worker.postMessage({ type: "open", path, closed: this.#workerClosed.buffer });
    this.#db.exec("PRAGMA wal_autocheckpoint = 0");
    this.#checkpointer = worker;
  }

  /** Back to SQLite's checkpoints in the committing call: slower commits, but the WAL stays bounded. */
  #stopCheckpointer(): void {
    this.#checkpointer?.terminate();
    this.#checkpointer = undefined;
    this.#checkpointing = "no";
    if (!this.#closed) {
      this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
      this.#flushRest();
    }
  }

  /** Ask for a checkpoint once about a thousand pages were written since the last one began. */
  #wrote(bytes: number): void {
    if (!this.#checkpointer) return;
    this.#walBytes += bytes;
    if (this.#checkpointing !== "no" || this.#walBytes < CHECKPOINT_BYTES) return;
    this.#checkpointing = "bulk";
    this.#walBytes = 0;
    this.#checkpointer.postMessage({ type: "checkpoint" });
  }

  /**
   * Make every committed batch durable with one fdatasync of the WAL, run on
   * Deno's blocking-I/O threads, then settle their inserts. This is what
   * synchronous = FULL does inside COMMIT, minus the event loop standing
   * still for the disk: batches committed while a sync runs wait for the
   * next one, so a busy daemon syncs back to back, never more often.
   */
  async #syncThenSettle(walPath: string): Promise<void> {
    while (this.#unsynced.length > 0) {
      const settling = this.#unsynced;
      this.#syncingBatches = settling;
      this.#unsynced = [];
      let failure: StoreUnavailableError | undefined;
      try {
        // Opened afresh each time: SQLite may remove the file when the last other connection closes.
        using wal = await Deno.open(walPath, { read: true });
        await wal.syncData();
      } catch (error) {
        failure = unavailable("Cannot make the delivery durable", error);
      }
      settle(settling, failure);
    }
    this.#syncingBatches = [];
    this.#syncing = undefined;
    this.#flushRest();
  }

  /**
   * The blocking form of {@linkcode SqliteStore.#syncThenSettle}, for
   * `close`: it also settles the batches of a sync still under way, which
   * could not open the WAL once closing removed it (settling twice is a no-op).
   */
  #syncNow(): void {
    const settling = [...this.#syncingBatches, ...this.#unsynced];
    if (this.#walPath === undefined || settling.length === 0) return;
    this.#unsynced = [];
    let failure: StoreUnavailableError | undefined;
    try {
      using wal = Deno.openSync(this.#walPath, { read: true });
      wal.syncDataSync();
    } catch (error) {
      failure = unavailable("Cannot make the delivery durable", error);
    }
    settle(settling, failure);
  }

  #writeBatch(batch: readonly Pending[]): { results: InsertResult[]; inserted: number } {
    const results: InsertResult[] = [];
    let inserted = 0;
    let bytes = 0;
    this.#transaction(() => {
      const now = this.#now();
      const findDuplicate = this.#statement(
        `SELECT id, state FROM deliveries
         WHERE endpoint = ? AND source_id = ? AND received_at >= ? LIMIT 1`,
      );
      const nextSeq = this.#nextSeq();
      const insert = this.#statement(
        `INSERT INTO deliveries (id, endpoint, event, source_id, received_at, content_type,
           headers, body, body_size, hook, timeout_ms, verified_by, state, seq, queued_at,
           updated_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const { row } of batch) {
        if (row.sourceId !== undefined) {
          const existing = findDuplicate.get(row.endpoint, row.sourceId, now - this.retentionMs);
          if (existing) {
            results.push({
              id: existing.id as string,
              duplicate: true,
              state: existing.state as DeliveryState,
            });
            continue;
          }
        }
        const id = this.#ids.next(now);
        const state: DeliveryState = row.hook === null ? "ignored" : "queued";
        insert.run(
          id,
          row.endpoint,
          row.event,
          row.sourceId ?? null,
          row.receivedAt,
          row.contentType,
          JSON.stringify(row.headers),
          row.body,
          row.body.byteLength,
          row.hook,
          row.timeoutMs,
          row.verifiedBy ?? null,
          state,
          nextSeq + inserted,
          now,
          now,
          state === "ignored" ? now : null,
        );
        inserted++;
        bytes += row.body.byteLength + PAGE_BYTES;
        results.push({ id, duplicate: false, state });
      }
    }, true);
    this.#wrote(bytes);
    return { results, inserted };
  }

  get(id: string): DeliveryDetail | null {
    return this.#guard("read the delivery", () => {
      const row = this.#statement(
        `SELECT ${SUMMARY_COLUMNS}, d.headers, d.body, d.timeout_ms, d.failures, d.not_before
         FROM deliveries d ${LAST_RUN_JOIN} WHERE d.id = ?`,
      ).get(id);
      if (!row) return null;
      const runs = this.#statement("SELECT * FROM runs WHERE delivery_id = ? ORDER BY id").all(id)
        .map(toRun);
      return {
        ...toSummary(row),
        headers: JSON.parse(row.headers as string),
        body: row.body as Uint8Array,
        timeoutMs: row.timeout_ms as number,
        failures: row.failures as number,
        notBefore: row.not_before as number,
        runs,
      };
    });
  }

  list(filter: DeliveryFilter = {}): DeliverySummary[] {
    return this.#guard("list deliveries", () => {
      const { where, params } = whereClause(filter);
      const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
      return this.#db.prepare(
        `SELECT ${SUMMARY_COLUMNS} FROM deliveries d ${LAST_RUN_JOIN}
         ${where} ORDER BY d.id DESC LIMIT ?`,
      ).all(...params, limit).map(toSummary);
    });
  }

  activity(since: number, until: number): MinuteActivity[] {
    return this.#guard(
      "read the activity",
      () => readActivity((sql) => this.#statement(sql), since, until),
    );
  }

  counts(): QueueCounts {
    return this.#guard("count deliveries", () => {
      const byState = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<
        DeliveryState,
        number
      >;
      for (const row of this.#statement("SELECT state, n FROM state_counts").all()) {
        byState[row.state as DeliveryState] = row.n as number;
      }
      const oldest = this.#statement(
        // INDEXED BY: with (state, id) beside it the planner would sort every queued row.
        `SELECT queued_at FROM deliveries INDEXED BY deliveries_queued_seq
         WHERE state = 'queued' ORDER BY seq LIMIT 1`,
      ).get();
      return {
        queued: byState.queued,
        running: byState.running,
        inserting: this.#pending.length + (this.#waiting?.length ?? 0),
        oldestQueuedAt: oldest ? oldest.queued_at as number : null,
        byState,
      };
    });
  }

  requeue(ids: readonly string[]): RequeueResult {
    return this.#guard("requeue deliveries", () => {
      const result: RequeueResult = { requeued: [], skipped: [] };
      this.#blockingTransaction(() => {
        const find = this.#statement("SELECT state, hook FROM deliveries WHERE id = ?");
        for (const id of new Set(ids)) {
          const row = find.get(id);
          if (!row) result.skipped.push({ id, reason: "unknown" });
          else if (row.state === "queued" || row.state === "running") {
            result.skipped.push({ id, reason: row.state });
          } else if (row.hook === null) result.skipped.push({ id, reason: "no hook" });
          else {
            this.#requeueOne(id);
            result.requeued.push(id);
          }
        }
      });
      return result;
    });
  }

  requeueMatching(filter: DeliveryFilter): RequeueResult {
    return this.#guard("requeue deliveries", () => {
      const result: RequeueResult = { requeued: [], skipped: [] };
      this.#blockingTransaction(() => {
        const { where, params } = whereClause(filter, [
          "d.state NOT IN ('queued', 'running')",
          "d.hook IS NOT NULL",
        ]);
        const rows = this.#db.prepare(
          `SELECT d.id FROM deliveries d ${where} ORDER BY d.id DESC LIMIT ?`,
        ).all(...params, filter.limit ?? -1);
        // Oldest first, so that replays keep their relative order in the queue.
        for (const row of rows.reverse()) {
          this.#requeueOne(row.id as string);
          result.requeued.push(row.id as string);
        }
      });
      return result;
    });
  }

  #requeueOne(id: string): void {
    const now = this.#now();
    this.#statement(
      `UPDATE deliveries SET state = 'queued', seq = ?, queued_at = ?, failures = 0,
         not_before = 0, updated_at = ?, finished_at = NULL, superseded_by = NULL
       WHERE id = ?`,
    ).run(this.#nextSeq(), now, now, id);
  }

  purge(olderThan: number, options: { limit?: number } = {}): number {
    return this.#guard("purge deliveries", () => {
      let deleted = 0;
      this.#transaction(() => {
        const result = this.#statement(
          `DELETE FROM deliveries WHERE id IN (
             SELECT id FROM deliveries
             WHERE received_at < ? AND state NOT IN ('queued', 'running')
             ORDER BY received_at LIMIT ?)`,
        ).run(olderThan, options.limit ?? DEFAULT_PURGE_LIMIT);
        deleted = Number(result.changes);
      });
      // Give freed pages back to the file system, a little at a time.
      if (deleted > 0) {
        try {
          this.#db.exec("PRAGMA incremental_vacuum(1000)");
        } catch (error) {
          // The rows are gone; the pages can wait for the next purge.
          if (!isLockError(error)) throw error;
        }
      }
      return deleted;
    });
  }

  recover(): number {
    return this.#guard("recover interrupted runs", () => {
      let requeued = 0;
      this.#blockingTransaction(() => {
        const now = this.#now();
        this.#statement(
          `UPDATE runs SET outcome = 'interrupted', error = 'hookd stopped while the hook ran'
           WHERE outcome = 'running'`,
        ).run();
        requeued = Number(
          this.#statement(
            `UPDATE deliveries SET state = 'queued', not_before = 0, updated_at = ?
             WHERE state = 'running'`,
          ).run(now).changes,
        );
      });
      return requeued;
    });
  }

  queuedEndpoints(): string[] {
    return this.#guard("read the queue", () => {
      // A skip-scan over the queued index: one lookup per endpoint, however long the queue.
      const rows = this.#statement(
        `WITH RECURSIVE e(name) AS (
           SELECT min(endpoint) FROM deliveries INDEXED BY deliveries_queued WHERE state = 'queued'
           UNION ALL
           SELECT (SELECT min(endpoint) FROM deliveries INDEXED BY deliveries_queued
                   WHERE state = 'queued' AND endpoint > e.name)
           FROM e WHERE e.name IS NOT NULL)
         SELECT name FROM e WHERE name IS NOT NULL`,
      ).all();
      return rows.map((row) => row.name as string);
    });
  }

  queued(endpoint: string, options: { limit?: number; newest?: boolean } = {}): QueuedRef[] {
    return this.#guard("read the queue", () => {
      const order = options.newest ? "DESC" : "ASC";
      return this.#statement(
        `SELECT id, seq, not_before FROM deliveries
         INDEXED BY deliveries_queued
         WHERE state = 'queued' AND endpoint = ? ORDER BY seq ${order} LIMIT ?`,
      ).all(endpoint, options.limit ?? 1).map((row) => ({
        id: row.id as string,
        seq: row.seq as number,
        notBefore: row.not_before as number,
      }));
    });
  }

  supersede(endpoint: string, keepId: string): string[] {
    return this.#guard("supersede deliveries", () => {
      let ids: string[] = [];
      this.#transaction(() => {
        const now = this.#now();
        ids = this.#statement(
          `UPDATE deliveries SET state = 'superseded', superseded_by = ?1, updated_at = ?2,
             finished_at = ?2
           WHERE state = 'queued' AND endpoint = ?3
             AND seq < (SELECT seq FROM deliveries WHERE id = ?1)
           RETURNING id`,
        ).all(keepId, now, endpoint).map((row) => row.id as string);
      });
      return ids;
    });
  }

  claim(id: string): ClaimedDelivery | null {
    return this.#guard("claim a delivery", () => {
      let claimed: ClaimedDelivery | null = null;
      this.#transaction(() => {
        const now = this.#now();
        const row = this.#statement(
          `UPDATE deliveries SET state = 'running', attempts = attempts + 1, updated_at = ?
           WHERE id = ? AND state = 'queued' AND hook IS NOT NULL
           RETURNING *`,
        ).get(now, id);
        if (!row) return;
        const run = this.#statement(
          `INSERT INTO runs (delivery_id, attempt, started_at, outcome)
           VALUES (?, ?, ?, 'running') RETURNING id`,
        ).get(id, row.attempts, now)!;
        claimed = {
          id,
          endpoint: row.endpoint as string,
          event: row.event as string,
          sourceId: row.source_id as string | null,
          receivedAt: row.received_at as number,
          contentType: row.content_type as string,
          headers: JSON.parse(row.headers as string),
          body: row.body as Uint8Array,
          hook: row.hook as string,
          timeoutMs: row.timeout_ms as number,
          verifiedBy: row.verified_by as string | null,
          attempt: row.attempts as number,
          failures: row.failures as number,
          runId: run.id as number,
        };
      });
      return claimed;
    });
  }

  finishRun(claimed: Pick<ClaimedDelivery, "id" | "runId">, end: RunEnd, next: NextState): void {
    this.#guard("record the run", () => {
      this.#transaction(() => {
        const now = this.#now();
        this.#statement(
          `UPDATE runs SET ended_at = ?, duration_ms = ?, outcome = ?, exit_code = ?, signal = ?,
             stdout = ?, stderr = ?, stdout_truncated = ?, stderr_truncated = ?, error = ?,
             started_at = coalesce(?, started_at)
           WHERE id = ?`,
        ).run(
          end.endedAt,
          Math.round(end.durationMs),
          end.outcome,
          end.exitCode,
          end.signal,
          end.stdout,
          end.stderr,
          end.stdoutTruncated ? 1 : 0,
          end.stderrTruncated ? 1 : 0,
          end.error ?? null,
          end.startedAt ?? null,
          claimed.runId,
        );
        if (next.state === "queued") {
          this.#statement(
            `UPDATE deliveries SET state = 'queued', not_before = ?, failures = failures + ?,
               updated_at = ?
             WHERE id = ? AND state = 'running'`,
          ).run(next.notBefore, next.failed ? 1 : 0, now, claimed.id);
        } else {
          this.#statement(
            `UPDATE deliveries SET state = ?, failures = failures + ?, updated_at = ?,
               finished_at = ?
             WHERE id = ? AND state = 'running'`,
          ).run(next.state, next.state === "failed" ? 1 : 0, now, now, claimed.id);
        }
      });
    });
  }

  stats(): StoreStats {
    return { ...this.#stats, checkpointsInWorker: this.#checkpointer !== undefined };
  }

  close(): void {
    if (this.#closed) return;
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
    const batches = this.#waiting ? [this.#waiting] : [];
    this.#waiting = undefined;
    while (this.#pending.length > 0) batches.push(this.#pending.splice(0, MAX_BATCH));
    // Shutting down, nothing left to serve: the last try may wait in SQLite.
    if (batches.length > 0) {
      this.#blocking(() => batches.forEach((b) => this.#commitBatch(b, false)));
    }
    this.#syncNow();
    this.#closed = true;
    if (this.#checkpointer) {
      // Its connection closed first, this one is the last: SQLite checkpoints and removes the
      // WAL. Shutting down, nothing left to serve: waiting here (after a checkpoint under way,
      // at most a second) is allowed.
      this.#checkpointer.postMessage({ type: "close" });
      Atomics.wait(this.#workerClosed, 0, 0, 1000);
    }
    this.#stopCheckpointer();
    this.#statements.clear();
    this.#db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #nextSeq(): number {
    const row = this.#statement("SELECT coalesce(max(seq), 0) + 1 AS seq FROM deliveries").get()!;
    return row.seq as number;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Run `work` in a write transaction. `durable` commits with an fsync of
   * the WAL (synchronous = FULL), which also makes every earlier commit
   * durable: a 2xx promises the delivery survives a power cut. Otherwise the
   * commit survives a crash of hookd but not of the machine. A store in WAL
   * mode ignores `durable`: `insert` syncs the WAL itself, off the event loop.
   */
  #transaction(work: () => void, durable = false): void {
    durable &&= this.#walPath === undefined;
    if (durable) this.#db.exec("PRAGMA synchronous = FULL");
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        work();
        this.#db.exec("COMMIT");
        this.#wrote(PAGE_BYTES);
      } catch (error) {
        // A failed COMMIT may leave the transaction open (SQLITE_BUSY); never leave it dangling.
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw error;
      }
    } finally {
      if (durable) this.#db.exec("PRAGMA synchronous = NORMAL");
    }
  }

  /** A transaction that waits in SQLite for the lock: only for the command line and start-up. */
  #blockingTransaction(work: () => void): void {
    this.#blocking(() => this.#transaction(work));
  }

  #blocking<T>(work: () => T): T {
    // A read-only store's connection waits already.
    if (this.#readOnly) return work();
    setBusyTimeout(this.#db, this.#busyTimeoutMs);
    try {
      return work();
    } finally {
      setBusyTimeout(this.#db, 0);
    }
  }

  #guard<T>(what: string, work: () => T): T {
    if (this.#closed) throw new StoreUnavailableError("The delivery store is closed");
    try {
      return work();
    } catch (error) {
      if (isSqliteError(error)) throw unavailable(`Cannot ${what}`, error);
      throw error;
    }
  }
}

function unavailable(what: string, error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`${what}: ${message(error)}`, { cause: error });
}

function checkDelivery(d: NewDelivery): void {
  const problems: string[] = [];
  for (const key of ["endpoint", "event", "contentType"] as const) {
    if (typeof d[key] !== "string") problems.push(`${key} must be a string`);
  }
  if (!d.endpoint) problems.push("endpoint must not be empty");
  if (d.sourceId !== undefined && typeof d.sourceId !== "string") {
    problems.push("sourceId must be a string when present");
  }
  if (!Number.isFinite(d.receivedAt)) problems.push("receivedAt must be epoch milliseconds");
  if (!(d.body instanceof Uint8Array)) problems.push("body must be a Uint8Array");
  if (d.hook !== null && typeof d.hook !== "string") problems.push("hook must be a string or null");
  if (!Number.isInteger(d.timeoutMs) || d.timeoutMs <= 0) {
    problems.push("timeoutMs must be a positive integer");
  }
  if (typeof d.headers !== "object" || d.headers === null) {
    problems.push("headers must be an object");
  }
  if (problems.length > 0) throw new TypeError(`Invalid delivery: ${problems.join("; ")}`);
}

function whereClause(
  filter: DeliveryFilter,
  extra: string[] = [],
): { where: string; params: (string | number)[] } {
  const clauses = [...extra];
  const params: (string | number)[] = [];
  if (filter.endpoint !== undefined) {
    clauses.push("d.endpoint = ?");
    params.push(filter.endpoint);
  }
  if (filter.state !== undefined) {
    const states = typeof filter.state === "string" ? [filter.state] : [...filter.state];
    for (const state of states) {
      if (!DELIVERY_STATES.includes(state)) {
        throw new RangeError(
          `Unknown delivery state "${state}": use one of ${DELIVERY_STATES.join(", ")}`,
        );
      }
    }
    clauses.push(`d.state IN (${states.map(() => "?").join(", ") || "NULL"})`);
    params.push(...states);
  }
  if (filter.since !== undefined) {
    clauses.push("d.received_at >= ?");
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    clauses.push("d.received_at < ?");
    params.push(filter.until);
  }
  if (filter.before !== undefined) {
    clauses.push("d.id < ?");
    params.push(filter.before);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}

function toSummary(row: Row): DeliverySummary {
  return {
    id: row.id as string,
    endpoint: row.endpoint as string,
    event: row.event as string,
    sourceId: row.source_id as string | null,
    receivedAt: row.received_at as number,
    contentType: row.content_type as string,
    bodySize: row.body_size as number,
    hook: row.hook as string | null,
    verifiedBy: row.verified_by as string | null,
    state: row.state as DeliveryState,
    attempts: row.attempts as number,
    queuedAt: row.queued_at as number,
    updatedAt: row.updated_at as number,
    finishedAt: row.finished_at as number | null,
    supersededBy: row.superseded_by as string | null,
    lastRun: row.r_outcome == null ? null : {
      outcome: row.r_outcome as RunOutcome,
      exitCode: row.r_exit_code as number | null,
      signal: row.r_signal as string | null,
      startedAt: row.r_started_at as number,
      endedAt: row.r_ended_at as number | null,
    },
  };
}

function toRun(row: Row): RunRecord {
  return {
    id: row.id as number,
    attempt: row.attempt as number,
    startedAt: row.started_at as number,
    endedAt: row.ended_at as number | null,
    durationMs: row.duration_ms as number | null,
    outcome: row.outcome as RunOutcome,
    exitCode: row.exit_code as number | null,
    signal: row.signal as string | null,
    stdout: row.stdout as string,
    stderr: row.stderr as string,
    stdoutTruncated: row.stdout_truncated === 1,
    stderrTruncated: row.stderr_truncated === 1,
    error: row.error as string | null,
  };
}
