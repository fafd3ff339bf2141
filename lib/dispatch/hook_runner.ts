/**
 * Runs one hook with a clean environment, a time limit and bounded output.
 *
 * @module
 */

import { checkNonNegative, MAX_TIMER_MS } from "../config/mod.ts";
import { signalGroup, terminateGroup } from "./group_signaller.ts";
import { simpleCommand } from "./simple_command.ts";
import { removePayloadFile, writePayloadFile } from "./_payload_file.ts";
import {
  closeFd,
  pollFds,
  readSome,
  reap,
  signalName,
  spawn,
  type Spawned,
  SpawnError,
  writeSome,
} from "./_libc.ts";

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
   * Told the hook's process group and start time (epoch ms, just before the spawn) once
   * it runs, so the queue can record it and a crash does not leave it unreachable. Must not throw.
   */
  onSpawn?: (group: { pgid: number; leaderStartTime: number }) => void;
  /** Told each piece of output as read, before the bound; must not throw and must return quickly. */
  onOutput?: (stream: "stdout" | "stderr", bytes: Uint8Array) => void;
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
/** The longest wait in `poll`; the hook's exit ends it at once (its pidfd becomes readable). */
const POLL_MS = 1000;
/** Reads per stream and wake-up: a hook that floods its output cannot hold the event loop. */
const READS_PER_WAKE = 4;

/**
 * Run `command` and wait for it. A line with no shell syntax ({@linkcode simpleCommand})
 * is executed directly, anything else as `/bin/sh -c COMMAND`; a program that cannot be
 * started is reported as `sh` would (exit 127 or 126, one stderr line naming it).
 *
 * The hook is started with `posix_spawn` in a session of its own (pid = pgid = sid),
 * signals at their defaults, with exactly `options.env` plus `HOOKD_PAYLOAD_FILE`: the
 * body goes to its stdin and to that private file (never to argv), removed afterwards
 * whatever happens. Only the first `outputLimitBytes` of stdout and stderr are kept, the
 * rest is read and dropped, so a hook cannot fill a disk or the daemon's memory.
 *
 * On time-out or abort the group gets SIGTERM, then SIGKILL after `killGraceMs`. The run
 * ends on the hook's exit, not on the end of its output: what is left of its group gets
 * SIGKILL at once, so a background child holding stdout open cannot make this hang (only
 * a descendant that calls `setsid` escapes; stopping the unit's cgroup ends it). The group
 * is signalled only until just after the hook is reaped, so a reused pid is never hit.
 *
 * @param command the shell command line from the configuration
 * @param options environment, body, limits and abort signal
 * @returns the outcome; hook failures (not found, non-zero exit, signal, time-out, spawn or
 *   payload-file errors) are reported here, never thrown
 * @throws {TypeError} when `command` is empty or an option has the wrong type
 * @throws {RangeError} when a time or size option is negative or not finite
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runHook } from "./hook_runner.ts";
 *
 * const payloadDir = await Deno.makeTempDir();
 * const result = await runHook("wc -c", {
 *   env: { PATH: "/usr/bin:/bin" },
 *   stdin: new TextEncoder().encode("hello"),
 *   timeoutMs: 10_000,
 *   payloadDir,
 * });
 * assert.equal(result.stdout.trim(), "5");
 * await Deno.remove(payloadDir, { recursive: true });
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
    payloadDir,
    outputLimitBytes = DEFAULT_OUTPUT_LIMIT_BYTES,
    signal,
    onSpawn,
  } = options;

  const startedAt = Date.now();
  const started = performance.now();
  const run: Omit<HookRunResult, "startedAt" | "endedAt" | "durationMs" | "success"> = {
    exitCode: null,
    signal: null,
    timedOut: false,
    aborted: false,
    stdout: "",
    stderr: "",
    stdoutTruncated: false,
    stderrTruncated: false,
  };
  if (signal?.aborted) {
    run.aborted = true;
    run.error = "Hook not started: the run was aborted before it began";
  } else {
    let payloadFile: string | undefined;
    try {
      payloadFile = await writePayloadFile(payloadDir, stdin);
      const argv = simpleCommand(command) ?? ["/bin/sh", "-c", command];
      const spawnedAt = Date.now();
      let hook: Spawned | undefined;
      try {
        hook = await spawn(argv, { ...env, HOOKD_PAYLOAD_FILE: payloadFile });
      } catch (error) {
        if (!(error instanceof SpawnError)) throw error;
        run.exitCode = error.exitCode;
        run.stderr = `hookd: ${error.message}\n`;
      }
      if (hook !== undefined) {
        if (onSpawn) {
          try {
            onSpawn({ pgid: hook.pid, leaderStartTime: spawnedAt });
          } catch {
            // Documented as must-not-throw; the run goes on unrecorded.
          }
        }
        const io = new HookIo(hook, stdin, outputLimitBytes, options.onOutput);
        const exited = io.untilExit();
        try {
          Object.assign(run, await endOrStop(hook.pid, exited, options));
          const exit = await exited;
          run.exitCode = exit.code;
          run.signal = exit.signal === null ? null : signalName(exit.signal);
        } finally {
          // The hook is gone; whatever it left behind goes too, at once (see the JSDoc).
          signalGroup(hook.pid, "SIGKILL");
          io.finish();
        }
        [run.stdout, run.stdoutTruncated] = io.stdout.result();
        [run.stderr, run.stderrTruncated] = io.stderr.result();
      }
    } catch (err) {
      run.error = `Hook not run: ${err instanceof Error ? `${err.name}: ${err.message}` : err}`;
    } finally {
      if (payloadFile !== undefined) await removePayloadFile(payloadFile);
    }
  }
  return {
    ...run,
    startedAt,
    endedAt: Date.now(),
    durationMs: Math.round(performance.now() - started),
    success: run.exitCode === 0 && !run.timedOut && !run.aborted && run.error === undefined,
  };
}

/**
 * Wait for `ended`, or stop the hook: on time-out or abort the group gets
 * SIGTERM, then SIGKILL after the grace if anything in it is still there.
 * Returns whether it was stopped, and why; `ended` may still be pending then.
 */
async function endOrStop(
  pgid: number,
  ended: Promise<unknown>,
  options: RunHookOptions,
): Promise<{ timedOut: boolean; aborted: boolean }> {
  const { signal, killGraceMs = DEFAULT_KILL_GRACE_MS } = options;
  let stop: (reason: "timeout" | "abort") => void = () => {};
  const stopped = new Promise<"timeout" | "abort">((resolve) => stop = resolve);
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = () => stop("abort");
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) stop("abort");
  try {
    const first = await Promise.race([ended.then(() => "ended" as const), stopped]);
    if (first === "ended") return { timedOut: false, aborted: false };
    await terminateGroup(pgid, killGraceMs);
    return { timedOut: first === "timeout", aborted: first === "abort" };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** One scratch buffer for every read: reads are synchronous, on the event loop. */
const scratch = new Uint8Array(65536);

/** The daemon's side of a running hook: its pipes, its pidfd and the bounded collectors. */
class HookIo {
  readonly stdout: Collector;
  readonly stderr: Collector;
  #hook: Spawned;
  #input: Uint8Array;
  #open = { stdin: true, stdout: true, stderr: true };
  #onOutput: RunHookOptions["onOutput"];

  constructor(
    hook: Spawned,
    input: Uint8Array,
    limit: number,
    onOutput: RunHookOptions["onOutput"],
  ) {
    this.#hook = hook;
    this.#onOutput = onOutput;
    this.#input = input;
    this.stdout = new Collector(limit);
    this.stderr = new Collector(limit);
    this.#feed();
  }

  /** Serve the pipes until the hook has exited and is reaped. */
  async untilExit(): Promise<{ code: number | null; signal: number | null }> {
    const hook = this.#hook;
    for (;;) {
      const watched: { fd: number; want: "in" | "out" }[] = [{ fd: hook.pidfd, want: "in" }];
      if (this.#open.stdout) watched.push({ fd: hook.stdout, want: "in" });
      if (this.#open.stderr) watched.push({ fd: hook.stderr, want: "in" });
      if (this.#open.stdin) watched.push({ fd: hook.stdin, want: "out" });
      const ready = await pollFds(watched, POLL_MS);
      this.#drain(READS_PER_WAKE);
      if (this.#open.stdin && ready[watched.length - 1]) this.#feed();
      const exit = reap(hook.pid);
      if (exit !== null) return exit;
    }
  }

  /** Read what the pipes hold now, then close every fd: reading stops. */
  finish(): void {
    this.#drain(READS_PER_WAKE * 4);
    this.#close("stdin");
    this.#close("stdout");
    this.#close("stderr");
    closeFd(this.#hook.pidfd);
    // A hook never reaped (an error above) is not left a zombie for long: it was just killed.
    reap(this.#hook.pid);
  }

  #drain(reads: number): void {
    for (const name of ["stdout", "stderr"] as const) {
      for (let i = 0; i < reads && this.#open[name]; i++) {
        const n = readSome(this.#hook[name], scratch);
        if (n < 0) break;
        if (n === 0) this.#close(name);
        else {
          this[name].add(scratch.subarray(0, n));
          try {
            this.#onOutput?.(name, scratch.subarray(0, n));
          } catch {
            // Documented as must-not-throw: a broken watcher never stops the hook.
          }
        }
      }
    }
  }

  #feed(): void {
    while (this.#open.stdin && this.#input.byteLength > 0) {
      const n = writeSome(this.#hook.stdin, this.#input);
      // EPIPE: the hook exited or closed stdin without reading all of it.
      if (n === null) this.#input = this.#input.subarray(this.#input.byteLength);
      else if (n < 0) return;
      else this.#input = this.#input.subarray(n);
    }
    this.#close("stdin");
  }

  #close(name: "stdin" | "stdout" | "stderr"): void {
    if (!this.#open[name]) return;
    this.#open[name] = false;
    closeFd(this.#hook[name]);
  }
}

/** The first `limit` bytes of a stream; the rest is counted and dropped. */
class Collector {
  #kept: Uint8Array;
  #length = 0;
  #dropped = 0;

  constructor(limit: number) {
    this.#kept = new Uint8Array(limit);
  }

  add(bytes: Uint8Array): void {
    const room = this.#kept.byteLength - this.#length;
    const part = bytes.byteLength > room ? bytes.subarray(0, room) : bytes;
    this.#kept.set(part, this.#length);
    this.#length += part.byteLength;
    this.#dropped += bytes.byteLength - part.byteLength;
  }

  /** The text kept (UTF-8, lossy) and whether anything was dropped. */
  result(): [string, boolean] {
    return [new TextDecoder().decode(this.#kept.subarray(0, this.#length)), this.#dropped > 0];
  }
}

/** The checks TypeScript cannot make (the rest of the shape is its job). */
function validateOptions(command: string, options: RunHookOptions): void {
  const { env, payloadDir, timeoutMs, killGraceMs, outputLimitBytes } = options;
  if (typeof command !== "string" || command.trim() === "") {
    throw new TypeError("runHook(): the command must be a non-empty string");
  }
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== "string") throw new TypeError(`runHook(): env.${name} must be a string`);
  }
  if (payloadDir === "") throw new TypeError("runHook(): payloadDir must be a non-empty path");
  // setTimeout fires at once beyond 2^31 - 1 ms.
  for (const [name, value] of Object.entries({ timeoutMs, killGraceMs: killGraceMs ?? 0 })) {
    checkNonNegative("runHook()", name, value);
    if (value > MAX_TIMER_MS) {
      throw new RangeError(`runHook(): ${name} must be at most ${MAX_TIMER_MS}`);
    }
  }
  if (timeoutMs === 0) throw new RangeError("runHook(): timeoutMs must be above 0");
  if (
    outputLimitBytes !== undefined && !(Number.isInteger(outputLimitBytes) && outputLimitBytes >= 0)
  ) {
    throw new RangeError(
      `runHook(): outputLimitBytes must be a whole number: got ${outputLimitBytes}`,
    );
  }
}
