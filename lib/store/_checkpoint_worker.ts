/**
 * The store's checkpointer: a worker thread with its own SQLite connection
 * that copies the WAL back into the database file when the store asks.
 * A checkpoint writes megabytes and syncs two files; run in the daemon's
 * connection it would stop the event loop for as long (about 15 ms here
 * for SQLite's default 1,000 pages), which is every request's p99.
 *
 * Messages in: `{ type: "open", path }`, then `{ type: "checkpoint" }` any
 * number of times. Out: `{ type: "checkpointed", busy, log, checkpointed }`
 * (SQLite's `wal_checkpoint` row) or `{ type: "error", message }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DatabaseSync } from "node:sqlite";

let db: DatabaseSync | undefined;

self.onmessage = function onMessage(event: MessageEvent<{ type: string; path?: string }>) {
  try {
    if (event.data.type === "open") {
      // synchronous defaults to FULL: the checkpoint syncs the WAL before
      // copying it and the database after, so nothing committed is lost.
      db = new DatabaseSync(event.data.path!);
      self.postMessage({ type: "opened" });
    } else if (event.data.type === "checkpoint") {
      if (!db) throw new Error("The checkpointer was not opened");
      // PASSIVE never waits for the daemon's writers or readers: it does what it can now.
      const row = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as Record<string, number>;
      self.postMessage({
        type: "checkpointed",
        busy: row.busy,
        log: row.log,
        checkpointed: row.checkpointed,
      });
    }
  } catch (error) {
    self.postMessage({
      type: "error",
      message: error instanceof Error ? error.message : String(error),
    });
  }
};
