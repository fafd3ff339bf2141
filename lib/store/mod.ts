/**
 * The durable delivery store, the face of `lib/store/`: SQLite in the state
 * directory by default; PostgreSQL with `HOOKD_STORE=postgres://…`, its client
 * loaded only then. The daemon never waits for another process's SQLite lock
 * inside SQLite, which would stop every request: commits retry a locked one
 * on a timer, `supersede` and `purge` fail at once. Only the command line and
 * start-up (opening, `recover`, `requeue…`, a read-only store) wait in SQLite.
 *
 * @module
 */

import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { checkNonNegative, DEFAULT_RETENTION_MS } from "../config/limits.ts";
import type { Config } from "../config/parse_config.ts";
import { prepareDatabase, setBusyTimeout } from "./_sqlite.ts";
import { unavailable } from "./_rows.ts";
import { SqliteStore } from "./_sqlite_store.ts";
import type { Store } from "./contract.ts";
import { StoreMissingError, type StoreOptions, StoreUnavailableError } from "./types.ts";

export * from "./types.ts";
export type { Store } from "./contract.ts";
export { escapeControls } from "./_rows.ts";

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
 * and migrate the SQLite store.
 *
 * @param path the database file, e.g. `$HOOKD_STATE_DIR/hookd.db`
 * @param options retention, group-commit wait, lock wait, read-only, clock
 * @returns the open store; `await using` commits pending inserts and closes it
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
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const maxWaitMs = options.groupCommitMaxWaitMs ?? 0;
  const busyTimeoutMs = options.busyTimeoutMs ?? 1000;
  checkNonNegative("openStore", "retentionMs", retentionMs);
  checkNonNegative("openStore", "groupCommitMaxWaitMs", maxWaitMs);
  checkNonNegative("openStore", "busyTimeoutMs", busyTimeoutMs);
  const checkpoint = {
    afterBytes: options.checkpointAfterBytes ?? 4 * 1024 * 1024,
    quietMs: options.checkpointQuietMs ?? 30_000,
  };
  checkNonNegative("openStore", "checkpointAfterBytes", checkpoint.afterBytes);
  checkNonNegative("openStore", "checkpointQuietMs", checkpoint.quietMs);
  const readOnly = options.readOnly ?? false;
  if (options.create === false && path !== ":memory:" && !exists(path)) {
    throw new StoreMissingError(path);
  }

  let db: DatabaseSync | undefined;
  let wal: boolean;
  try {
    if (!readOnly && options.create !== false) Deno.mkdirSync(dirname(path), { recursive: true });
    // Opening and migrating may wait for the lock: nothing is served yet.
    db = new DatabaseSync(path, { readOnly, timeout: busyTimeoutMs });
    wal = prepareDatabase(db, readOnly);
    // A read-only store belongs to the command line, which may block; the
    // daemon's connection must not (see the module doc).
    if (!readOnly) setBusyTimeout(db, 0);
  } catch (error) {
    db?.close();
    if (error instanceof StoreUnavailableError) throw error;
    throw unavailable(`Cannot open the delivery store ${path}`, error);
  }
  const walPath = wal ? `${path}-wal` : undefined;
  return new SqliteStore(db, path, {
    retentionMs,
    maxWaitMs,
    busyTimeoutMs,
    readOnly,
    now: options.now ?? Date.now,
    walPath,
    sync: options.sync ?? "full",
    checkpoint: walPath === undefined ? undefined : checkpoint,
  });
}

/** Options for {@linkcode openConfiguredStore}. */
export interface ConfiguredStoreOptions {
  /** SQLite: open without write access (the command line's reads). */
  readOnly?: boolean;
  /** SQLite: create a missing file, default true; false throws `StoreMissingError`. */
  create?: boolean;
  /** PostgreSQL: the hook runner's kill grace, part of every lease. */
  killGraceMs?: number;
}

/**
 * Open the store the configuration names, for the daemon and the command
 * line alike: SQLite under `HOOKD_STATE_DIR`, or PostgreSQL at
 * `HOOKD_STORE`, whose client is imported only then.
 *
 * @throws {StoreMissingError} for SQLite with `create: false` and no file
 * @throws {StoreUnavailableError} when the store cannot be opened or migrated
 */
export async function openConfiguredStore(
  config: Pick<Config, "store" | "stateDir" | "retentionMs" | "instanceId" | "sync">,
  options: ConfiguredStoreOptions = {},
): Promise<Store> {
  if (config.store.kind === "postgres") {
    const { openPostgresStore } = await import("./postgres.ts");
    return await openPostgresStore(config.store.url, {
      retentionMs: config.retentionMs,
      instanceId: config.instanceId,
      password: config.store.password,
      killGraceMs: options.killGraceMs,
      sync: config.sync,
    });
  }
  return openStore(storePath(config.stateDir), {
    retentionMs: config.retentionMs,
    sync: config.sync,
    readOnly: options.readOnly,
    create: options.create,
  });
}

// Deno's own calls, not node:fs, whose import loads Node's file system layer
// at start-up (~3 MB of RSS) for these two.
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
