/**
 * Group commit for the SQLite store: inserts from concurrent requests share
 * one transaction and one fdatasync of the WAL, run on Deno's I/O threads;
 * a lock held by another process is waited out on a timer, never inside
 * SQLite (that would stop the event loop); and checkpoints run in a worker
 * thread, never in the committing call (a checkpoint copies megabytes and
 * syncs two files). That worker is started when the WAL has grown past a
 * size and ended after a quiet period without commits: an idle daemon holds
 * no second isolate.
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";
import type { DatabaseSync } from "node:sqlite";
import { isLockError } from "./_sqlite.ts";
import { unavailable } from "./_rows.ts";
import {
  type InsertResult,
  type NewDelivery,
  type StoreStats,
  StoreUnavailableError,
} from "./types.ts";

const MAX_BATCH = 500;

/** SQLite's page size, the least a write transaction adds to the WAL. */
export const PAGE_BYTES = 4096;

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
  /** The database file (the checkpointer opens its own connection to it). */
  path: string;
  /**
   * Checkpoint in a worker once about `afterBytes` were written to the WAL,
   * and end the worker after `quietMs` without a write; undefined outside WAL mode.
   */
  checkpoint?: { afterBytes: number; quietMs: number };
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
  #stats = { insertTransactions: 0, inserted: 0, checkpoints: 0 };
  /** Committed batches waiting for the next WAL sync. */
  #unsynced: Committed[] = [];
  /** The batches the WAL sync under way will settle. */
  #syncingBatches: Committed[] = [];
  /** The WAL sync under way, if any. */
  #syncing: Promise<void> | undefined;
  /** The checkpointer, while it lives. */
  #checkpointer: Worker | undefined;
  /** Set to 1 by the checkpointer once it has closed its connection. */
  #workerClosed = new Int32Array(new SharedArrayBuffer(4));
  /**
   * The checkpoint under way: `bulk` while inserts go on, `final` while they
   * wait; `stopping` while the quiet checkpointer's last pass truncates the WAL and it closes.
   */
  #checkpointing: "no" | "bulk" | "final" | "stopping" = "no";
  /** About how many bytes were written to the WAL since the last checkpoint began. */
  #walBytes = 0;
  /** When the WAL was last written, `performance.now()`. */
  #lastWrite = 0;
  #cancelQuiet: (() => void) | undefined;

  /**
   * Start committing for a store's connection.
   *
   * @param db the store's connection
   * @param options the file, the waits, the writer
   */
  constructor(db: DatabaseSync, options: GroupCommitOptions) {
    this.#db = db;
    this.#options = options;
    // Never a checkpoint in the committing call, on the event loop: the worker does them.
    if (options.checkpoint) db.exec("PRAGMA wal_autocheckpoint = 0");
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

  /** Commit counters, and whether a checkpointer lives. */
  stats(): StoreStats {
    return { ...this.#stats, checkpointWorker: this.#checkpointer !== undefined };
  }

  /**
   * Count bytes written to the WAL; once about `checkpoint.afterBytes` were
   * written since the last checkpoint began, start the checkpointer if it
   * is not running and ask it for a checkpoint.
   *
   * @param bytes about how many bytes a commit wrote
   */
  wrote(bytes: number): void {
    const checkpoint = this.#options.checkpoint;
    if (!checkpoint || this.#closed) return;
    this.#walBytes += bytes;
    this.#lastWrite = performance.now();
    if (this.#checkpointing !== "no" || this.#walBytes < checkpoint.afterBytes) return;
    this.#checkpointing = "bulk";
    this.#walBytes = 0;
    (this.#checkpointer ??= this.#startCheckpointer()).postMessage({ type: "checkpoint" });
  }

  /**
   * Commit pending inserts (an insert waiting for the write lock gets one
   * last try that waits in SQLite), make them durable, and close the
   * checkpointer's connection first, so the store's is the last one.
   */
  close(): void {
    if (this.#closed) return;
    // From here no commit starts a checkpointer (see `wrote`).
    this.#closed = true;
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
    if (this.#checkpointer) {
      // Its connection closed first, the store's is the last: SQLite checkpoints and removes the
      // WAL. Shutting down, nothing left to serve: waiting here (after a checkpoint under way,
      // at most a second) is allowed.
      this.#checkpointer.postMessage({ type: "close" });
      Atomics.wait(this.#workerClosed, 0, 0, 1000);
    }
    this.#stopCheckpointer();
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
   * checkpointer copies the last frames (see #startCheckpointer) or stops.
   */
  #held(): boolean {
    return this.#waiting !== undefined || this.#syncing !== undefined ||
      this.#checkpointing === "final" || this.#checkpointing === "stopping";
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
    // About what the WAL grew by: each row's body and a page of rows and indexes.
    this.wrote(batch.reduce((sum, pending) => sum + pending.row.body.byteLength + PAGE_BYTES, 0));
    const walPath = this.#options.walPath;
    if (walPath === undefined) {
      settle([{ batch, results: written.results }]);
    } else {
      this.#unsynced.push({ batch, results: written.results });
      this.#syncing ??= this.#syncThenSettle(walPath);
    }
  }

  #startCheckpointer(): Worker {
    // Starting an isolate costs tens of milliseconds, part of them on this
    // thread: once per burst, not once per checkpoint.
    const worker = new Worker(new URL("./_checkpoint_worker.ts", import.meta.url), {
      type: "module",
    });
    // A WAL is only rewound (written again from its start) by a checkpoint
    // that copies all of it with no writer in between, which a checkpoint
    // running beside a busy writer never achieves: the file would grow for as
    // long as requests keep coming. So the bulk pass (PASSIVE) runs beside
    // the inserts, and a short final pass (RESTART: the frames committed
    // meanwhile) runs while inserts wait; both in the worker, so the event
    // loop never waits for a checkpoint's syncs. A dispatcher write that
    // meets the final pass's lock is retried on a timer (`_write_batch.ts`),
    // as with any other process's lock.
    worker.onmessage = (event: MessageEvent<{ type: string }>) => {
      if (event.data.type === "checkpointed") {
        if (this.#checkpointing === "bulk" && !this.#closed) {
          this.#checkpointing = "final";
          worker.postMessage({ type: "checkpoint", mode: "RESTART" });
          return;
        }
        this.#stats.checkpoints++;
        if (this.#checkpointing === "stopping") return; // "closed" follows
        this.#checkpointing = "no";
        this.#flushRest();
      } else this.#stopCheckpointer(event.data.type === "error");
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#stopCheckpointer(true);
    };
    Atomics.store(this.#workerClosed, 0, 0);
    worker.postMessage({
      type: "open",
      path: this.#options.path,
      closed: this.#workerClosed.buffer,
    });
    this.#whenQuiet(this.#options.checkpoint!.quietMs);
    return worker;
  }

  /** After `quietMs` without a WAL write, and no checkpoint under way, close the checkpointer. */
  #whenQuiet(waitMs: number): void {
    const timer = setTimeout(() => {
      const quietMs = this.#options.checkpoint!.quietMs;
      const left = this.#lastWrite + quietMs - performance.now();
      if (left > 0 || this.#checkpointing !== "no") return this.#whenQuiet(Math.max(left, 10));
      this.#cancelQuiet = undefined;
      // A last pass empties the WAL and truncates it to 0 bytes: nothing stays at the high-water mark.
      this.#checkpointing = "stopping";
      this.#checkpointer?.postMessage({ type: "checkpoint", mode: "TRUNCATE" });
      this.#checkpointer?.postMessage({ type: "close" });
    }, waitMs);
    this.#cancelQuiet = () => clearTimeout(timer);
  }

  /**
   * End the checkpointer (it closed its connection, or failed). A failed one
   * leaves the checkpoints to SQLite, in the committing call: slower
   * commits, but the WAL stays bounded.
   */
  #stopCheckpointer(failed = false): void {
    this.#cancelQuiet?.();
    this.#cancelQuiet = undefined;
    this.#checkpointer?.terminate();
    this.#checkpointer = undefined;
    this.#checkpointing = "no";
    if (failed && !this.#closed) {
      this.#options.checkpoint = undefined;
      this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
    }
    if (!this.#closed) this.#flushRest();
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
