/**
 * The integration helper: start the real daemon (`main.ts serve`) as a
 * subprocess, with exactly the permission flags of the `compile` task, on
 * a free port, with a temp env file; read its log; stop it.
 *
 * This is the one place where Deno's sanitizers are turned off
 * ({@linkcode integrationTest}): a daemon's stderr pump outlives a step.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { openStore, type Store, storePath } from "../lib/store/mod.ts";
import { waitUntil } from "./_proc.ts";

/** The runtime flags of a task in deno.json (`--allow-*` and `--v8-flags`), in order. */
export function taskPermissions(task: "compile" | "start" | "hookd"): string[] {
  return denoJson.tasks[task].split(/\s+/).filter((word) =>
    word.startsWith("--allow-") || word.startsWith("--v8-flags=")
  );
}

/** The daemon's flags: the compile task's, so tests run what users run. */
export const DAEMON_FLAGS: readonly string[] = taskPermissions("compile");

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Variables hookd reads from its service manager (systemd's directories,
 * the notify socket, the user's runtime directory): set in a developer's
 * session or a CI job, they would change what a child does.
 */
const SERVICE_VARIABLES: ReadonlySet<string> = new Set([
  "RUNTIME_DIRECTORY",
  "STATE_DIRECTORY",
  "LOGS_DIRECTORY",
  "CREDENTIALS_DIRECTORY",
  "NOTIFY_SOCKET",
  "XDG_RUNTIME_DIR",
]);

/**
 * The environment every child process of the tests gets: the test's own,
 * so proxy, certificate and cache settings reach a child `deno`, minus
 * `HOOKD_*` and the service variables hookd reads, plus what the test sets.
 * The one place the tests clear a child's environment: spread it into the
 * `Deno.Command` options.
 *
 * @param set variables the child gets on top (these may be `HOOKD_*` or service variables)
 * @returns `clearEnv` and `env` for `Deno.Command`
 *
 * @example
 * ```ts ignore
 * new Deno.Command(Deno.execPath(), { args: ["--version"], ...childEnv({ NO_COLOR: "1" }) });
 * ```
 */
export function childEnv(
  set: Record<string, string> = {},
): { clearEnv: true; env: Record<string, string> } {
  const env = Deno.env.toObject();
  for (const name of Object.keys(env)) {
    if (name.startsWith("HOOKD_") || SERVICE_VARIABLES.has(name)) delete env[name];
  }
  return { clearEnv: true, env: { ...env, ...set } };
}

/** Options for {@linkcode runHookd}. */
export interface RunHookdOptions {
  /** Variables for its process environment, on top of {@linkcode childEnv}'s. */
  env?: Record<string, string>;
  /** Deno's flags instead of the daemon's ({@linkcode DAEMON_FLAGS}). */
  flags?: readonly string[];
}

/**
 * Run `main.ts` once (a command other than a long-running `serve`, or a
 * `serve` expected to refuse) with the daemon's flags and the environment
 * of {@linkcode childEnv}.
 *
 * @param args the command line, e.g. `["check", "--env-file", FILE]`
 * @param options process environment and flags
 * @returns the exit code and the decoded output
 */
export async function runHookd(
  args: string[],
  options: RunHookdOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.flags ?? DAEMON_FLAGS), MAIN, ...args],
    ...childEnv({ NO_COLOR: "1", ...options.env }),
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

/** A temp directory removed on dispose. */
export interface TempDir extends AsyncDisposable {
  /** The directory's path. */
  path: string;
}

/**
 * Make a temp directory that `await using` removes.
 *
 * @param prefix the name prefix
 * @returns the directory
 */
export async function tempDir(prefix = "hookd_test_"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** One parsed log record. */
export type LogRecord = Record<string, unknown> & { type: string; message: string };

/** A running daemon. */
export interface Daemon extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, or `http://localhost` on a unix socket (see `post`). */
  url: string;
  /** The port it listens on; 0 on a unix socket. */
  port: number;
  /** `http://127.0.0.1:PORT` of the admin listener, unless it is off. */
  adminUrl?: string;
  /** The temp directory holding its env file, log and state. */
  dir: string;
  /** The env file. */
  envFile: string;
  /** The JSON-lines log file. */
  logFile: string;
  /** The state directory. */
  stateDir: string;
  /** The process. */
  process: Deno.ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Every record in the log file (rotated files included, oldest first). */
  records(): Promise<LogRecord[]>;
  /** Wait until a record matching `match` is in the log, or fail after `timeoutMs`. */
  waitForRecord(match: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** Wait until `count` records match (the log is written off the request path). */
  waitForRecords(
    match: (r: LogRecord) => boolean,
    count: number,
    timeoutMs?: number,
  ): Promise<LogRecord[]>;
  /** POST to `/hooks/<endpoint>`. */
  post(
    endpoint: string,
    body: string | Uint8Array<ArrayBuffer>,
    headers?: HeadersInit,
  ): Promise<Response>;
  /** Send a signal and wait for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Options for {@linkcode startDaemon}. */
export interface StartDaemonOptions {
  /** Use this directory instead of a new temp one (a restart over the same state). */
  dir?: string;
  /** Extra variables for the daemon's process environment. */
  processEnv?: Record<string, string>;
  /** Arguments instead of `serve --env-file <file>`. */
  args?: string[];
  /** How long to wait for the listening line; default 30 s. */
  startTimeoutMs?: number;
}

/**
 * Start `main.ts serve` with an env file made of `env` plus test defaults
 * (loopback port 0, log and state in the temp dir).
 *
 * @param env the HOOKD_* variables for the env file
 * @param options see {@linkcode StartDaemonOptions}
 * @returns the running daemon, stopped (SIGTERM) and cleaned up on dispose
 */
export async function startDaemon(
  env: Record<string, string>,
  options: StartDaemonOptions = {},
): Promise<Daemon> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "hookd_e2e_" });
  const envFile = `${dir}/hookd.env`;
  const logFile = `${dir}/log/hookd.log`;
  const stateDir = `${dir}/state`;
  const vars = {
    HOOKD_LISTEN: "127.0.0.1:0",
    HOOKD_ADMIN_LISTEN: "127.0.0.1:0",
    HOOKD_LOG_FILE: logFile,
    HOOKD_STATE_DIR: stateDir,
    ...env,
  };
  await Deno.writeTextFile(envFile, envFileText(vars), { mode: 0o600 });
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", ...DAEMON_FLAGS, MAIN, ...(options.args ?? ["serve", "--env-file", envFile])],
    ...childEnv({ NO_COLOR: "1", ...options.processEnv }),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();

  let stderr = "";
  const { promise: port, resolve: listening } = Promise.withResolvers<
    { port: number; socket?: string }
  >();
  const adminOff = vars.HOOKD_ADMIN_LISTEN === "off";
  let adminPort: number | undefined;
  const pump = (async () => {
    for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      const admin = /daemon admin listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (admin) adminPort = Number(admin[1]);
      const match = /daemon listening on (?:https?:\/\/127\.0\.0\.1:(\d+)|unix:(\S+))/.exec(stderr);
      if (match && (adminOff || adminPort !== undefined)) {
        listening(match[2] ? { port: 0, socket: match[2] } : { port: Number(match[1]) });
      }
    }
  })();
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = Promise.race([
    process.status.then((s) => `exited with code ${s.code}`),
    new Promise<string>((resolve) => timer = setTimeout(() => resolve("timed out"), timeoutMs)),
  ]);
  const result = await Promise.race([port, failed]);
  clearTimeout(timer);
  if (typeof result === "string") {
    try {
      process.kill("SIGKILL");
    } catch { /* already gone */ }
    await process.status;
    await pump;
    if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`hookd did not start (${result}):\n${stderr}`);
  }
  // Over a unix socket the URL's host is only what the proxy would send.
  const url = result.socket
    ? "http://localhost"
    : `${/listening on https/.test(stderr) ? "https" : "http"}://127.0.0.1:${result.port}`;
  const client = result.socket
    ? Deno.createHttpClient({ proxy: { transport: "unix", path: result.socket } })
    : undefined;

  async function records(): Promise<LogRecord[]> {
    const files = [];
    for (let i = 9; i >= 1; i--) files.push(`${logFile}.${i}`);
    files.push(logFile);
    const out: LogRecord[] = [];
    for (const file of files) {
      let text;
      try {
        text = await Deno.readTextFile(file);
      } catch {
        continue;
      }
      for (const line of text.split("\n")) {
        if (line.trim() !== "") out.push(JSON.parse(line));
      }
    }
    return out;
  }

  async function waitForRecords(
    match: (r: LogRecord) => boolean,
    count: number,
    timeoutMs = 15_000,
  ): Promise<LogRecord[]> {
    // The daemon flushes its log on a timer: look until the records are there.
    let found: LogRecord[] = [];
    return await waitUntil(
      () => `${found.length} of ${count} matching log records:\n${stderr}`,
      async () => {
        found = (await records()).filter(match);
        return found.length >= count && found;
      },
      timeoutMs,
    );
  }

  let stopped: Promise<Deno.CommandStatus> | undefined;
  function stop(signal: Deno.Signal = "SIGTERM") {
    if (!stopped) {
      try {
        process.kill(signal);
      } catch { /* already gone */ }
      stopped = process.status.then(async (status) => {
        await pump;
        return status;
      });
    }
    return stopped;
  }

  return {
    url,
    port: result.port,
    adminUrl: adminPort === undefined ? undefined : `http://127.0.0.1:${adminPort}`,
    dir,
    envFile,
    logFile,
    stateDir,
    process,
    stderr: () => stderr,
    records,
    async waitForRecord(match, timeoutMs = 15_000) {
      return (await waitForRecords(match, 1, timeoutMs))[0];
    },
    waitForRecords,
    post(endpoint, body, headers) {
      return fetch(`${url}/hooks/${endpoint}`, { method: "POST", body, headers, client });
    },
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGTERM");
      client?.close();
      if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Wait until a daemon's SQLite store shows something, read through a
 * read-only store as `hookd show` reads it, without a subprocess per look.
 *
 * @param daemon the daemon, or anything with its state directory
 * @param what what is waited for, for the error
 * @param probe looks at the store; the wait ends when it gives something
 *   other than `false`, `undefined` or `null`
 * @param timeoutMs how long to wait, default 15 s
 * @returns what `probe` gave
 */
export async function waitForStore<T>(
  daemon: Pick<Daemon, "stateDir">,
  what: string,
  probe: (store: Store) => Promise<T>,
  timeoutMs?: number,
): Promise<Exclude<T, false | undefined | null>> {
  await using store = openStore(storePath(daemon.stateDir), { readOnly: true, create: false });
  return await waitUntil(what, () => probe(store), timeoutMs);
}

/**
 * Wait until a delivery is in `state` in a daemon's SQLite store.
 *
 * @param daemon the daemon, or anything with its state directory
 * @param id the delivery
 * @param state e.g. `done`
 * @param timeoutMs how long to wait, default 15 s
 */
export async function waitForState(
  daemon: Pick<Daemon, "stateDir">,
  id: string,
  state: string,
  timeoutMs?: number,
): Promise<void> {
  await waitForStore(
    daemon,
    `delivery ${id} is ${state}`,
    async (store) => (await store.get(id))?.state === state,
    timeoutMs,
  );
}

/**
 * Write variables as an env file. dotenv unescapes nothing but `\\n`, so
 * each value is wrapped in a quote character it does not contain.
 *
 * @param vars the variables
 * @returns the file's text
 * @throws {Error} for a value holding every quote character
 */
export function envFileText(vars: Record<string, string>): string {
  return Object.entries(vars).map(([key, value]) => {
    const quote = ["'", '"', "`"].find((q) => !value.includes(q));
    if (!quote || value.includes("\n")) throw new Error(`Cannot quote ${key} for dotenv`);
    return `${key}=${quote}${value}${quote}`;
  }).join("\n") + "\n";
}

/**
 * `Deno.test` with the sanitizers off, for tests that drive a daemon
 * subprocess: its stderr pump and the fetch connections it keeps alive
 * outlive single steps by design.
 *
 * @param name what the test shows, as behaviour
 * @param fn the test
 */
export function integrationTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/**
 * `HOOKD_TEST_STRICT=1` (set by `.ci/run`): a test that cannot run on this
 * machine fails instead of being skipped, so CI never passes by skipping.
 */
export const STRICT: boolean = Deno.env.get("HOOKD_TEST_STRICT") === "1";

/**
 * Register a test that needs something this machine may lack (a program, a
 * file system feature). When `missing` is null the test runs as defined.
 * Otherwise it is skipped with a note on stderr, unless {@linkcode STRICT}:
 * then it fails with `missing` as its error, so a CI machine that lacks what
 * the suite needs is noticed rather than passed.
 *
 * @param missing why the test cannot run here (e.g. `"cc is not installed"`), or null
 * @param definition the test, as for `Deno.test`
 * @example
 * ```ts ignore
 * requireOrSkip(await onPath("systemd-analyze") ? null : "systemd-analyze is not installed", {
 *   name: "the unit verifies",
 *   fn: async () => {},
 * });
 * ```
 */
export function requireOrSkip(missing: string | null, definition: Deno.TestDefinition): void {
  if (missing === null) {
    Deno.test(definition);
  } else if (STRICT) {
    Deno.test({
      ...definition,
      ignore: false,
      fn() {
        throw new Error(`Cannot run here: ${missing} (HOOKD_TEST_STRICT=1 forbids skipping it)`);
      },
    });
  } else {
    console.warn(`Skipping "${definition.name}": ${missing}`);
    Deno.test({ ...definition, ignore: true });
  }
}

/**
 * Whether a program is on PATH.
 *
 * @param program its name, e.g. `cc`
 * @returns true when `command -v` finds it
 */
export async function onPath(program: string): Promise<boolean> {
  const { success } = await new Deno.Command("/bin/sh", {
    args: ["-c", 'command -v "$1"', "sh", program],
    ...childEnv(),
    stdout: "null",
    stderr: "null",
  }).output();
  return success;
}

/**
 * GitHub's signature header for a body and secret.
 *
 * @param body the raw body
 * @param secret the secret
 * @returns `sha256=<hex>`
 */
export async function githubSignature(body: string | Uint8Array, secret: string): Promise<string> {
  return `sha256=${await hmacHex("SHA-256", secret, body)}`;
}

/**
 * A hex HMAC, computed independently of lib/ (WebCrypto, no shared code).
 *
 * @param hash `SHA-256`, `SHA-512` or `SHA-1`
 * @param secret the key as text
 * @param body the data
 * @returns lower-case hex
 */
export async function hmacHex(
  hash: string,
  secret: string,
  body: string | Uint8Array,
): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash },
    false,
    ["sign"],
  );
  const data = typeof body === "string" ? encoder.encode(body) : body;
  const mac = await crypto.subtle.sign("HMAC", key, data as Uint8Array<ArrayBuffer>);
  return new Uint8Array(mac).toHex();
}

/**
 * Wait until a file exists and `ready` says its text is complete.
 *
 * @param path the file a hook writes
 * @param ready whether the text is what we wait for (default: not empty)
 * @param timeoutMs how long to wait
 * @returns the file's text
 */
export async function waitForFile(
  path: string,
  ready: (text: string) => boolean = (text) => text.length > 0,
  timeoutMs = 15_000,
): Promise<string> {
  return await waitUntil(`${path} is ready`, async () => {
    try {
      const text = await Deno.readTextFile(path);
      return ready(text) && text;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      return false;
    }
  }, timeoutMs);
}

/**
 * Write a hook script and return the command that runs it. Scripts live in
 * files so that they can quote freely: the env file only holds `sh PATH`.
 *
 * @param dir where the script goes
 * @param name its name, `<name>.sh`
 * @param script the shell script (run with `set -u`)
 * @returns the hook command, `sh <path>`
 */
export async function hookScript(dir: string, name: string, script: string): Promise<string> {
  const path = `${dir}/${name}.sh`;
  await Deno.writeTextFile(path, `set -u\n${script}\n`);
  return `sh ${path}`;
}
