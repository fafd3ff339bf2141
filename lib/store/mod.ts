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
import { DatabaseSync } from "node:sqlite";
import { checkNonNegative } from "../config/limits.ts";
import { journalMode, message, prepareDatabase, setBusyTimeout } from "./_sqlite.ts";
import { SqliteStore } from "./_sqlite_store.ts";
import {
  type ClaimedDelivery,
  type DeliveryDetail,
  type DeliveryFilter,
  type DeliverySummary,
  type InsertResult,
  type NewDelivery,
  type NextState,
  type QueueCounts,
  type QueuedRef,
  type RequeueResult,
  type RunEnd,
  type StoreOptions,
  type StoreStats,
  StoreUnavailableError,
} from "./types.ts";

export * from "./types.ts";

const DAY_MS = 86_400_000;

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

/**
 * The path of the delivery store inside the state directory.
 *
 * @param stateDir `HOOKD_STATE_DIR`
 * @returns the database file
 */
export function storePath(stateDir: string): string {
  return `${stateDir}/hookd.db`;
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
 * import { openStore } from "./mod.ts";
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
  checkNonNegative("openStore", "retentionMs", retentionMs);
  checkNonNegative("openStore", "groupCommitMaxWaitMs", maxWaitMs);
  checkNonNegative("openStore", "busyTimeoutMs", busyTimeoutMs);
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
