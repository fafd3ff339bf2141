/**
 * Group commit for the SQLite store: inserts from concurrent requests share
 * one transaction and one fdatasync of the WAL, run on Deno's I/O threads;
 * a lock held by another process is waited out on a timer, never inside
 * SQLite (that would stop the event loop).
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";
import type { DatabaseSync } from "node:sqlite";
import { isLockError, unavailable } from "./_sqlite.ts";
import {
  type InsertResult,
  type NewDelivery,
  type StoreStats,
  StoreUnavailableError,
} from "./types.ts";

const MAX_BATCH = 500;

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

/** What one committed batch wrote. */
export interface BatchWritten {
  /** One result per row, in order. */
  results: InsertResult[];
  /** Rows inserted (duplicates are not). */
  inserted: number;
}

/** Options for {@linkcode GroupCommit}. */
export interface GroupCommitOptions {
  /** The WAL file, when inserts are made durable by syncing it; undefined outside WAL mode. */
  walPath?: string;
  /** How long the first insert of a batch waits for others to join it. */
  maxWaitMs: number;
  /** How long an insert waits for another process's write lock. */
  busyTimeoutMs: number;
  /**
   * Write the rows in one transaction (durable where there is no WAL) and
   * report what it did; throws what SQLite throws.
   */
  write(rows: readonly NewDelivery[]): BatchWritten;
  /** Run `work` with SQLite's own busy wait on (shutting down only). */
  blocking<T>(work: () => T): T;
}

/** Resolve each insert of the batches with its result, or reject them all with `failure`. */
function settle(committed: readonly Committed[], failure?: unknown): void {
  for (const { batch, results } of committed) {
    batch.forEach((pending, i) => failure ? pending.reject(failure) : pending.resolve(results[i]));
  }
}

/** The insert path of the SQLite store: batching, lock retries and WAL syncs. */
export class GroupCommit {
  #db: DatabaseSync;
  #options: GroupCommitOptions;
  /** Inserts not yet in a commit, oldest first. */
  #pending: Pending[] = [];
  /** The batch waiting for another process's write lock; `#pending` waits behind it. */
  #waiting: Pending[] | undefined;
  #cancelFlush: (() => void) | undefined;
  #cancelRetry: (() => void) | undefined;
  #closed = false;
  #stats: StoreStats = { insertTransactions: 0, inserted: 0, checkpoints: 0 };
  /** Committed batches waiting for the next WAL sync. */
  #unsynced: Committed[] = [];
  /** The batches the WAL sync under way will settle. */
  #syncingBatches: Committed[] = [];
  /** The WAL sync under way, if any. */
  #syncing: Promise<void> | undefined;
  /**
   * Start committing for a store's connection.
   *
   * @param db the store's connection
   * @param options the file, the waits, the writer
   */
  constructor(db: DatabaseSync, options: GroupCommitOptions) {
    this.#db = db;
    this.#options = options;
  }

  /**
   * Queue a checked row for the next shared commit.
   *
   * @param row the delivery
   * @returns its result, once its commit is durable
   */
  insert(row: NewDelivery): Promise<InsertResult> {
    const { promise, resolve, reject } = Promise.withResolvers<InsertResult>();
    this.#pending.push({ row, since: performance.now(), resolve, reject });
    // A batch waiting for the lock, or for its WAL sync, schedules the next
    // flush when it settles: order is kept, and inserts arriving meanwhile
    // share one commit instead of paying for one each.
    if (this.#held()) return promise;
    if (this.#pending.length >= MAX_BATCH) this.#scheduleFlush(0);
    else if (!this.#cancelFlush) this.#scheduleFlush(this.#options.maxWaitMs);
    return promise;
  }

  /** Inserts not yet committed (waiting to share a commit, or for a lock). */
  get inserting(): number {
    return this.#pending.length + (this.#waiting?.length ?? 0);
  }

  /** Commit counters. */
  stats(): StoreStats {
    return { ...this.#stats };
  }

  /**
   * Commit pending inserts (an insert waiting for the write lock gets one
   * last try that waits in SQLite) and make them durable.
   */
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
      this.#options.blocking(() => batches.forEach((b) => this.#commitBatch(b, false)));
    }
    this.#syncNow();
    this.#closed = true;
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
   * process's lock, and while the WAL sync of the last batch runs.
   */
  #held(): boolean {
    return this.#waiting !== undefined || this.#syncing !== undefined;
  }

  /**
   * Commit `batch` and settle its inserts. With `retry`, a locked database is
   * tried again on a timer until the oldest insert has waited
   * `busyTimeoutMs`: SQLite's own busy wait would stop the event loop.
   */
  #commitBatch(batch: Pending[], retry: boolean): void {
    this.#cancelRetry = undefined;
    let written: BatchWritten;
    try {
      written = this.#options.write(batch.map((pending) => pending.row));
    } catch (error) {
      const left = batch[0].since + this.#options.busyTimeoutMs - performance.now();
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
    const walPath = this.#options.walPath;
    if (walPath === undefined) {
      settle([{ batch, results: written.results }]);
    } else {
      this.#unsynced.push({ batch, results: written.results });
      this.#syncing ??= this.#syncThenSettle(walPath);
    }
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
   * The blocking form of {@linkcode GroupCommit.#syncThenSettle}, for
   * `close`: it also settles the batches of a sync still under way, which
   * could not open the WAL once closing removed it (settling twice is a no-op).
   */
  #syncNow(): void {
    const settling = [...this.#syncingBatches, ...this.#unsynced];
    const walPath = this.#options.walPath;
    if (walPath === undefined || settling.length === 0) return;
    this.#unsynced = [];
    let failure: StoreUnavailableError | undefined;
    try {
      using wal = Deno.openSync(walPath, { read: true });
      wal.syncDataSync();
    } catch (error) {
      failure = unavailable("Cannot make the delivery durable", error);
    }
    settle(settling, failure);
  }
}
