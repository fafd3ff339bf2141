/**
 * Open the store the configuration names: SQLite under `HOOKD_STATE_DIR`, or
 * PostgreSQL at `HOOKD_STORE`, both behind the same async contract, for the
 * daemon and the command line alike.
 *
 * @module
 */

import type { Config } from "../config/parse_config.ts";
import type { Store } from "./contract.ts";
import { openStore, storePath } from "./mod.ts";
import { openPostgresStore } from "./postgres.ts";

/** Options for {@linkcode openConfiguredStore}. */
export interface ConfiguredStoreOptions {
  /** SQLite: open without write access (the command line's reads). */
  readOnly?: boolean;
  /** SQLite: create a missing file, default true; false throws `StoreMissingError`. */
  create?: boolean;
  /** SQLite: checkpoint in a worker thread (the daemon). */
  backgroundCheckpoint?: boolean;
  /** PostgreSQL: the hook runner's kill grace, part of every lease. */
  killGraceMs?: number;
}

/**
 * Open the configured store.
 *
 * @param config where (`store`, `stateDir`), how long (`retentionMs`), who (`instanceId`),
 *   what a 2xx survives (`sync`)
 * @param options SQLite's file options, PostgreSQL's lease part
 * @returns the open store
 * @throws {StoreMissingError} for SQLite with `create: false` and no file
 * @throws {StoreUnavailableError} when the store cannot be opened or migrated
 */
export async function openConfiguredStore(
  config: Pick<Config, "store" | "stateDir" | "retentionMs" | "instanceId" | "sync">,
  options: ConfiguredStoreOptions = {},
): Promise<Store> {
  if (config.store.kind === "postgres") {
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
    backgroundCheckpoint: options.backgroundCheckpoint,
  });
}
