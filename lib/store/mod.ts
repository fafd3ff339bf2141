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
 * locked commit on a timer, and so do the dispatcher's writes (`claim`,
 * `recordProcessGroup`, `finishRun`); `supersede` and `purge` fail at once
 * for the caller to retry.
 * Only what the command line and start-up use (opening, `recover`,
 * `requeue`, `requeueMatching`, and every call on a read-only store) waits
 * in SQLite, up to `busyTimeoutMs`.
 *
 * The contract is in `contract.ts`, its vocabulary in `types.ts` (both re-exported here); the
 * SQLite implementation is private to this folder. A foundation: nothing
 * here imports `lib/http/`, `lib/dispatch/`, `lib/cli/`, `lib/log/` or
 * `lib/daemon.ts`.
 *
 * @module
 */

import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { checkNonNegative } from "../config/limits.ts";
import { journalMode, message, prepareDatabase, setBusyTimeout } from "./_sqlite.ts";
import { SqliteStore } from "./_sqlite_store.ts";
import type { Store, SyncStore } from "./contract.ts";
import { asyncStore } from "./async_store.ts";
import { StoreMissingError, type StoreOptions, StoreUnavailableError } from "./types.ts";

export * from "./types.ts";
export type { Store, SyncStore } from "./contract.ts";
export { escapeControls } from "./_rows.ts";

const DAY_MS = 86_400_000;

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
 * Open (creating the directory and file if needed, unless `create` is false)
 * and migrate the SQLite store, every operation returning a Promise.
 *
 * @param path the database file, e.g. `$HOOKD_STATE_DIR/hookd.db`
 * @param options retention, group-commit wait, lock wait, read-only, clock
 * @returns the open store
 * @throws {StoreMissingError} with `create: false`, when the file does not exist
 * @throws {StoreUnavailableError} when the file cannot be created, opened or migrated
 * @throws {RangeError} when an option is out of range
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "./mod.ts";
 *
 * await using store = openStore(":memory:");
 * const { id } = await store.insert({
 *   endpoint: "deploy", event: "push", receivedAt: Date.now(), contentType: "application/json",
 *   headers: {}, body: new TextEncoder().encode("{}"), hook: "./deploy.sh", timeoutMs: 60_000,
 * });
 * assert.equal((await store.get(id))?.state, "queued");
 * ```
 */
export function openStore(path: string, options: StoreOptions = {}): Store {
  return asyncStore(openSqliteStore(path, options));
}

/**
 * Open the SQLite store with its synchronous operations ({@linkcode SyncStore}),
 * for tests of SQLite itself; see {@linkcode openStore}.
 *
 * @param path the database file
 * @param options as for {@linkcode openStore}
 * @returns the open store
 * @throws {StoreMissingError} with `create: false`, when the file does not exist
 * @throws {StoreUnavailableError} when the file cannot be created, opened or migrated
 * @throws {RangeError} when an option is out of range
 */
export function openSqliteStore(path: string, options: StoreOptions = {}): SyncStore {
  const retentionMs = options.retentionMs ?? 7 * DAY_MS;
  const maxWaitMs = options.groupCommitMaxWaitMs ?? 0;
  const busyTimeoutMs = options.busyTimeoutMs ?? 1000;
  checkNonNegative("openStore", "retentionMs", retentionMs);
  checkNonNegative("openStore", "groupCommitMaxWaitMs", maxWaitMs);
  checkNonNegative("openStore", "busyTimeoutMs", busyTimeoutMs);
  const readOnly = options.readOnly ?? false;
  if (options.create === false && path !== ":memory:" && !existsSync(path)) {
    throw new StoreMissingError(path);
  }

  let db: DatabaseSync;
  try {
    if (!readOnly && options.create !== false) mkdirSync(dirname(path), { recursive: true });
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
    sync: options.sync ?? "full",
    backgroundCheckpoint: walPath !== undefined && (options.backgroundCheckpoint ?? false),
  });
}
