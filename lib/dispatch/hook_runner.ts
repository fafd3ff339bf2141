/**
 * Runs one hook with a clean environment, a time limit and bounded output.
 *
 * @module
 */

import { checkNonNegative, MAX_TIMER_MS } from "../config/limits.ts";
import { signalGroup } from "./group_signaller.ts";
import { endOrStop } from "./_end_or_stop.ts";
import { HookInterruptedError, isSafeName, type LauncherPool } from "./launcher.ts";
import { simpleCommand } from "./simple_command.ts";
import { processStartTime, type StartTimeReader } from "./start_time.ts";
import { removePayloadFile, writePayloadFile } from "./_payload_file.ts";
import { settleWithin } from "./_settle.ts";
import { runLaunched } from "./_launched_run.ts";

/** How to run one hook. */
export interface RunHookOptions {
  /** The complete environment; nothing is inherited (`HOOKD_PAYLOAD_FILE` is added). */
  env: Record<string, string>;
  /** The raw body, written to the hook's stdin. */
  stdin: Uint8Array;
  /** How long the hook may run before its process group is terminated. */
  timeoutMs: number;
  /** Directory for the private payload file (mode 0600), removed after the run. */
  payloadDir: string;
  /** Time between SIGTERM and SIGKILL when terminating, default 5000. */
  killGraceMs?: number;
  /** Bytes kept per output stream, default 65536; the rest is read and discarded. */
  outputLimitBytes?: number;
  /** Aborting terminates the hook as a time-out does, and marks the result `aborted`. */
  signal?: AbortSignal;
  /**
   * Reads the leader's start time for `onSpawn`; without one, each read spawns
   * its own short-lived `/bin/sh`, which costs a second spawn per run.
   */
  startTimes?: StartTimeReader;
  /**
   * Told the hook's process group once it is spawned, with its leader's start
   * time, so that a crash of this process does not leave it unreachable
   * (the queue records it in the store). Called before the run's result is
   * returned, not at all when the start time cannot be read (no /proc, or
   * the hook already gone). Must not throw.
   */
  onSpawn?: (group: { pgid: number; leaderStartTime: number }) => void;
  /**
   * Start the hook on one of these launchers (a fork of a small bash) instead
   * of spawning it from this process. The hook sees the same environment,
   * stdin bytes (the payload file instead of a pipe) and payload file, in a
   * process group of its own (not a session); its output goes through
   * private files cut back to `outputLimitBytes` every second. A hook killed
   * by signal N is told from bash's `$?` (128 + N), so a program that itself
   * exits with 128 + N is reported as killed by N. Without launchers, or when
   * an environment name is not a plain identifier, the hook is spawned.
   */
  launcher?: LauncherPool | null;
}

/** What happened when a hook ran. Times are milliseconds. */
export interface HookRunResult {
  /** Wall-clock time (epoch ms) just before the hook was started. */
  startedAt: number;
  /** Wall-clock time (epoch ms) once the hook, its process group and its output were done. */
  endedAt: number;
  /** Monotonic duration of the whole run. */
  durationMs: number;
  /** The hook's exit code; null when it was killed by a signal or never ran. */
  exitCode: number | null;
  /** The signal that killed the hook, e.g. `"SIGKILL"`; null otherwise. */
  signal: string | null;
  /** True only for exit code 0 without time-out, abort or error. */
  success: boolean;
  /** The hook ran past `timeoutMs` and was terminated. */
  timedOut: boolean;
  /** `options.signal` fired and the hook was terminated (or never started). */
  aborted: boolean;
  /** The first `outputLimitBytes` of stdout, decoded as UTF-8 (lossy). */
  stdout: string;
  /** The first `outputLimitBytes` of stderr, decoded as UTF-8 (lossy). */
  stderr: string;
  /** stdout was longer than `outputLimitBytes`. */
  stdoutTruncated: boolean;
  /** stderr was longer than `outputLimitBytes`. */
  stderrTruncated: boolean;
  /** Why the hook could not be run (payload file or spawn failure). */
  error?: string;
}

const DEFAULT_KILL_GRACE_MS = 5000;
const DEFAULT_OUTPUT_LIMIT_BYTES = 65536;
/**
 * Once the process group is gone every pipe writer is closed, so the readers only have the
 * pipe buffers left to drain; this bounds the wait for writers that left the group (setsid).
 */
const DRAIN_MS = 1000;

/** Starts the hook in a new session (util-linux, essential on Debian). */
const SETSID = "/usr/bin/setsid";

/**
 * Run `command` in a session and process group of its own and wait for it: a line
 * with no shell syntax ({@linkcode simpleCommand}) is split on blanks and executed
 * directly, anything else runs as `/bin/sh -c COMMAND`. Either way the hook sees the
 * same environment, stdin and payload file, and its output is captured the same way.
 * A program that cannot be started is reported as `sh` would: exit 127 (not found) or
 * 126 (not executable), with one stderr line naming it, e.g. `hookd: /opt/x.sh: not found`.
 *
 * The body goes to the hook's stdin and to a private temp file named by `HOOKD_PAYLOAD_FILE`
 * (never to argv); the file is removed afterwards whatever happens. The hook sees exactly
 * `options.env` plus `HOOKD_PAYLOAD_FILE`.
 *
 * On time-out or abort the whole process group gets SIGTERM, then SIGKILL after
 * `killGraceMs` if anything in it is still there. When the hook exits, whatever is left of its
 * process group gets SIGKILL at once and the output readers stop waiting, so a background
 * child holding stdout open cannot make this hang: **nothing a hook forks outlives it**.
 * Hooks that need a long-lived process should start it with `systemd-run` (a process that
 * leaves the group with setsid is out of reach; its pipes are closed after a short drain).
 *
 * Signals go to the group with `Deno.kill(-pgid, …)`; the group id is the hook's pid
 * (`setsid` makes it a session leader, then execs). The group is signalled only while it
 * may still have members, so pid reuse would need a new group leader with that pid within
 * milliseconds.
 *
 * @param command the shell command line from the configuration
 * @param options environment, body, limits and abort signal
 * @returns the outcome; hook failures (not found, non-zero exit, signal, time-out, spawn or
 *   payload-file errors) are reported here, never thrown
 * @throws {TypeError} when `command` is empty or an option has the wrong type
 * @throws {RangeError} when a time or size option is negative or not finite
 * @example
 * ```ts
 * import { runHook } from "./hook_runner.ts";
 *
 * async function countBytes(body: Uint8Array): Promise<string> {
 *   const result = await runHook("wc -c", {
 *     env: { PATH: "/usr/bin:/bin" },
 *     stdin: body,
 *     timeoutMs: 10_000,
 *     payloadDir: "/var/lib/hookd/tmp",
 *   });
 *   if (!result.success) throw new Error(result.error ?? result.stderr);
 *   return result.stdout.trim();
 * }
 * ```
 */
export async function runHook(
  command: string,
  options: RunHookOptions,
): Promise<HookRunResult> {
  validateOptions(command, options);
  const {
    env,
    stdin,
    timeoutMs,
    payloadDir,
    killGraceMs = DEFAULT_KILL_GRACE_MS,
    outputLimitBytes = DEFAULT_OUTPUT_LIMIT_BYTES,
    signal,
    startTimes,
    onSpawn,
    launcher,
  } = options;

  const startedAt = Date.now();
  const started = performance.now();
  const outcome = {
    exitCode: null as number | null,
    signal: null as string | null,
    exitedOk: false,
    timedOut: false,
    aborted: false,
    error: undefined as string | undefined,
  };
  let stdout: Collected = { text: "", truncated: false };
  let stderr: Collected = { text: "", truncated: false };

  if (signal?.aborted) {
    outcome.aborted = true;
    outcome.error = "Hook not started: the run was aborted before it began";
  } else {
    let payloadFile: string | undefined;
    try {
      payloadFile = await writePayloadFile(payloadDir, stdin);
      const direct = simpleCommand(command);
      const argv = direct ?? ["/bin/sh", "-c", command];
      const hookEnv = { ...env, HOOKD_PAYLOAD_FILE: payloadFile };
      let outputs: { stdout: Collected; stderr: Collected };
      if (launcher && Object.keys(hookEnv).every(isSafeName)) {
        const launched = await runLaunched(launcher, argv, {
          env: hookEnv,
          dir: payloadDir,
          timeoutMs,
          killGraceMs,
          outputLimitBytes,
          signal,
          onSpawn,
        });
        Object.assign(outcome, {
          exitCode: launched.exitCode,
          signal: launched.signal,
          exitedOk: launched.exitedOk,
          timedOut: launched.timedOut,
          aborted: launched.aborted,
        });
        outputs = launched;
      } else {
        // setsid(1) makes the hook a session and process-group leader, which
        // `detached: true` does not in Deno 2.9 (and node's `detached` forks the
        // whole daemon for every hook); this spawns cheaply and then execs.
        const child = new Deno.Command(SETSID, {
          args: argv,
          clearEnv: true,
          env: hookEnv,
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const told = onSpawn && tellSpawned(child.pid, onSpawn, startTimes);
        outputs = await supervise(child, {
          stdin,
          timeoutMs,
          killGraceMs,
          outputLimitBytes,
          signal,
          outcome,
        });
        await told;
      }
      ({ stdout, stderr } = outputs);
      if (direct !== null) stderr = asShellWouldSay(direct[0], outcome.exitCode, stderr);
    } catch (err) {
      outcome.error = err instanceof HookInterruptedError
        ? `Hook interrupted: ${err.message}; its process group was killed`
        : `Hook not run: ${describeError(err)}`;
    } finally {
      if (payloadFile !== undefined) await removePayloadFile(payloadFile, stdin);
    }
  }

  const endedAt = Date.now();
  return {
    startedAt,
    endedAt,
    durationMs: Math.round(performance.now() - started),
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    success: outcome.exitedOk && !outcome.timedOut && !outcome.aborted &&
      outcome.error === undefined,
    timedOut: outcome.timedOut,
    aborted: outcome.aborted,
    stdout: stdout.text,
    stderr: stderr.text,
    stdoutTruncated: stdout.truncated,
    stderrTruncated: stderr.truncated,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
  };
}

interface SuperviseOptions {
  stdin: Uint8Array;
  timeoutMs: number;
  killGraceMs: number;
  outputLimitBytes: number;
  signal: AbortSignal | undefined;
  outcome: {
    exitCode: number | null;
    signal: string | null;
    exitedOk: boolean;
    timedOut: boolean;
    aborted: boolean;
  };
}

/** Feeds stdin, collects output, enforces time-out and abort, and cleans up the group. */
async function supervise(
  child: Deno.ChildProcess,
  options: SuperviseOptions,
): Promise<{ stdout: Collected; stderr: Collected }> {
  const { outcome, killGraceMs, outputLimitBytes, signal } = options;
  const pgid = child.pid;
  const stdout = collect(child.stdout, outputLimitBytes);
  const stderr = collect(child.stderr, outputLimitBytes);
  const writer = child.stdin.getWriter();
  const fed = feed(writer, options.stdin);
  const status = child.status;

  Object.assign(
    outcome,
    await endOrStop(pgid, status, { timeoutMs: options.timeoutMs, killGraceMs, signal }),
  );

  const exit = await status;
  outcome.exitCode = exit.signal === null ? exit.code : null;
  outcome.signal = exit.signal;
  outcome.exitedOk = exit.success;
  // The hook is gone; whatever it left behind goes too, at once (see runHook's JSDoc).
  signalGroup(pgid, "SIGKILL");

  const drained = await settleWithin(
    Promise.all([stdout.result, stderr.result, fed]),
    DRAIN_MS,
  );
  if (!drained) {
    stdout.cancel();
    stderr.cancel();
    writer.abort().catch(() => {});
  }
  return { stdout: await stdout.result, stderr: await stderr.result };
}

/**
 * The hook's pid is its group's id (setsid); its start time was set by the
 * fork and survives the execs. It is read by a shell (Deno refuses `/proc` to
 * hookd), while the hook runs; a hook already gone by then is not told about.
 * A throwing callback must not turn a running hook into one "not run".
 */
async function tellSpawned(
  pid: number,
  onSpawn: NonNullable<RunHookOptions["onSpawn"]>,
  startTimes: StartTimeReader | undefined,
): Promise<void> {
  const leaderStartTime = await processStartTime(pid, startTimes);
  if (leaderStartTime === null) return;
  try {
    onSpawn({ pgid: pid, leaderStartTime });
  } catch {
    // Documented as must-not-throw; the run goes on unrecorded.
  }
}

/**
 * setsid(1) reports a program it cannot execute as `setsid: failed to execute
 * PROGRAM: REASON` (127 for ENOENT, 126 otherwise), a launcher's bash as
 * `bash: line N: PROGRAM: REASON` (one or two such lines), and nothing else can
 * have written to stderr by then; say it as `sh` would, naming the program.
 */
function asShellWouldSay(program: string, exitCode: number | null, stderr: Collected): Collected {
  if (exitCode !== 127 && exitCode !== 126) return stderr;
  // Lines naming the program; their other words may be translated (LANG).
  const lines = (stderr.text.endsWith("\n") ? stderr.text.slice(0, -1) : stderr.text).split("\n");
  const [line] = lines;
  const named = ` ${program}: `;
  const at = line.indexOf(named);
  const fromSetsid = line.startsWith("setsid: ") && lines.length === 1;
  const fromBash = lines.length <= 2 && lines.every((l) => l.startsWith("bash: line "));
  if (!(fromSetsid || fromBash) || at < 0) return stderr;
  const reason = exitCode === 127 ? "not found" : line.slice(at + named.length);
  return { text: `hookd: ${program}: ${reason}\n`, truncated: stderr.truncated };
}

/** Writes the body and closes stdin; a hook that does not read it is not an error. */
async function feed(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  body: Uint8Array,
): Promise<void> {
  try {
    if (body.byteLength > 0) await writer.write(body);
    await writer.close();
  } catch {
    // EPIPE: the hook exited or closed stdin without reading all of it.
  }
}

interface Collected {
  text: string;
  truncated: boolean;
}

/** Reads a stream to its end, keeping only the first `limit` bytes. */
function collect(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): { result: Promise<Collected>; cancel(): void } {
  const reader = stream.getReader();
  const result = (async () => {
    const kept: Uint8Array[] = [];
    let keptBytes = 0;
    let truncated = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const room = limit - keptBytes;
        if (value.byteLength > room) truncated = true;
        if (room > 0) {
          const part = value.byteLength > room ? value.slice(0, room) : value;
          kept.push(part);
          keptBytes += part.byteLength;
        }
      }
    } catch {
      // A read error ends the output; what was kept still counts.
    }
    const bytes = new Uint8Array(keptBytes);
    let at = 0;
    for (const part of kept) {
      bytes.set(part, at);
      at += part.byteLength;
    }
    return { text: new TextDecoder().decode(bytes), truncated };
  })();
  return {
    result,
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function validateOptions(command: string, options: RunHookOptions): void {
  if (typeof command !== "string" || command.trim() === "") {
    throw new TypeError("runHook(): the command must be a non-empty string");
  }
  const {
    env,
    stdin,
    timeoutMs,
    payloadDir,
    killGraceMs,
    outputLimitBytes,
    signal,
    startTimes,
    onSpawn,
  } = options;
  if (env === null || typeof env !== "object") {
    throw new TypeError("runHook(): options.env must be an object of strings");
  }
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== "string") {
      throw new TypeError(`runHook(): options.env.${name} must be a string`);
    }
  }
  if (!(stdin instanceof Uint8Array)) {
    throw new TypeError("runHook(): options.stdin must be a Uint8Array");
  }
  if (typeof payloadDir !== "string" || payloadDir === "") {
    throw new TypeError(
      "runHook(): options.payloadDir must be a non-empty path",
    );
  }
  checkNonNegative("runHook()", "options.timeoutMs", timeoutMs);
  // setTimeout fires at once beyond 2^31 - 1 ms.
  if (timeoutMs === 0 || timeoutMs > MAX_TIMER_MS) {
    throw new RangeError(
      `runHook(): options.timeoutMs must be above 0 and at most ${MAX_TIMER_MS}`,
    );
  }
  if (killGraceMs !== undefined) checkNonNegative("runHook()", "options.killGraceMs", killGraceMs);
  if (killGraceMs !== undefined && killGraceMs > MAX_TIMER_MS) {
    throw new RangeError(
      `runHook(): options.killGraceMs must be at most ${MAX_TIMER_MS}`,
    );
  }
  if (outputLimitBytes !== undefined) {
    checkNonNegative("runHook()", "options.outputLimitBytes", outputLimitBytes);
    if (!Number.isInteger(outputLimitBytes)) {
      throw new RangeError(
        "runHook(): options.outputLimitBytes must be a whole number",
      );
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("runHook(): options.signal must be an AbortSignal");
  }
  if (onSpawn !== undefined && typeof onSpawn !== "function") {
    throw new TypeError("runHook(): options.onSpawn must be a function");
  }
  if (startTimes !== undefined && typeof startTimes?.read !== "function") {
    throw new TypeError(
      "runHook(): options.startTimes must be a StartTimeReader from createStartTimeReader()",
    );
  }
}
