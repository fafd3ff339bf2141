/**
 * One hook run through a {@linkcode LauncherPool}: the job file, the
 * supervision (time-out, abort, the group killed when the hook ends) and the
 * output files, read back bounded. `runHook` decides when to use it.
 *
 * @module
 */

import type { LaunchedEnd, LauncherPool } from "./launcher.ts";
import { signalGroup } from "./group_signaller.ts";
import { endOrStop } from "./_end_or_stop.ts";
import { settleWithin } from "./_settle.ts";
import { randomName } from "./_payload_file.ts";

/** What the caller of {@linkcode runLaunched} gets back. */
export interface LaunchedOutcome {
  exitCode: number | null;
  signal: string | null;
  exitedOk: boolean;
  timedOut: boolean;
  aborted: boolean;
  stdout: { text: string; truncated: boolean };
  stderr: { text: string; truncated: boolean };
}

/** Options of {@linkcode runLaunched}. */
export interface RunLaunchedOptions {
  /** The hook's environment, `HOOKD_PAYLOAD_FILE` included; every name passed {@linkcode isSafeName}. */
  env: Record<string, string>;
  /** Where the job and output files go (the payload directory, private). */
  dir: string;
  timeoutMs: number;
  killGraceMs: number;
  outputLimitBytes: number;
  signal: AbortSignal | undefined;
  onSpawn: ((group: { pgid: number; leaderStartTime: number }) => void) | undefined;
}

/** The output of a hook that wrote none. */
const EMPTY = { text: "", truncated: false } as const;

/** How long a launcher may take to report a hook that was terminated. */
const LAUNCHER_REPLY_MS = 5000;

/** How often a running hook's output files are held to the output limit. */
const OUTPUT_CHECK_MS = 1000;

/**
 * Run `argv` on a launcher and wait for it, with the same guarantees as a
 * spawned hook: its own process group, killed whole on time-out, abort and
 * when it ends; output kept up to the limit. Output goes to files opened
 * for appending, which are cut back to the limit every second while the hook
 * runs, so a hook that writes without end costs at most a second's output of
 * disk.
 *
 * @param pool the launchers
 * @param argv the program and its arguments
 * @param options environment, files and limits
 * @returns what happened
 * @throws {Error} when the job file cannot be written or the launcher died
 *   before the hook started
 */
export async function runLaunched(
  pool: LauncherPool,
  argv: readonly string[],
  options: RunLaunchedOptions,
): Promise<LaunchedOutcome> {
  const jobFile = `${options.dir}/hookd-job-${randomName()}`;
  const out = `${jobFile}.out`;
  const err = `${jobFile}.err`;
  try {
    writeJobFile(jobFile, options.env, argv);
    const launched = pool.launch({ jobFile });
    const { pgid, leaderStartTime } = await launched.started;
    if (options.onSpawn && leaderStartTime !== null) {
      try {
        options.onSpawn({ pgid, leaderStartTime });
      } catch {
        // Documented as must-not-throw; the run goes on unrecorded.
      }
    }
    const stdoutCut = { truncated: false };
    const stderrCut = { truncated: false };
    const guard = setInterval(() => {
      holdToLimit(out, options.outputLimitBytes, stdoutCut);
      holdToLimit(err, options.outputLimitBytes, stderrCut);
    }, OUTPUT_CHECK_MS);
    let end: LaunchedEnd | undefined;
    let stopped: { timedOut: boolean; aborted: boolean };
    try {
      stopped = await endOrStop(pgid, launched.status, options);
      // Once the group is gone bash's `wait` has returned; never hang on a launcher not saying so.
      if (!await settleWithin(launched.status, LAUNCHER_REPLY_MS)) {
        throw new Error("The hook launcher (bash) did not report the end of a terminated hook");
      }
      end = await launched.status;
    } finally {
      clearInterval(guard);
      // The launcher ends what the hook left in its group before it reports the end; without
      // that report (the launcher died), it is done here.
      if (end === undefined) signalGroup(pgid, "SIGKILL");
    }
    const { status } = end;
    const killedBy = status > 128 ? SIGNALS[status - 128] : undefined;
    const limit = options.outputLimitBytes;
    return {
      exitCode: killedBy === undefined ? status : null,
      signal: killedBy ?? null,
      exitedOk: status === 0,
      ...stopped,
      stdout: end.wroteStdout ? readBounded(out, limit, stdoutCut.truncated) : EMPTY,
      stderr: end.wroteStderr ? readBounded(err, limit, stderrCut.truncated) : EMPTY,
    };
  } finally {
    for (const path of [jobFile, out, err]) {
      try {
        Deno.removeSync(path);
      } catch {
        // Never created, or already gone.
      }
    }
  }
}

/** Linux's signal numbers (x86, arm): bash reports a hook killed by signal N as 128 + N. */
const SIGNALS: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
  16: "SIGSTKFLT",
  17: "SIGCHLD",
  18: "SIGCONT",
  19: "SIGSTOP",
  20: "SIGTSTP",
  21: "SIGTTIN",
  22: "SIGTTOU",
  23: "SIGURG",
  24: "SIGXCPU",
  25: "SIGXFSZ",
  26: "SIGVTALRM",
  27: "SIGPROF",
  28: "SIGWINCH",
  29: "SIGIO",
  30: "SIGPWR",
  31: "SIGSYS",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `NAME=VALUE\0`… `\0` `ARG\0`…, created private and new (a planted file or link is refused). */
function writeJobFile(path: string, env: Record<string, string>, argv: readonly string[]): void {
  let text = "";
  for (const [name, value] of Object.entries(env)) text += `${name}=${value}\0`;
  text += "\0";
  for (const arg of argv) text += `${arg}\0`;
  Deno.writeFileSync(path, encoder.encode(text), { createNew: true, mode: 0o600 });
}

function holdToLimit(path: string, limit: number, cut: { truncated: boolean }): void {
  try {
    if (Deno.statSync(path).size > limit) {
      Deno.truncateSync(path, limit);
      cut.truncated = true;
    }
  } catch {
    // Not created yet, or already removed.
  }
}

function readBounded(
  path: string,
  limit: number,
  truncated: boolean,
): { text: string; truncated: boolean } {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path);
  } catch {
    return { text: "", truncated };
  }
  try {
    const size = file.statSync().size;
    const bytes = new Uint8Array(Math.min(size, limit));
    let at = 0;
    while (at < bytes.byteLength) {
      const n = file.readSync(bytes.subarray(at));
      if (n === null || n === 0) break;
      at += n;
    }
    return { text: decoder.decode(bytes.subarray(0, at)), truncated: truncated || size > limit };
  } finally {
    file.close();
  }
}
