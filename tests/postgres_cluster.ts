/**
 * A throwaway PostgreSQL cluster for tests: `initdb` and `pg_ctl` from
 * Debian's `/usr/lib/postgresql/<version>/bin`, run as `nobody` (PostgreSQL
 * refuses to run as root), in a temp directory that holds the data, the log
 * and the unix socket, listening on a free TCP port of 127.0.0.1. Dispose it
 * (`await using`) to stop the server and remove the directory.
 *
 * Start one per test file (it takes about a second) and give each test its
 * own database ({@linkcode PostgresCluster.createDatabase}).
 *
 * Tests skip when the binaries are absent, except under
 * `HOOKD_TEST_STRICT=1`, where they fail: CI installs them (`.ci/run`).
 *
 * @module
 */

import { childEnv } from "./harness.ts";

/** The user every cluster is created with; it is the superuser and needs no password. */
export const POSTGRES_USER = "hookd";

/** A running throwaway cluster. */
export interface PostgresCluster extends AsyncDisposable {
  /** The TCP port on 127.0.0.1. */
  port: number;
  /** The directory holding the unix socket (`host=` for libpq-style clients). */
  socketDir: string;
  /** `postgres://hookd@127.0.0.1:<port>/<database>` for an existing database. */
  url(database?: string): string;
  /**
   * Create a fresh, empty database.
   *
   * @param name optional name; default `t<n>`
   * @returns its URL
   */
  createDatabase(name?: string): Promise<string>;
  /**
   * Run SQL through `psql` as the superuser, for tests that inspect or
   * disturb the store from outside.
   *
   * @param database the database name
   * @param sql the statements
   * @returns psql's unaligned, tuples-only output
   */
  psql(database: string, sql: string): Promise<string>;
  /** Stop the server at once (`-m immediate`, like a crash); its data stays. */
  stop(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
}

/**
 * The highest installed PostgreSQL's binary directory, or undefined when
 * none is installed.
 *
 * @returns e.g. `/usr/lib/postgresql/15/bin`
 */
export function postgresBinDir(): string | undefined {
  let versions: number[];
  try {
    versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((entry) => Number(entry.name))
      .filter((version) => Number.isInteger(version));
  } catch {
    return undefined;
  }
  for (const version of versions.sort((a, b) => b - a)) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    try {
      Deno.statSync(`${dir}/initdb`);
      return dir;
    } catch {
      // A version with its client only; try the next.
    }
  }
  return undefined;
}

/**
 * Whether PostgreSQL tests must be skipped: the binaries are absent and
 * the run is not strict. Under `HOOKD_TEST_STRICT=1` nothing is skipped,
 * so a missing install fails the test that needs it.
 */
export const SKIP_POSTGRES: boolean = postgresBinDir() === undefined &&
  Deno.env.get("HOOKD_TEST_STRICT") !== "1";

/** The uid and gid the cluster runs as. */
const NOBODY = { uid: 65534, gid: 65534 };

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Run as `nobody` when we are root (PostgreSQL refuses root), else as ourselves. */
async function asNobody(program: string, args: string[], cwd: string): Promise<string> {
  const root = Deno.uid() === 0;
  const result = await new Deno.Command(root ? "runuser" : program, {
    args: root ? ["-u", "nobody", "--", program, ...args] : args,
    cwd,
    ...childEnv({ LC_ALL: "C.UTF-8", PGTZ: "UTC" }),
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  const out = decoder.decode(result.stdout);
  if (!result.success) {
    throw new Error(
      `${program} ${args.join(" ")} failed (${result.code}): ${out}${
        decoder.decode(result.stderr)
      }`,
    );
  }
  return out;
}

/** Options for {@linkcode startPostgres}. */
export interface StartPostgresOptions {
  /**
   * Keep PostgreSQL's fsync on, for benchmarks that must pay for durable
   * commits; default off: tests check what the store commits and when, not
   * that the disk keeps it.
   */
  durable?: boolean;
}

/**
 * Create and start a cluster.
 *
 * @param options `durable` to keep fsync on
 * @returns the running cluster
 * @throws {Error} when the binaries are absent or the server does not start
 */
export async function startPostgres(
  options: StartPostgresOptions = {},
): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "hookd_pg_" });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  const data = `${dir}/data`;
  let started = false;
  try {
    if (Deno.uid() === 0) await Deno.chown(dir, NOBODY.uid, NOBODY.gid);
    await asNobody(`${bin}/initdb`, [
      "-D",
      data,
      "-U",
      POSTGRES_USER,
      "--auth=trust",
      "-E",
      "UTF8",
      ...(options.durable ? [] : ["--no-sync"]),
      "--no-instructions",
    ], dir);
    const port = freePort();
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses=127.0.0.1",
      ...(options.durable ? [] : ["-c fsync=off", "-c full_page_writes=off"]),
      "-c max_connections=200",
    ].join(" ");
    const start = () =>
      asNobody(`${bin}/pg_ctl`, [
        "start",
        "-w",
        "-t",
        "30",
        "-D",
        data,
        "-l",
        `${dir}/server.log`,
        "-o",
        settings,
      ], dir).then(() => {});
    await start();
    started = true;
    let databases = 0;
    const url = (database = "postgres") =>
      `postgres://${POSTGRES_USER}@127.0.0.1:${port}/${database}`;
    const psql = (database: string, sql: string) =>
      asNobody(`${bin}/psql`, [
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        dir,
        "-p",
        String(port),
        "-U",
        POSTGRES_USER,
        "-d",
        database,
        "-c",
        sql,
      ], dir);
    return {
      port,
      socketDir: dir,
      url,
      psql,
      start,
      async stop() {
        await asNobody(`${bin}/pg_ctl`, ["stop", "-w", "-m", "immediate", "-D", data], dir);
      },
      async createDatabase(name = `t${++databases}`) {
        await psql("postgres", `CREATE DATABASE ${name}`);
        return url(name);
      },
      async [Symbol.asyncDispose]() {
        await asNobody(`${bin}/pg_ctl`, ["stop", "-w", "-m", "immediate", "-D", data], dir)
          .catch(() => {});
        await remove();
      },
    };
  } catch (error) {
    if (started) {
      await asNobody(`${bin}/pg_ctl`, ["stop", "-m", "immediate", "-D", data], dir).catch(
        () => {},
      );
    }
    const log = await Deno.readTextFile(`${dir}/server.log`).catch(() => "");
    await remove();
    throw new Error(`Cannot start a test PostgreSQL: ${(error as Error).message}\n${log}`, {
      cause: error,
    });
  }
}
