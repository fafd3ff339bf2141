/**
 * SQLite at the edge of the store: opening and migrating the schema, and
 * telling a lock (worth trying again) from a real failure.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "./_schema.ts";
import { StoreUnavailableError } from "./types.ts";

/** Check, set up and migrate the database; true when it is in WAL mode (never for `readOnly`). */
export function prepareDatabase(db: DatabaseSync, readOnly: boolean): boolean {
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
    return false;
  }
  // Only takes effect before the first table exists.
  if (version === 0) db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  // NORMAL: run bookkeeping (claims, run ends, requeues) need not survive a
  // power cut, since a lost one only makes a delivery run again
  // (at-least-once). Accepted deliveries are durable before the 2xx: insert
  // syncs the WAL after its commit (`_group_commit.ts`), or, where there is
  // no WAL, commits with FULL.
  const wal = (db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string })
    .journal_mode === "wal";
  // A WAL that a burst grew is cut back to 4 MiB (a checkpoint's worth) when it is next
  // rewound, rather than kept at its high-water mark.
  db.exec(
    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 4194304",
  );
  if (version === MIGRATIONS.length) return wal;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Another process may have migrated while this one waited for the lock.
    for (let v = readVersion(db); v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }
    db.exec("COMMIT");
    return wal;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function readVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

export function isSqliteError(error: unknown): boolean {
  return error instanceof Error && (error as { code?: string }).code === "ERR_SQLITE_ERROR";
}

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/** SQLITE_BUSY or SQLITE_LOCKED: another connection has the lock, so trying again may work. */
export function isLockError(error: unknown): boolean {
  if (!isSqliteError(error)) return false;
  // Node sets `errcode`; Deno's node:sqlite only gives sqlite3_errmsg() as the message.
  const code = (error as { errcode?: unknown }).errcode;
  if (typeof code === "number") {
    return (code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED;
  }
  return /^database (?:table |schema )?is locked/.test((error as Error).message);
}

/**
 * Run `work`, trying it again on a timer while another connection holds the
 * write lock, for up to `busyTimeoutMs`: SQLite's own busy wait would stop
 * the event loop. The jitter keeps two processes retrying against each other
 * from colliding again.
 */
export async function retryLocked<T>(work: () => T, busyTimeoutMs: number): Promise<T> {
  const deadline = performance.now() + busyTimeoutMs;
  for (;;) {
    try {
      return work();
    } catch (error) {
      const left = deadline - performance.now();
      if (left <= 0 || !isLockError((error as Error).cause ?? error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(2 + Math.random() * 10, left)));
    }
  }
}

export function setBusyTimeout(db: DatabaseSync, ms: number): void {
  db.exec(`PRAGMA busy_timeout = ${Math.round(ms)}`);
}
