/**
 * The SQLite store's inserts: a shared commit (`_batch.ts`) whose WAL is
 * fdatasync'd on Deno's I/O threads before its inserts resolve, and
 * checkpoints in a worker thread, never in the committing call (a checkpoint
 * copies megabytes and syncs two files). The worker starts when the WAL has
 * grown past a size and ends after a quiet period: an idle daemon holds no
 * second isolate.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { Batcher, type Outcome } from "./_batch.ts";
import type { insertRows } from "./_insert.ts";
import { retryLocked } from "./_sqlite.ts";
import { unavailable } from "./_rows.ts";
import {
  type InsertResult,
  type NewDelivery,
  type StoreStats,
  StoreUnavailableError,
} from "./types.ts";

/** SQLite's page size, the least a write transaction adds to the WAL. */
export const PAGE_BYTES = 4096;

/** What one committed batch wrote. */
export type BatchWritten = ReturnType<typeof insertRows>;

type Checkpointing = "no" | "bulk" | "final" | "stopping";

/** Options for {@linkcode GroupCommit}. */
export interface GroupCommitOptions {
  /** The database file (the checkpointer opens its own connection to it). */
  path: string;
  /**
   * Checkpoint in a worker once about `afterBytes` were written to the WAL,
   * and end the worker after `quietMs` without a write; undefined outside WAL mode.
   */
  checkpoint?: { afterBytes: number; quietMs: number };
  /** The WAL file, when inserts are made durable by syncing it. */
  walPath?: string;
  /** How long the first insert of a batch waits for others to join it. */
  maxWaitMs: number;
  /** How long a batch waits for another process's write lock. */
  busyTimeoutMs: number;
  /** Write the rows in one transaction and report what it did; throws what SQLite throws. */
  write(rows: readonly NewDelivery[]): BatchWritten;
}

/** The insert path of the SQLite store: batching, lock retries, WAL syncs and checkpoints. */
export class GroupCommit {
  #db: DatabaseSync;
  #options: GroupCommitOptions;
  /** Checked rows queued for a shared commit; each resolves once its commit is durable. */
  readonly inserts: Batcher<NewDelivery, InsertResult>;
  #closed = false;
  #stats = { insertTransactions: 0, inserted: 0, checkpoints: 0 };
  #checkpointer: Worker | undefined;
  /**
   * The checkpoint under way: `bulk` while inserts go on, `final` while they
   * wait; `stopping` while the quiet checkpointer's last pass truncates the WAL and it closes.
   */
  #checkpointing: Checkpointing = "no";
  /** Inserts wait for this while the checkpointer holds the write lock (`final`, `stopping`). */
  #paused: PromiseWithResolvers<void> | undefined;
  /** Resolved when the checkpointer has closed its connection. */
  #workerClosed = Promise.withResolvers<void>();
  /** About how many bytes were written to the WAL since the last checkpoint began. */
  #walBytes = 0;
  /** When the WAL was last written, `performance.now()`. */
  #lastWrite = 0;
  #cancelQuiet: (() => void) | undefined;

  /** @param db the store's connection */
  constructor(db: DatabaseSync, options: GroupCommitOptions) {
    this.#db = db;
    this.#options = options;
    // Never a checkpoint in the committing call, on the event loop: the worker does them.
    if (options.checkpoint) db.exec("PRAGMA wal_autocheckpoint = 0");
    this.inserts = new Batcher({
      maxWaitMs: options.maxWaitMs,
      write: (rows, committed) => this.#commit(rows, committed),
      pause: () => this.#paused?.promise,
    });
  }

  /** Commit counters, and whether a checkpointer lives. */
  stats(): StoreStats {
    return { ...this.#stats, checkpointWorker: this.#checkpointer !== undefined };
  }

  /**
   * Count about how many bytes a commit wrote to the WAL; past
   * `checkpoint.afterBytes` since the last checkpoint began, ask the
   * checkpointer (started if need be) for a checkpoint.
   */
  wrote(bytes: number): void {
    const checkpoint = this.#options.checkpoint;
    if (!checkpoint || this.#closed) return;
    this.#walBytes += bytes;
    this.#lastWrite = performance.now();
    if (this.#checkpointing !== "no" || this.#walBytes < checkpoint.afterBytes) return;
    this.#setCheckpointing("bulk");
    this.#walBytes = 0;
    (this.#checkpointer ??= this.#startCheckpointer()).postMessage({ type: "checkpoint" });
  }

  /**
   * Commit pending inserts and make them durable, then close the
   * checkpointer's connection first, so that the store's is the last one.
   */
  async close(): Promise<void> {
    await this.inserts.flush();
    // From here no commit starts a checkpointer (see `wrote`).
    this.#closed = true;
    if (this.#checkpointer) {
      // Its connection closed first, the store's is the last: SQLite checkpoints and removes
      // the WAL. A checkpoint under way finishes first: at most a second.
      this.#checkpointer.postMessage({ type: "close" });
      let timer;
      await Promise.race([
        this.#workerClosed.promise,
        new Promise((resolve) => timer = setTimeout(resolve, 1000)),
      ]);
      clearTimeout(timer);
    }
    this.#stopCheckpointer();
  }

  /** Commit a batch, waiting out another process's lock on a timer, and sync the WAL. */
  async #commit(rows: NewDelivery[], committed: () => void): Promise<Outcome<InsertResult>[]> {
    let written: BatchWritten;
    try {
      written = await retryLocked(() => this.#options.write(rows), this.#options.busyTimeoutMs);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw unavailable("Cannot store the delivery", error);
    }
    committed();
    this.#stats.insertTransactions++;
    this.#stats.inserted += written.inserted;
    // About what the WAL grew by: each row's body and a page of rows and indexes.
    this.wrote(rows.reduce((sum, row) => sum + row.body.byteLength + PAGE_BYTES, 0));
    if (this.#options.walPath !== undefined) {
      // What synchronous = FULL does inside COMMIT, minus the event loop standing still for
      // the disk; batches committed meanwhile wait for the next sync.
      try {
        // Opened afresh each time: SQLite may remove the file when the last other connection closes.
        using wal = await Deno.open(this.#options.walPath, { read: true });
        await wal.syncData();
      } catch (error) {
        throw unavailable("Cannot make the delivery durable", error);
      }
    }
    return written.results.map((value) => ({ ok: true, value }));
  }

  #setCheckpointing(state: Checkpointing): void {
    this.#checkpointing = state;
    if (state === "final" || state === "stopping") this.#paused ??= Promise.withResolvers();
    else {
      this.#paused?.resolve();
      this.#paused = undefined;
    }
  }

  #startCheckpointer(): Worker {
    // Starting an isolate costs tens of milliseconds, part of them on this
    // thread: once per burst, not once per checkpoint.
    const worker = new Worker(new URL("./_checkpoint_worker.ts", import.meta.url), {
      type: "module",
    });
    // A WAL is rewound (written again from its start) only by a checkpoint that copies all of
    // it with no writer in between, never beside a busy writer: it would grow for as long as
    // requests come. So a bulk pass (PASSIVE) runs beside the inserts, then a short final one
    // (RESTART) while they wait; a dispatcher write meeting its lock retries on a timer.
    worker.onmessage = (event: MessageEvent<{ type: string }>) => {
      if (event.data.type === "checkpointed") {
        if (this.#checkpointing === "bulk" && !this.#closed) {
          this.#setCheckpointing("final");
          worker.postMessage({ type: "checkpoint", mode: "RESTART" });
          return;
        }
        this.#stats.checkpoints++;
        if (this.#checkpointing === "stopping") return; // "closed" follows
        this.#setCheckpointing("no");
      } else {
        if (event.data.type === "closed") this.#workerClosed.resolve();
        this.#stopCheckpointer(event.data.type === "error");
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#stopCheckpointer(true);
    };
    this.#workerClosed = Promise.withResolvers();
    worker.postMessage({ type: "open", path: this.#options.path });
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
      this.#setCheckpointing("stopping");
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
    this.#setCheckpointing("no");
    if (failed && !this.#closed) {
      this.#options.checkpoint = undefined;
      this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
    }
  }
}
