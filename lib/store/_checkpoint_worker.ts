/**
 * The store's checkpointer: a worker thread with its own SQLite connection
 * that copies the WAL back into the database file when the store asks.
 * A checkpoint writes megabytes and syncs two files; run in the daemon's
 * connection it would stop the event loop for as long. The store starts
 * it when the WAL has grown past a size and ends it after a quiet period
 * (see `_group_commit.ts`), so an idle daemon holds no second isolate.
 *
 * Messages in: `{ type: "open", path, closed }`, then `{ type: "checkpoint",
 * mode }` (`PASSIVE`, the default, `RESTART` or `TRUNCATE`) any number of times, and
 * `{ type: "close" }`, answered by setting `closed` (an `Int32Array` over a
 * `SharedArrayBuffer`) to 1, for the store's synchronous close, and by
 * `{ type: "closed" }`. Out: `{ type: "checkpointed", busy }` (1 when a lock
 * kept it from finishing) or `{ type: "error", message }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DatabaseSync } from "node:sqlite";

let db: DatabaseSync | undefined;
let closed: Int32Array | undefined;

self.onmessage = function onMessage(
  event: MessageEvent<{ type: string; path?: string; closed?: SharedArrayBuffer; mode?: string }>,
) {
  try {
    if (event.data.type === "open") {
      // synchronous defaults to FULL: the checkpoint syncs the WAL before
      // copying it and the database after, so nothing committed is lost.
      closed = new Int32Array(event.data.closed!);
      db = new DatabaseSync(event.data.path!);
    } else if (event.data.type === "close") {
      db?.close();
      db = undefined;
      // The store waits for this, blocking, in its own close().
      if (closed) {
        Atomics.store(closed, 0, 1);
        Atomics.notify(closed, 0);
      }
      self.postMessage({ type: "closed" });
    } else if (event.data.type === "checkpoint") {
      if (!db) throw new Error("The checkpointer was not opened");
      // PASSIVE never waits for the daemon's writers or readers: it does what it can now.
      // RESTART also makes the next commit write the WAL from its start; it takes the write
      // lock, so the store asks for it only while its inserts wait.
      // TRUNCATE: RESTART, and the WAL cut to 0 bytes (the last pass before the worker ends).
      const mode = ["RESTART", "TRUNCATE"].includes(event.data.mode!) ? event.data.mode : "PASSIVE";
      let busy = 1;
      try {
        const row = db.prepare(`PRAGMA wal_checkpoint(${mode})`).get() as { busy: number };
        busy = row.busy;
      } catch (error) {
        // The daemon's dispatcher, or another process, held the lock: the next round tries again.
        if (!/locked|busy/i.test(error instanceof Error ? error.message : String(error))) {
          throw error;
        }
      }
      self.postMessage({ type: "checkpointed", busy });
    }
  } catch (error) {
    self.postMessage({
      type: "error",
      message: error instanceof Error ? error.message : String(error),
    });
  }
};
