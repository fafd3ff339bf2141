/**
 * The delivery store on PostgreSQL (`HOOKD_STORE=postgres://user@host/db`),
 * shared by several hookd instances. Client: postgres.js, chosen over
 * `npm:pg` for pipelining (see `bench/postgres_client.md`).
 *
 * @module
 */

import postgres from "postgres";
import { checkNonNegative, DEFAULT_RETENTION_MS } from "../config/limits.ts";
import { maskStoreUrl } from "../config/store_setting.ts";
import { pgpassLookup } from "./_pgpass.ts";
import { migrate } from "./_postgres_schema.ts";
import { PostgresStore } from "./_postgres_store.ts";
import { unavailable } from "./_rows.ts";
import { type StoreOptions, StoreUnavailableError } from "./types.ts";

export type { PostgresStore } from "./_postgres_store.ts";

/** Added to every lease on top of the delivery's time limit and the kill grace. */
const LEASE_MARGIN_MS = 10_000;

/**
 * Options for {@linkcode openPostgresStore}: those the SQLite store has too
 * (`sync` commits with `synchronous_commit = off` for `normal`; `now` is not
 * used for leases, which take the database's clock), and a cluster's own.
 */
export interface PostgresStoreOptions
  extends Pick<StoreOptions, "retentionMs" | "groupCommitMaxWaitMs" | "sync" | "now"> {
  /** This instance's stable id (`HOOKD_INSTANCE_ID`); default the host name. */
  instanceId?: string;
  /** The hook runner's kill grace, part of every lease; default 5000. */
  killGraceMs?: number;
  /**
   * How often the leases of the runs this instance holds are renewed,
   * default half the lease margin (5 s); 0 never (for tests of expiry).
   */
  leaseRenewIntervalMs?: number;
  /** The password when the URL has none (from the env file); else `PGPASSWORD`, else `~/.pgpass`. */
  password?: string;
  /** How long to wait for a connection, default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * Connect to PostgreSQL, migrate the schema (once across instances
 * starting together) and serve the store.
 *
 * @param url `postgres://user[:password]@host[:port]/database[?sslmode=…]`
 * @param options retention, instance id, leases, password, pool
 * @returns the open store; `await using` closes it
 * @throws {StoreUnavailableError} when the database cannot be reached or migrated
 * @throws {RangeError} when an option is out of range
 * @example
 * ```ts ignore
 * import { openPostgresStore } from "./postgres.ts";
 *
 * await using store = await openPostgresStore("postgres://hookd@db.internal/hookd", {
 *   instanceId: "web1/0.0.0.0:8080",
 * });
 * const claimed = await store.claim("01J…", { concurrency: 1 });
 * ```
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const maxWaitMs = options.groupCommitMaxWaitMs ?? 0;
  const killGraceMs = options.killGraceMs ?? 5000;
  const renewIntervalMs = options.leaseRenewIntervalMs ?? LEASE_MARGIN_MS / 2;
  for (
    const [name, value] of Object.entries({
      retentionMs,
      groupCommitMaxWaitMs: maxWaitMs,
      killGraceMs,
      leaseRenewIntervalMs: renewIntervalMs,
    })
  ) checkNonNegative("openPostgresStore", name, value);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`openPostgresStore: not a URL: ${maskStoreUrl(url)}`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new RangeError(`openPostgresStore: not a postgres:// URL: ${maskStoreUrl(url)}`);
  }
  const sql = postgres(url, {
    max: 10,
    pass: parsed.password ? undefined : await password(parsed, options.password),
    connect_timeout: Math.ceil((options.connectTimeoutMs ?? 10_000) / 1000),
    // The client's default backoff grows to 20 s between reconnects: after an outage of a few
    // seconds every request would wait (or 503) that long. Capped at a second, with jitter.
    backoff: reconnectDelaySeconds,
    onnotice: () => {},
    connection: {
      application_name: "hookd",
      ...(options.sync === "normal" ? { synchronous_commit: "off" } : {}),
    },
    types: {
      // Epoch milliseconds and ids are int8: numbers, not strings.
      int8: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
  });
  try {
    await migrate(sql);
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    if (error instanceof StoreUnavailableError) throw error;
    throw unavailable(`Cannot open the delivery store ${maskStoreUrl(url)}`, error);
  }
  return new PostgresStore(sql as unknown as postgres.Sql, {
    path: maskStoreUrl(url),
    retentionMs,
    maxWaitMs,
    instanceId: options.instanceId ?? Deno.hostname(),
    killGraceMs,
    leaseMarginMs: LEASE_MARGIN_MS,
    renewIntervalMs,
    now: options.now ?? Date.now,
  });
}

/**
 * The wait before the next reconnect, in seconds: 50 ms doubling per failed
 * attempt, capped at one second, with jitter so that instances spread out.
 */
function reconnectDelaySeconds(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);
}

/** The password when the URL has none: the env file's, `PGPASSWORD`, or libpq's `~/.pgpass`. */
async function password(url: URL, given: string | undefined): Promise<string | undefined> {
  if (given) return given;
  const fromEnv = Deno.env.get("PGPASSWORD");
  if (fromEnv) return fromEnv;
  const file = Deno.env.get("PGPASSFILE") ??
    (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.pgpass` : undefined);
  if (!file) return undefined;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch {
    return undefined;
  }
  const host = url.searchParams.get("host") ?? decodeURIComponent(url.hostname || "localhost");
  return pgpassLookup(text, {
    host,
    port: url.port || "5432",
    database: decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username),
    user: decodeURIComponent(url.username),
  });
}
