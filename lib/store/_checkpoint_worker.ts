/**
 * The store's checkpointer (see `_group_commit.ts`): a worker thread with its
 * own SQLite connection that copies the WAL back into the database file when
 * asked, so that the event loop never waits for a checkpoint's writes and syncs.
 *
 * Messages in: `{ type: "open", path }`, `{ type: "checkpoint", mode }`
 * (`PASSIVE`, the default, `RESTART` or `TRUNCATE`), `{ type: "close" }`. Out:
 * `{ type: "checkpointed", busy }` (1 when a lock kept it from finishing),
 * `{ type: "closed" }` or `{ type: "error", message }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DatabaseSync } from "node:sqlite";

let db: DatabaseSync | undefined;

self.onmessage = function onMessage(
  event: MessageEvent<{ type: string; path?: string; mode?: string }>,
) {
  try {
    if (event.data.type === "open") {
      // synchronous defaults to FULL: the checkpoint syncs the WAL before
      // copying it and the database after, so nothing committed is lost.
      db = new DatabaseSync(event.data.path!);
    } else if (event.data.type === "close") {
      db?.close();
      db = undefined;
      self.postMessage({ type: "closed" });
    } else if (event.data.type === "checkpoint") {
      if (!db) throw new Error("The checkpointer was not opened");
      // PASSIVE never waits for the daemon's writers; RESTART (the WAL is written again from its
      // start) and TRUNCATE (also cut to 0 bytes) take the write lock: see `_group_commit.ts`.
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
