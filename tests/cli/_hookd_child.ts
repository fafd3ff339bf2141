/**
 * A long-running hookd command (`tail`, `show --follow`) as a subprocess
 * with the daemon's flags, whose output the test reads as it comes.
 *
 * @module
 */

import { childEnv, DAEMON_FLAGS } from "../harness.ts";
import { waitUntil } from "../_proc.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running hookd command. */
export interface HookdChild extends AsyncDisposable {
  /** Its stdout so far. */
  stdout(): string;
  /** Its stderr so far. */
  stderr(): string;
  /** Wait until `ready(stdout, stderr)` holds, or fail after `timeoutMs`. */
  waitFor(ready: (stdout: string, stderr: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Its exit status, once both streams are read to their end. */
  status: Promise<Deno.CommandStatus>;
  /** Ask it to stop (SIGTERM) and wait for it. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Start `main.ts ARGS` with the daemon's flags and {@linkcode childEnv}.
 *
 * @param args e.g. `["tail", "--env-file", FILE]`
 * @param wrap a program and its arguments to run it under (e.g. setpriv)
 * @returns the child; disposing it stops it
 */
export function spawnHookd(args: string[], wrap: string[] = []): HookdChild {
  const argv = [Deno.execPath(), "run", ...DAEMON_FLAGS, MAIN, ...args];
  const process = new Deno.Command(wrap.length > 0 ? wrap[0] : argv[0], {
    args: wrap.length > 0 ? [...wrap.slice(1), ...argv] : argv.slice(1),
    ...childEnv({ NO_COLOR: "1" }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const pumps = Promise.all([
    (async () => {
      for await (const chunk of process.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
    })(),
    (async () => {
      for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
    })(),
  ]);
  const status = process.status.then(async (s) => {
    await pumps;
    return s;
  });
  const stop = () => {
    try {
      process.kill("SIGTERM");
    } catch { /* already gone */ }
    return status;
  };
  return {
    stdout: () => out,
    stderr: () => err,
    async waitFor(ready, timeoutMs = 20_000) {
      let exited = false;
      status.then(() => exited = true);
      await waitUntil(
        () => `hookd ${args[0]} output\n--- stdout\n${out}--- stderr\n${err}`,
        () => {
          if (ready(out, err)) return true;
          if (exited) throw new Error(`hookd ${args[0]} exited first:\n${out}\n${err}`);
          return false;
        },
        timeoutMs,
      );
    },
    status,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
