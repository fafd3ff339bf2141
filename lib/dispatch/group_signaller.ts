/**
 * Signals and inspects hooks' process groups. hookd may only run `/bin/sh`, so
 * signals go through its built-ins: either in one long-lived helper shell (a
 * {@linkcode GroupSignaller}) or in a one-off shell per request. A hook's whole
 * group is terminated with {@linkcode terminateGroup}.
 *
 * @module
 */

/**
 * A long-lived `/bin/sh` that signals and inspects hooks' process groups with its
 * built-ins, so that cleaning up after a run costs a line on a pipe instead of a spawn.
 * It starts on first use and answers one request at a time; while it is not running
 * (not yet, closed, or it died) every request spawns a one-off shell, as
 * {@linkcode terminateGroup} does without one, so a request is never lost.
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
  /**
   * When a process started: field 22 of `/proc/<pid>/stat`, clock ticks since
   * boot. With the pid it names one process for good (a recycled pid gets a
   * new start time). Read by the shell, because Deno refuses `/proc` to a
   * process whose `--allow-run` is restricted.
   *
   * @param pid a process id
   * @returns the start time, or null when there is no such process, no
   *   /proc, or the answer could not be had
   */
  startTime(pid: number): Promise<number | null>;
  /** Stop the shell and wait for it; later requests spawn one-off shells. */
  close(): Promise<void>;
}

/** How often to look whether a terminated group is gone. */
const GROUP_POLL_MS = 50;

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
 * `start_time PID` prints field 22 of `/proc/PID/stat`, read after the last
 * `) ` since the command name (field 2) may hold spaces and parentheses, or
 * `-` when there is no such process.
 */
const START_TIME_FUNCTION = `start_time() {
  if read -r l 2>/dev/null <"/proc/$1/stat"; then
    l=\${l##*") "}
    set -- $l
    echo "\${20:--}"
  else
    echo -
  fi
}`;
const START_TIME_SCRIPT = `${START_TIME_FUNCTION}
start_time "$1"`;
/**
 * The {@linkcode GroupSignaller}'s loop: one request per line (`term|kill|alive PGID`,
 * `start PID`), one answer per line (the exit status, 0 meaning true; for `start`, the
 * start time or `-`). Built-ins only, so a request
 * forks nothing. hookd validates the pgid; anything else answers 2, counted as true.
 */
const SIGNALLER_SCRIPT = `${GROUP_ALIVE_FUNCTION}
${START_TIME_FUNCTION}
while read -r op g; do
  case $op in
    term) kill -s TERM -- "-$g" 2>/dev/null; echo $? ;;
    kill) kill -s KILL -- "-$g" 2>/dev/null; echo $? ;;
    alive) group_alive "$g"; echo $? ;;
    start) start_time "$g" ;;
    *) echo 2 ;;
  esac
done`;

/**
 * SIGTERM to the group, then SIGKILL once `graceMs` has passed with a member still alive.
 * Returns at once when the group is already empty, and once SIGKILL is sent (not once
 * the group is gone).
 *
 * @param pgid the group's id, above 1
 * @param graceMs how long members may take to exit after SIGTERM
 * @param groups the signaller to use; without one, each signal or check spawns a one-off shell
 * @throws {RangeError} when `groups` is given and `pgid` is not an integer above 1
 */
export async function terminateGroup(
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

async function readStartTime(pid: number): Promise<number | null> {
  try {
    const { stdout } = await new Deno.Command("/bin/sh", {
      args: ["-c", START_TIME_SCRIPT, "sh", String(pid)],
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return parseStartTime(new TextDecoder().decode(stdout).trim());
  } catch {
    return null;
  }
}

function parseStartTime(answer: string): number | null {
  if (!/^\d{1,15}$/.test(answer)) return null;
  return Number(answer);
}

/** Without a {@linkcode GroupSignaller}: a shell per request. */
const ONE_OFF_SHELLS: Pick<GroupSignaller, "signal" | "alive" | "startTime"> = {
  signal: signalGroup,
  alive: groupAlive,
  startTime: readStartTime,
};

/**
 * When a process started (see {@linkcode GroupSignaller.startTime}).
 *
 * @param pid a process id, above 1
 * @param groups the signaller to ask; without one, a one-off shell
 * @returns clock ticks since boot, or null when there is no such process or no /proc
 * @example
 * ```ts
 * import { processStartTime } from "./group_signaller.ts";
 * console.assert((await processStartTime(Deno.pid, undefined) ?? 0) > 0);
 * ```
 */
export async function processStartTime(
  pid: number,
  groups: GroupSignaller | undefined,
): Promise<number | null> {
  return await (groups ?? ONE_OFF_SHELLS).startTime(pid);
}

/**
 * Start nothing yet: a {@linkcode GroupSignaller} whose shell starts on first use.
 * Pass it as `groups` to every `runHook` call of a long-running dispatcher,
 * and close it (or `await using`) once those runs are over.
 *
 * The shell is a child of this process in this process's own group, never in a hook's,
 * so signalling a hook's group cannot reach it.
 *
 * @returns the signaller
 * @example
 * ```ts
 * import { createGroupSignaller } from "./group_signaller.ts";
 * import { runHook } from "./hook_runner.ts";
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
  const ask = async <T>(
    request: string,
    parse: (line: string) => T | undefined,
    fallback: () => Promise<T>,
  ): Promise<T> => {
    if (closed) return await fallback();
    if (shell === undefined || shell.broken) {
      // A dead shell is replaced; it is waited for first so that nothing leaks.
      await shell?.stopped;
      if (closed) return await fallback();
      if (shell === undefined || shell.broken) shell = startSignallerShell();
    }
    const line = await shell.ask(request);
    const answer = line === undefined ? undefined : parse(line);
    return answer === undefined ? await fallback() : answer;
  };
  return {
    signal(pgid, name) {
      checkPgid(pgid);
      return ask(
        `${name === "KILL" ? "kill" : "term"} ${pgid}`,
        exitStatus,
        () => signalGroup(pgid, name),
      );
    },
    alive(pgid) {
      checkPgid(pgid);
      return ask(`alive ${pgid}`, exitStatus, () => groupAlive(pgid));
    },
    startTime(pid) {
      checkPgid(pid);
      return ask(`start ${pid}`, parseStartTime, () => readStartTime(pid));
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

/** An exit status as a boolean; anything else is no answer. */
function exitStatus(line: string): boolean | undefined {
  return line === "0" ? true : line === "1" ? false : undefined;
}

/** A pgid of 0 or 1 would signal hookd's own group or every process. */
function checkPgid(pgid: number): void {
  if (!Number.isSafeInteger(pgid) || pgid < 2) {
    throw new RangeError(`GroupSignaller: pgid must be an integer above 1: got ${pgid}`);
  }
}

interface SignallerShell {
  /** The answer line, or undefined when the shell could not give one (then ask a one-off shell). */
  ask(request: string): Promise<string | undefined>;
  /** True once the shell stopped answering. */
  readonly broken: boolean;
  /** Resolves once the shell has exited and its pipes are closed. */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

function startSignallerShell(): SignallerShell {
  const pending: ((answer: string | undefined) => void)[] = [];
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
          resolve(line);
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
      const { promise, resolve } = Promise.withResolvers<string | undefined>();
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
