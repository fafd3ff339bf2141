/**
 * The servers under test, each started fresh for one run with its output
 * sent to a file (console logging must not cost more than the work):
 * hookd from this checkout, adnanh/webhook with an equivalent hooks.json,
 * the bare Deno + Hono + WebCrypto ceiling, and the durable ceiling (the
 * same plus `JSON.parse` and a group-fsync'd append to one file).
 *
 * @module
 */

import { GLOBAL_SETTINGS } from "../lib/config/mod.ts";
import { DAEMON_FLAGS, envFileText } from "../tests/harness.ts";
import { SECRET } from "./_payload.ts";

/** Which server. */
export type ServerKind = "hookd" | "hookd_tmpfs" | "adnanh" | "ceiling" | "durable";

/**
 * Whether a kind is hookd: `hookd_tmpfs` is hookd with `RUNTIME_DIRECTORY` on a
 * tmpfs (`StartOptions.tmpfs`), as under the shipped unit; `hookd` keeps every file in its
 * state directory on the temp dirs' disk, as `deno task start` does.
 *
 * @param kind a server kind
 * @returns true for both hookd kinds
 */
export function isHookd(kind: ServerKind): boolean {
  return kind === "hookd" || kind === "hookd_tmpfs";
}

/** What the endpoint does with a verified `push`. */
export type HookPlan = "none" | "true" | "sleep";

/** A running server. */
export interface Server extends AsyncDisposable {
  /** Which server. */
  kind: ServerKind;
  /** Its process id (the daemon itself: the shell that started it exec'd it). */
  pid: number;
  /** `http://127.0.0.1:PORT/hooks/github` */
  url: string;
  /** Its temp directory. */
  dir: string;
  /** hookd's JSON-lines log; empty for the others. */
  logFile: string;
  /** Its stdout and stderr, for errors. */
  outputFile: string;
  /** SIGTERM, wait, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Options for {@linkcode startServer}. */
export interface StartOptions {
  /** What a verified push runs. */
  hook: HookPlan;
  /** `HOOKD_MAX_CONCURRENT_HOOKS`. */
  maxHooks: number;
  /** Where temp directories go (the state directory's disk matters: hookd fsyncs). */
  baseDir?: string;
  /** Extra `deno run` flags for hookd, e.g. `--cpu-prof`. */
  denoFlags?: string[];
  /** More environment for the server process. */
  env?: Record<string, string>;
  /** For `hookd_tmpfs`: a directory on a tmpfs that Deno may write (not under /dev). */
  tmpfs?: string;
}

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const CEILING = `${ROOT}bench/ceiling_server.ts`;
const DURABLE = `${ROOT}bench/durable_ceiling_server.ts`;

/**
 * Start one server on a free loopback port and wait until it accepts connections.
 *
 * @param kind which server
 * @param options the hook plan and limits
 * @returns the running server
 * @throws {Error} with the server's output when it exits or does not listen within 30 s
 */
export async function startServer(kind: ServerKind, options: StartOptions): Promise<Server> {
  // The port is picked free, then bound by the server: another process may
  // take it in between (other tests run on this machine), so try again.
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(kind, options);
    } catch (error) {
      if (attempt >= 5 || !/address already in use/i.test(String(error))) throw error;
    }
  }
}

async function startOnce(kind: ServerKind, options: StartOptions): Promise<Server> {
  const dir = await Deno.makeTempDir({ dir: options.baseDir, prefix: `bench_${kind}_` });
  const port = freePort();
  const outputFile = `${dir}/output.txt`;
  let logFile = "";
  let argv: string[];
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    NO_COLOR: "1",
    BENCH_OUTPUT: outputFile,
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  Object.assign(env, options.env);

  if (kind === "hookd_tmpfs") {
    if (!options.tmpfs) throw new Error("hookd_tmpfs needs a tmpfs directory (--tmpfs DIR)");
    env.RUNTIME_DIRECTORY = await Deno.makeTempDir({ dir: options.tmpfs, prefix: "bench_hookd_" });
  }
  if (isHookd(kind)) {
    logFile = `${dir}/log/hookd.log`;
    const vars: Record<string, string> = {
      HOOKD_LISTEN: `127.0.0.1:${port}`,
      HOOKD_ENDPOINTS: "github",
      HOOKD_GITHUB_PROVIDER: "github",
      HOOKD_GITHUB_SECRET: SECRET,
      HOOKD_LOG_FILE: logFile,
      // No rotation during a run: the drain count reads one file.
      HOOKD_LOG_MAX_BYTES: String(2 ** 30),
      HOOKD_STATE_DIR: `${dir}/state`,
      HOOKD_MAX_CONCURRENT_HOOKS: String(options.maxHooks),
      // The load repeats one signed body with a fresh delivery id: with body dedupe (the
      // default) every request after the first would be a duplicate, answered without an
      // insert. Off, each one is stored, which is the work a real sender's deliveries cost.
      HOOKD_GITHUB_DEDUPE_BODY: "false",
    };
    // Any second listener on a free port, so runs never collide on its default.
    if ("HOOKD_ADMIN_LISTEN" in GLOBAL_SETTINGS) vars.HOOKD_ADMIN_LISTEN = "127.0.0.1:0";
    if (options.hook === "true") vars.HOOKD_GITHUB_HOOK_PUSH = "/bin/true";
    if (options.hook === "sleep") vars.HOOKD_GITHUB_HOOK_PUSH = "sleep 1";
    const envFile = `${dir}/hookd.env`;
    await Deno.writeTextFile(envFile, envFileText(vars), { mode: 0o600 });
    argv = [
      Deno.execPath(),
      "run",
      ...(options.denoFlags ?? []),
      ...DAEMON_FLAGS,
      MAIN,
      "serve",
      "--env-file",
      envFile,
    ];
  } else if (kind === "adnanh") {
    const hooksFile = `${dir}/hooks.json`;
    await Deno.writeTextFile(hooksFile, JSON.stringify(adnanhHooks(options.hook), null, 2));
    argv = ["webhook", "-hooks", hooksFile, "-ip", "127.0.0.1", "-port", String(port)];
  } else if (kind === "durable") {
    env.BENCH_SECRET = SECRET;
    argv = [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      DURABLE,
      String(port),
      `${dir}/journal.bin`,
    ];
  } else {
    env.BENCH_SECRET = SECRET;
    argv = [Deno.execPath(), "run", "--allow-net", "--allow-env", CEILING, String(port)];
  }

  // The shell only redirects, then becomes the server: its pid is the server's.
  const process = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$@" >"$BENCH_OUTPUT" 2>&1', "sh", ...argv],
    clearEnv: true,
    env,
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = process.status.finally(() => exited = true);

  const deadline = Date.now() + 30_000;
  while (!await accepts(port)) {
    if (exited || Date.now() > deadline) {
      if (!exited) process.kill("SIGKILL");
      await status;
      const output = await Deno.readTextFile(outputFile).catch(() => "");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (env.RUNTIME_DIRECTORY) {
        await Deno.remove(env.RUNTIME_DIRECTORY, { recursive: true }).catch(() => {});
      }
      throw new Error(`${kind} did not start:\n${output}`);
    }
    // 10 ms: the footprint section times start-up with this loop.
    await new Promise((r) => setTimeout(r, 10));
  }

  let stopped: Promise<void> | undefined;
  function stop(graceMs = 60_000): Promise<void> {
    stopped ??= (async () => {
      if (!exited) process.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!exited) process.kill("SIGKILL");
      }, graceMs);
      await status;
      clearTimeout(timer);
    })();
    return stopped;
  }

  return {
    kind,
    pid: process.pid,
    url: `http://127.0.0.1:${port}/hooks/github`,
    dir,
    logFile,
    outputFile,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (env.RUNTIME_DIRECTORY) {
        await Deno.remove(env.RUNTIME_DIRECTORY, { recursive: true }).catch(() => {});
      }
    },
  };
}

/**
 * adnanh/webhook's hooks.json for a plan. Every hook checks
 * `payload-hmac-sha256` on `X-Hub-Signature-256` first (its `and` stops at
 * the first false rule, so the signature is always checked), then the event:
 * - `none`: the event must be `ping`, so a signed `push` is verified and
 *   answered 200 "Hook rules were not satisfied." with no command run: the
 *   nearest thing to hookd's "accepted, no hook" (hookd also logs and stores it).
 * - `true`: a signed `push` runs `/bin/true` (no shell).
 * - `sleep`: a signed `push` runs `/bin/sleep 1` (no shell).
 *
 * The command starts after the answer (no `include-command-output-in-response`),
 * as hookd's does. A bad signature is answered 500
 * "Error occurred while evaluating hook rules." (hookd: 401).
 *
 * @param plan what a verified push runs
 * @returns the hooks.json value
 */
export function adnanhHooks(plan: HookPlan): unknown[] {
  const signature = {
    match: {
      type: "payload-hmac-sha256",
      secret: SECRET,
      parameter: { source: "header", name: "X-Hub-Signature-256" },
    },
  };
  const event = (value: string) => ({
    match: { type: "value", value, parameter: { source: "header", name: "X-GitHub-Event" } },
  });
  return [{
    id: "github",
    "execute-command": plan === "sleep" ? "/bin/sleep" : "/bin/true",
    "pass-arguments-to-command": plan === "sleep" ? [{ source: "string", name: "1" }] : [],
    "response-message": "accepted",
    "trigger-rule": { and: [signature, event(plan === "none" ? "ping" : "push")] },
  }];
}

/**
 * Whether a program can be started.
 *
 * @param command the program
 * @param args arguments that make it print its version and exit
 * @returns its first output line, or null when it is not installed
 */
export async function programVersion(command: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text.split("\n")[0].trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function accepts(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
