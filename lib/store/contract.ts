/**
 * The store's contract: what both stores promise the accept path, the queue,
 * the command line and the admin pages.
 *
 * @module
 */

import type {
  ClaimedDelivery,
  ClaimOptions,
  DeliveryDetail,
  DeliveryFilter,
  DeliverySummary,
  InsertResult,
  MinuteActivity,
  NewDelivery,
  NextState,
  ProcessGroup,
  QueueCounts,
  QueuedRef,
  RequeueOptions,
  RequeueResult,
  RunEnd,
  RunningGroup,
  StoreStats,
} from "./types.ts";

/**
 * The delivery store: SQLite under `HOOKD_STATE_DIR` (one process runs
 * hooks) or PostgreSQL shared by several instances. Every operation returns
 * a Promise, rejected with {@linkcode StoreUnavailableError} when the
 * database cannot do the work. Dispose it (`await using`, or `close`) to
 * commit pending inserts and close it.
 */
export interface Store extends AsyncDisposable {
  /** The database file, or the PostgreSQL URL without its password. */
  readonly path: string;
  /** How long deliveries are kept and duplicates recognised, milliseconds. */
  readonly retentionMs: number;

  /**
   * Store a delivery. Resolves only after the row is committed, so a 2xx may
   * follow; inserts arriving together share one transaction, in call order.
   * A duplicate (`sourceId` or `replayHash` stored by the endpoint within the
   * retention window) is not inserted: the result names the first one. A
   * delivery without a hook is stored as `ignored`, one with `filteredBy` as
   * `filtered` (final, not run), any other as `queued`. Another process's
   * write lock is waited out on a timer, never by blocking the event loop.
   *
   * @param delivery the delivery, headers already redacted
   * @returns its id, whether it was a duplicate, and its state
   * @throws {StoreUnavailableError} (as a rejection) when the commit failed, or
   *   the write lock stayed taken for `busyTimeoutMs`; nothing was stored
   * @throws {TypeError} (as a rejection) when a field is missing or malformed
   */
  insert(delivery: NewDelivery): Promise<InsertResult>;

  /** One delivery with its headers, body and every run; null when there is no such id. */
  get(id: string): Promise<DeliveryDetail | null>;

  /** Summaries (no bodies or output) of the deliveries matching `filter`, newest first; default the newest 100. */
  list(filter?: DeliveryFilter): Promise<DeliverySummary[]>;

  /**
   * Deliveries received per minute by state, and hook run durations, for a
   * chart: one entry per minute from `since` (rounded down) to `until`, oldest first.
   */
  activity(since: number, until: number): Promise<MinuteActivity[]>;

  /**
   * Queue depth, including other processes' changes, read from counters the
   * database keeps: cheap enough for every request.
   */
  counts(): Promise<QueueCounts>;

  /**
   * Replay: put finished deliveries back at the end of the queue with a fresh
   * retry budget; queued, running, unknown and hookless ones are skipped.
   * For the command line: waits up to `busyTimeoutMs` for the lock, blocking.
   *
   * @param options `hookFor`: the hook to run now, stored with the delivery
   *   (an `ignored` one it gives a hook is requeued)
   * @returns which were requeued and which skipped, and why
   */
  requeue(ids: readonly string[], options?: RequeueOptions): Promise<RequeueResult>;

  /**
   * Replay every finished delivery with a hook that matches `filter`, e.g.
   * `{ state: "failed", since }` (`limit` caps how many, newest first); with
   * `hookFor`, every finished one (`ignored` too), skipping those it gives no
   * hook. Without `hookFor` none are skipped: unmatched ones are not listed.
   */
  requeueMatching(filter: DeliveryFilter, options?: RequeueOptions): Promise<RequeueResult>;

  /**
   * Delete at most `limit` (default 500) finished deliveries received before
   * `olderThan`, and their runs, so that a caller can yield between batches;
   * queued and running ones are never purged. Does not wait for another
   * process's write lock: it throws, and the caller tries later.
   *
   * @returns how many deliveries were deleted
   */
  purge(olderThan: number, options?: { limit?: number }): Promise<number>;

  /**
   * After a crash: record every `running` run as `interrupted` and put its
   * delivery back in the queue (keeping its place). Only the process that
   * runs hooks may call this, at start, before dispatching. Waits up to
   * `busyTimeoutMs` for the write lock, blocking: nothing is served yet.
   *
   * @returns how many deliveries were requeued
   */
  recover(): Promise<number>;

  /** The endpoints that have queued deliveries, sorted. */
  queuedEndpoints(): Promise<string[]>;

  /**
   * The places of an endpoint's first `limit` (default 1) queued deliveries,
   * in queue order, or of the last ones with `newest`.
   */
  queued(endpoint: string, options?: { limit?: number; newest?: boolean }): Promise<QueuedRef[]>;

  /**
   * Mark an endpoint's queued deliveries ahead of `keepId` as `superseded` by
   * it, and return their ids. Does not wait for another process's write lock: it throws.
   */
  supersede(endpoint: string, keepId: string): Promise<string[]>;

  /**
   * Take a queued delivery for a run: mark it `running` and record a run
   * that has started. Null when another process changed it meanwhile, or
   * when `concurrency` runs of its endpoint run across instances (PostgreSQL,
   * which holds the claim under a lease it renews). A write lock is waited
   * out on a timer (up to `busyTimeoutMs`), never by blocking.
   *
   * @returns the delivery with its body and the new run's id, or null
   */
  claim(id: string, options?: ClaimOptions): Promise<ClaimedDelivery | null>;

  /**
   * Take back runs whose claim expired: another instance held them and
   * stopped renewing its lease (it died, or lost the database). Each is
   * recorded as `interrupted` and its delivery requeued, keeping its place.
   * The dispatcher calls this at every poll; a store shared by no other
   * instance (SQLite) has none and answers 0.
   *
   * @returns how many deliveries were requeued
   */
  reclaimExpired(): Promise<number>;

  /**
   * Runs going on now per endpoint (endpoints with none left out), on every
   * instance sharing the store, so that the dispatcher picks only what can run
   * cluster-wide. A store with one dispatcher (SQLite) answers an empty map:
   * that dispatcher's own count is the whole.
   */
  runningByEndpoint(): Promise<Map<string, number>>;

  /**
   * Be told when work is queued by any process, sooner than a poll would
   * find it (PostgreSQL's LISTEN/NOTIFY; SQLite hears re-queues only, by a
   * watched file). Notifications may be missed (a reconnect), so keep polling.
   */
  listen(onWork: () => void): Promise<{ unlisten(): Promise<void> }>;

  /**
   * Record the process group a claimed run's hook runs in, so that after a
   * crash the next start can end it ({@linkcode Store.runningGroups}). Waits
   * out another process's write lock on a timer, as `claim` does.
   */
  recordProcessGroup(claimed: Pick<ClaimedDelivery, "runId">, group: ProcessGroup): Promise<void>;

  /**
   * The process groups recorded for runs still marked `running`, oldest
   * first: at start, before {@linkcode Store.recover}, the hooks a crashed
   * daemon may have left running.
   */
  runningGroups(): Promise<RunningGroup[]>;

  /**
   * Record how a claimed run ended and where the delivery goes next. Waits
   * out another process's write lock on a timer, as `claim` does; when it
   * still fails, the dispatcher tries again a few times, then frees the
   * run's slot and reports it.
   */
  finishRun(
    claimed: Pick<ClaimedDelivery, "id" | "runId">,
    end: RunEnd,
    next: NextState,
  ): Promise<void>;

  /** A snapshot of this store's own counters, for tests and metrics. */
  stats(): Promise<StoreStats>;

  /**
   * Commit pending inserts (one waiting for the write lock waits on, up to
   * `busyTimeoutMs`) and close. Later calls reject with {@linkcode StoreUnavailableError}.
   */
  close(): Promise<void>;
}
