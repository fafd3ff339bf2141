/**
 * Runs one shell hook with a clean environment, a time limit and bounded output.
 *
 * @module
 */

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
   * Signals and inspects the hook's process group; without one, each signal or check
   * spawns its own short-lived `/bin/sh`, which costs a second spawn per run.
   */
  groups?: GroupSignaller;
}

/**
 * A long-lived `/bin/sh` that signals and inspects hooks' process groups with its
 * built-ins, so that cleaning up after a run costs a line on a pipe instead of a spawn.
 * It starts on first use and answers one request at a time; while it is not running
 * (not yet, closed, or it died) every request spawns a one-off shell, as `runHook` does
 * without one, so a request is never lost.
 */
export interface GroupSignaller extends AsyncDisposable {
  /**
   * Send SIGTERM or SIGKILL to a process group.
   *
   * @param pgid the group's id
   * @param name `"TERM"` or `"KILL"`
   * @returns true when the signal reached a process, or when that could not be told
   */
  signal(pgid: number, name: "TERM" | "KILL"): Promise<boolean>;
  /**
   * Whether a process that is not a zombie is in a process group.
   *
   * @param pgid the group's id
   * @returns true when one is, or when that could not be told
   */
  alive(pgid: number): Promise<boolean>;
  /** Stop the shell and wait for it; later requests spawn one-off shells. */
  close(): Promise<void>;
}

/** What happened when a hook ran. Times are milliseconds. */
export interface HookRunResult {
  /** Wall-clock time (epoch ms) just before the hook was started. */
  startedAt: number;
  /** Wall-clock time (epoch ms) once the hook, its process group and its output were done. */
  endedAt: number;
  /** Monotonic duration of the whole run. */
  durationMs: number;
  /** The shell's exit code; null when it was killed by a signal or never ran. */
  code: number | null;
  /** The signal that killed the shell, e.g. `"SIGKILL"`; null otherwise. */
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
const MAX_TIMER_MS = 2_147_483_647;
const DEFAULT_OUTPUT_LIMIT_BYTES = 65536;
/** How often to look whether a terminated group is gone. */
const GROUP_POLL_MS = 50;
/**
 * Once the process group is gone every pipe writer is closed, so the readers only have the
 * pipe buffers left to drain; this bounds the wait for writers that left the group (setsid).
 */
const DRAIN_MS = 1000;
/**
 * Payload files up to this size are written and removed synchronously: for a small file
 * in hookd's own state directory that costs a third of the CPU of an async operation's hand-off
 * to a worker thread, and blocks the event loop less than the store's commits already do.
 */
const SYNC_FILE_BYTES = 64 * 1024;

/** Starts the hook in a new session (util-linux, essential on Debian). */
const SETSID = "/usr/bin/setsid";

/** `$1` is the process-group id; only shell built-ins, since `/bin/sh` is all we may run. */
const SIGNAL_GROUP_SCRIPT = 'kill -s "$2" -- "-$1" 2>/dev/null';
/**
 * `group_alive PGID` returns 0 while a non-zombie process is in the group. A zombie stays
 * in its group until someone reaps it, and `kill -s 0` counts it, so where orphans are reaped
 * late (hookd as PID 1 in a container) that would make every run with a background child
 * wait the full grace. /proc tells zombies apart; without /proc fall back to `kill -s 0`.
 */
const GROUP_ALIVE_FUNCTION = `group_alive() {
  g=$1
  if [ -r /proc/self/stat ]; then
    for f in /proc/[0-9]*/stat; do
      read -r l 2>/dev/null <"$f" || continue
      l=\${l##*") "}
      set -- $l
      [ "$3" = "$g" ] && [ "$1" != Z ] && return 0
    done
    return 1
  fi
  kill -s 0 -- "-$g" 2>/dev/null
}`;
const GROUP_ALIVE_SCRIPT = `${GROUP_ALIVE_FUNCTION}
group_alive "$1"`;
/**
 * The {@linkcode GroupSignaller}'s loop: one request per line (`term|kill|alive PGID`),
 * one answer per line (the exit status, 0 meaning true). Built-ins only, so a request
 * forks nothing. hookd validates the pgid; anything else answers 2, counted as true.
 */
const SIGNALLER_SCRIPT = `${GROUP_ALIVE_FUNCTION}
while read -r op g; do
  case $op in
    term) kill -s TERM -- "-$g" 2>/dev/null; echo $? ;;
    kill) kill -s KILL -- "-$g" 2>/dev/null; echo $? ;;
    alive) group_alive "$g"; echo $? ;;
    *) echo 2 ;;
  esac
done`;

/**
 * Run `command` as `/bin/sh -c COMMAND` in its own process group and wait for it.
 *
 * The body goes to the hook's stdin and to a private temp file named by `HOOKD_PAYLOAD_FILE`
 * (never to argv); the file is removed afterwards whatever happens. The hook sees exactly
 * `options.env` plus `HOOKD_PAYLOAD_FILE`.
 *
 * On time-out or abort the whole process group gets SIGTERM, then SIGKILL after
 * `killGraceMs` if anything in it is still alive. When the shell exits, whatever is left of its
 * process group is terminated the same way and the output readers stop waiting, so a
 * background child holding stdout open cannot make this hang: **nothing a hook forks outlives
 * it**. Hooks that need a long-lived process should start it with `systemd-run` (a process that
 * leaves the group with setsid is out of reach; its pipes are closed after a short drain).
 *
 * Signals are sent by running `kill` in `/bin/sh`, because hookd is only allowed to run
 * `/bin/sh`: in `options.groups` (a {@linkcode GroupSignaller}, one shell for many runs) or
 * else in a shell spawned per signal. The group id is the shell's pid; the group is signalled
 * only while it may still have members, so pid reuse would need a new group leader with that
 * pid within milliseconds.
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
    groups,
  } = options;

  const startedAt = Date.now();
  const started = performance.now();
  const outcome = {
    code: null as number | null,
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
      // setsid(1) makes the shell a session and process-group leader, as
      // `detached: true` would; but `detached` makes Deno fork the whole
      // daemon for every hook, where this spawns cheaply and then execs.
      const child = new Deno.Command(SETSID, {
        args: ["/bin/sh", "-c", command],
        clearEnv: true,
        env: { ...env, HOOKD_PAYLOAD_FILE: payloadFile },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const outputs = await supervise(child, {
        stdin,
        timeoutMs,
        killGraceMs,
        outputLimitBytes,
        signal,
        groups,
        outcome,
      });
      ({ stdout, stderr } = outputs);
    } catch (err) {
      outcome.error = `Hook not run: ${describeError(err)}`;
    } finally {
      if (payloadFile !== undefined) await removePayloadFile(payloadFile, stdin);
    }
  }

  const endedAt = Date.now();
  return {
    startedAt,
    endedAt,
    durationMs: Math.round(performance.now() - started),
    code: outcome.code,
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
  groups: GroupSignaller | undefined;
  outcome: {
    code: number | null;
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
  const { outcome, killGraceMs, outputLimitBytes, signal, groups } = options;
  const pgid = child.pid;
  const stdout = collect(child.stdout, outputLimitBytes);
  const stderr = collect(child.stderr, outputLimitBytes);
  const writer = child.stdin.getWriter();
  const fed = feed(writer, options.stdin);
  const status = child.status;

  let stop: (reason: "timeout" | "abort") => void = () => {};
  const stopped = new Promise<"timeout" | "abort">((resolve) => stop = resolve);
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = () => stop("abort");
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const first = await Promise.race([status, stopped]);
    if (first === "timeout" || first === "abort") {
      outcome.timedOut = first === "timeout";
      outcome.aborted = first === "abort";
      await terminateGroup(pgid, killGraceMs, groups);
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }

  const exit = await status;
  outcome.code = exit.signal === null ? exit.code : null;
  outcome.signal = exit.signal;
  outcome.exitedOk = exit.success;
  // The shell is gone; whatever it left behind goes too (see runHook's JSDoc).
  await terminateGroup(pgid, killGraceMs, groups);

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

/**
 * SIGTERM to the group, then SIGKILL once `graceMs` has passed with a member still alive.
 * Returns at once when the group is already empty.
 */
async function terminateGroup(
  pgid: number,
  graceMs: number,
  groups: GroupSignaller | undefined,
): Promise<void> {
  const signaller = groups ?? ONE_OFF_SHELLS;
  if (!(await signaller.signal(pgid, "TERM"))) return;
  const deadline = performance.now() + graceMs;
  for (;;) {
    if (!(await signaller.alive(pgid))) return;
    const left = deadline - performance.now();
    if (left <= 0) break;
    await delay(Math.min(GROUP_POLL_MS, left));
  }
  await signaller.signal(pgid, "KILL");
}

/** True when the signal reached at least one process (or we could not tell). */
async function signalGroup(
  pgid: number,
  name: "TERM" | "KILL",
): Promise<boolean> {
  return await runShellCheck(SIGNAL_GROUP_SCRIPT, [String(pgid), name]);
}

async function groupAlive(pgid: number): Promise<boolean> {
  return await runShellCheck(GROUP_ALIVE_SCRIPT, [String(pgid)]);
}

/** Without a {@linkcode GroupSignaller}: a shell per request. */
const ONE_OFF_SHELLS: Pick<GroupSignaller, "signal" | "alive"> = {
  signal: signalGroup,
  alive: groupAlive,
};

/**
 * Start nothing yet: a {@linkcode GroupSignaller} whose shell starts on first use.
 * Pass it as `groups` to every {@linkcode runHook} call of a long-running dispatcher,
 * and close it (or `await using`) once those runs are over.
 *
 * The shell is a child of this process in this process's own group, never in a hook's,
 * so signalling a hook's group cannot reach it.
 *
 * @returns the signaller
 * @example
 * ```ts
 * import { createGroupSignaller, runHook } from "./hook_runner.ts";
 *
 * async function runAll(commands: string[]): Promise<boolean[]> {
 *   await using groups = createGroupSignaller();
 *   const results = [];
 *   for (const command of commands) {
 *     const result = await runHook(command, {
 *       env: { PATH: "/usr/bin:/bin" },
 *       stdin: new Uint8Array(),
 *       timeoutMs: 60_000,
 *       payloadDir: "/var/lib/hookd/tmp",
 *       groups,
 *     });
 *     results.push(result.success);
 *   }
 *   return results;
 * }
 * ```
 */
export function createGroupSignaller(): GroupSignaller {
  let shell: SignallerShell | undefined;
  let closed = false;
  const ask = async (request: string, fallback: () => Promise<boolean>) => {
    if (closed) return await fallback();
    if (shell === undefined || shell.broken) {
      // A dead shell is replaced; it is waited for first so that nothing leaks.
      await shell?.stopped;
      if (closed) return await fallback();
      if (shell === undefined || shell.broken) shell = startSignallerShell();
    }
    const answer = await shell.ask(request);
    return answer === undefined ? await fallback() : answer;
  };
  return {
    signal(pgid, name) {
      checkPgid(pgid);
      return ask(`${name === "KILL" ? "kill" : "term"} ${pgid}`, () => signalGroup(pgid, name));
    },
    alive(pgid) {
      checkPgid(pgid);
      return ask(`alive ${pgid}`, () => groupAlive(pgid));
    },
    async close() {
      closed = true;
      await shell?.close();
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}

/** A pgid of 0 or 1 would signal hookd's own group or every process. */
function checkPgid(pgid: number): void {
  if (!Number.isSafeInteger(pgid) || pgid < 2) {
    throw new RangeError(`GroupSignaller: pgid must be an integer above 1: got ${pgid}`);
  }
}

interface SignallerShell {
  /** The answer, or undefined when the shell could not give one (then ask a one-off shell). */
  ask(request: string): Promise<boolean | undefined>;
  /** True once the shell stopped answering. */
  readonly broken: boolean;
  /** Resolves once the shell has exited and its pipes are closed. */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

function startSignallerShell(): SignallerShell {
  const pending: ((answer: boolean | undefined) => void)[] = [];
  let broken = false;
  const fail = () => {
    broken = true;
    for (const resolve of pending.splice(0)) resolve(undefined);
  };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/bin/sh", {
      args: ["-c", SIGNALLER_SCRIPT],
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch {
    fail();
    return {
      ask: () => Promise.resolve(undefined),
      broken,
      stopped: Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const writer = child.stdin.getWriter();
  const reading = (async () => {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    try {
      for (;;) {
        const { done, value } = await lines.read();
        if (done) break;
        buffered += value;
        for (let at = buffered.indexOf("\n"); at >= 0; at = buffered.indexOf("\n")) {
          const line = buffered.slice(0, at);
          buffered = buffered.slice(at + 1);
          // An answer nobody waits for means the shell and hookd disagree: stop using it.
          const resolve = pending.shift();
          if (resolve === undefined) throw new Error("unexpected answer");
          resolve(line === "0" ? true : line === "1" ? false : undefined);
        }
      }
    } catch {
      lines.cancel().catch(() => {});
    }
    fail();
  })();
  const stopped = Promise.all([reading, child.status.catch(() => {})]).then(() => {});
  return {
    ask(request) {
      if (broken) return Promise.resolve(undefined);
      const { promise, resolve } = Promise.withResolvers<boolean | undefined>();
      pending.push(resolve);
      writer.write(encoder.encode(`${request}\n`)).catch(() => {
        fail();
        // It may never read stdin again; it must not linger.
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      });
      return promise;
    },
    get broken() {
      return broken;
    },
    stopped,
    async close() {
      await writer.close().catch(() => {});
      await stopped;
    },
  };
}

/** Exit status 0 as a boolean; a helper that cannot run counts as true, the cautious answer. */
async function runShellCheck(script: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("/bin/sh", {
      args: ["-c", script, "sh", ...args],
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return true;
  }
}

/** Creates the payload file with mode 0600 before any byte of the body is in it. */
async function writePayloadFile(
  dir: string,
  body: Uint8Array,
): Promise<string> {
  // One operation instead of makeTempFile, chmod and writeFile: `createNew` (O_EXCL)
  // refuses an existing name or a planted symlink, and `mode` goes to open(2), so the
  // file is created private (Deno then sets exactly 0600 whatever the umask).
  const path = `${dir}/hookd-payload-${randomName()}`;
  const options = { createNew: true, mode: 0o600 };
  try {
    if (body.byteLength <= SYNC_FILE_BYTES) Deno.writeFileSync(path, body, options);
    else await Deno.writeFile(path, body, options);
  } catch (err) {
    // A failed write may have created the file; one that existed (AlreadyExists) is not ours.
    if (!(err instanceof Deno.errors.AlreadyExists)) await removePayloadFile(path, body);
    throw err;
  }
  return path;
}

/** Never throws: a file that cannot be removed must not turn a run into an error. */
async function removePayloadFile(path: string, body: Uint8Array): Promise<void> {
  try {
    if (body.byteLength <= SYNC_FILE_BYTES) Deno.removeSync(path);
    else await Deno.remove(path);
  } catch {
    // Already gone, or the directory went away.
  }
}

/** 128 random bits, hex. */
function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Resolves true when `promise` settles within `ms`, false otherwise; leaves no timer behind. */
async function settleWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
    groups,
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
  checkNonNegative("timeoutMs", timeoutMs);
  // setTimeout fires at once beyond 2^31 - 1 ms.
  if (timeoutMs === 0 || timeoutMs > MAX_TIMER_MS) {
    throw new RangeError(
      `runHook(): options.timeoutMs must be above 0 and at most ${MAX_TIMER_MS}`,
    );
  }
  if (killGraceMs !== undefined) checkNonNegative("killGraceMs", killGraceMs);
  if (killGraceMs !== undefined && killGraceMs > MAX_TIMER_MS) {
    throw new RangeError(
      `runHook(): options.killGraceMs must be at most ${MAX_TIMER_MS}`,
    );
  }
  if (outputLimitBytes !== undefined) {
    checkNonNegative("outputLimitBytes", outputLimitBytes);
    if (!Number.isInteger(outputLimitBytes)) {
      throw new RangeError(
        "runHook(): options.outputLimitBytes must be a whole number",
      );
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("runHook(): options.signal must be an AbortSignal");
  }
  if (
    groups !== undefined &&
    (typeof groups?.signal !== "function" || typeof groups?.alive !== "function")
  ) {
    throw new TypeError(
      "runHook(): options.groups must be a GroupSignaller from createGroupSignaller()",
    );
  }
}

function checkNonNegative(name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `runHook(): options.${name} must be a finite number of 0 or more`,
    );
  }
}
