/**
 * Long-lived `bash` processes that start hooks, one per hook slot, so that a
 * hook costs a fork of a small shell instead of a spawn from the daemon.
 *
 * Why: Deno spawns by forking the whole daemon on its event loop
 * (`op_spawn_child`, about a third of the daemon's time per hook in the
 * benchmark), and a process group of the hook's own needs one more exec
 * (`setsid`). A launcher is forked once; for each hook it forks a subshell
 * that becomes a process group of its own (`set -m`: bash's job control works
 * without a terminal, dash's does not), sets the environment, redirects
 * stdin and the output files and execs the program. The fork and exec run in
 * the launcher, off the daemon's event loop, on whichever core is free.
 *
 * Safety: nothing from a payload or a header is parsed by the shell. The
 * daemon writes one line per hook, the path of a job file it created
 * (`hookd-job-` and 32 hex digits); the job file holds `NAME=VALUE` records
 * and then the argv, NUL-separated, which bash reads as data (`read -r -d ''`,
 * `mapfile -d ''`), exports (`export -- "$kv"`, no evaluation) and execs.
 * Names are checked here ({@linkcode isSafeName}) before a job is written.
 *
 * The launcher tells the daemon `S <pid> <start time>` once the hook's group
 * exists (its id is the pid; the start time, field 22 of `/proc/<pid>/stat`,
 * lets a later start tell it from a recycled pid) and `E <status> <out> <err>`
 * once it ended and whatever it left in its group got SIGKILL, where status is
 * bash's `$?` (128 + N for a hook killed by signal N) and out and err are 1 when
 * the hook wrote to stdout or stderr, so that empty output files are not read.
 *
 * @module
 */

/** The launcher script; `$0` is unused. */
const SCRIPT = String.raw`
hookd_umask=$(umask)
umask 077
trap '' INT TERM HUP
set -m -f
while IFS= read -r job; do
  (
    trap - INT TERM HUP
    unset -v PWD OLDPWD SHLVL
    while IFS= read -r -d '' kv && [[ -n $kv ]]; do export -- "$kv"; done
    mapfile -t -d '' argv
    exec <"$HOOKD_PAYLOAD_FILE" >>"$job.out" 2>>"$job.err" || exit 126
    umask "$hookd_umask"
    exec -- "${"$"}{argv[@]}"
  ) <"$job" &
  pid=$!
  st=
  read -r st <"/proc/$pid/stat" 2>/dev/null
  # The fields after the command name; the start time is the 20th of them.
  set -- ${"$"}{st##*) }
  printf 'S %s %s\n' "$pid" "${"$"}{20}"
  wait "$pid"
  s=$?
  # A job that stopped (128 + SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU, and still there)
  # is waited on, pausing on stdin, where nothing comes while a hook runs; EOF there
  # means hookd is gone. (Not wait -f: bash 5.2's loops forever when the job is no
  # longer in its table.)
  while (( s > 146 && s < 151 )) && kill -0 "$pid" 2>/dev/null; do
    IFS= read -r -t 0.1 _
    (( $? > 128 )) || exit 0
    wait "$pid"
    s=$?
  done
  # The hook is gone: whatever it left in its group goes too, at once.
  kill -KILL -- "-$pid" 2>/dev/null
  o=0 e=0
  [[ -s $job.out ]] && o=1
  [[ -s $job.err ]] && e=1
  printf 'E %s %s %s\n' "$s" "$o" "$e"
done
`;

/** Where bash is looked for; without it hooks are started with `setsid` as before. */
const BASH_CANDIDATES = ["/bin/bash", "/usr/bin/bash"];

/**
 * util-linux's chrt starts each launcher under SCHED_BATCH, which its hooks
 * inherit: the same CPU share, but a launcher woken by the daemon's write does
 * not preempt the daemon on its core (measured: the write that hands a hook to
 * a launcher cost the event loop ~400 µs under the default policy, ~25 µs under
 * SCHED_BATCH; hooks/s +12% in the benchmark). Without chrt, or where it may
 * not change the policy, bash runs as is.
 */
const CHRT = "/usr/bin/chrt";

/** An environment variable name bash exports as given. */
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Whether `name` can be handed to the launcher: a plain identifier.
 *
 * @param name an environment variable name
 * @returns true for `[A-Za-z_][A-Za-z0-9_]*`
 */
export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name);
}

/** One hook for a launcher: files the daemon created. */
export interface LaunchJob {
  /** The job file: `NAME=VALUE\0`…`\0` then `ARG\0`…; its path ends in 32 hex digits. */
  jobFile: string;
}

/** A hook a launcher started. */
export interface LaunchedJob {
  /**
   * The hook's process group id (its leader's pid) and the leader's start time
   * (clock ticks since boot; null when the leader was gone before it was read).
   * Rejects when the launcher died first.
   */
  started: Promise<{ pgid: number; leaderStartTime: number | null }>;
  /**
   * How the hook ended, once what it left in its group got SIGKILL: bash's `$?`
   * (its exit code, or 128 + N for signal N) and whether it wrote to stdout and
   * stderr. Rejects when the launcher died first.
   */
  status: Promise<LaunchedEnd>;
}

/** How a launched hook ended. */
export interface LaunchedEnd {
  /** bash's `$?`: the exit code, or 128 + N for a hook killed by signal N. */
  status: number;
  /** The hook wrote something to stdout. */
  wroteStdout: boolean;
  /** The hook wrote something to stderr. */
  wroteStderr: boolean;
}

/** Launchers for hooks, one per hook running at once. */
export interface LauncherPool {
  /**
   * Start a hook on an idle launcher (a new one when none is idle). The job's
   * output goes to `JOBFILE.out` and `JOBFILE.err`, its stdin is the file named
   * by `HOOKD_PAYLOAD_FILE` in the job's environment.
   *
   * @param job the job file
   * @returns the started hook
   * @throws {Error} when the pool is closed
   */
  launch(job: LaunchJob): LaunchedJob;
  /** The launchers' pids, for tests and for counting. */
  pids(): number[];
  /** End every launcher: idle ones at once, busy ones once their hook ended. */
  close(): Promise<void>;
}

/** Options for {@linkcode createLauncherPool}. */
export interface LauncherPoolOptions {
  /** The bash to use; default the first of `/bin/bash`, `/usr/bin/bash` that exists. */
  bash?: string;
}

/**
 * A pool of launchers, or null when there is no bash (hooks are then started
 * with `setsid`). Launchers start on first use; each lives until
 * {@linkcode LauncherPool.close} or until the daemon's end closes its stdin.
 *
 * @param options which bash
 * @returns the pool, or null without bash
 * @example
 * ```ts
 * import { createLauncherPool } from "./launcher.ts";
 *
 * const pool = createLauncherPool();
 * await pool?.close();
 * ```
 */
export function createLauncherPool(options: LauncherPoolOptions = {}): LauncherPool | null {
  const bash = options.bash ?? BASH_CANDIDATES.find(isExecutable);
  if (bash === undefined || !isExecutable(bash)) return null;
  return new Pool(batchWorks() ? [CHRT, "--batch", "0", bash] : [bash]);
}

let batchChecked: boolean | undefined;

/** chrt is there and may set SCHED_BATCH (a seccomp filter could refuse it); asked once. */
function batchWorks(): boolean {
  batchChecked ??= checkBatch();
  return batchChecked;
}

function checkBatch(): boolean {
  if (!isExecutable(CHRT)) return false;
  try {
    return new Deno.Command(CHRT, {
      args: ["--batch", "0", "/bin/true"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

class Pool implements LauncherPool {
  #bash: string[];
  #idle: Launcher[] = [];
  #all = new Set<Launcher>();
  #closed = false;

  constructor(bash: string[]) {
    this.#bash = bash;
  }

  launch(job: LaunchJob): LaunchedJob {
    if (this.#closed) throw new Error("The hook launchers are closed");
    let attempt = this.#runOnIdle(job);
    // A launcher that died while idle (killed, out of memory) is only noticed
    // when it is given a hook: that hook never started, so it goes to a new one.
    const started = attempt.started.catch((error) => {
      if (!(error instanceof NotStartedError) || this.#closed) throw error;
      attempt = this.#runOnIdle(job);
      return attempt.started;
    });
    const status = started.then(() => attempt.status);
    started.catch(() => {});
    status.catch(() => {});
    return { started, status };
  }

  #runOnIdle(job: LaunchJob): LaunchedJob {
    let launcher = this.#idle.pop();
    while (launcher && !launcher.alive) launcher = this.#idle.pop();
    if (!launcher) {
      launcher = new Launcher(this.#bash);
      this.#all.add(launcher);
      launcher.ended.then(() => this.#all.delete(launcher!));
    }
    const chosen = launcher;
    const launched = chosen.run(job.jobFile);
    launched.status.then(
      () => {
        if (this.#closed) chosen.close();
        else if (chosen.alive) this.#idle.push(chosen);
      },
      () => {},
    );
    return launched;
  }

  pids(): number[] {
    return [...this.#all].map((launcher) => launcher.pid);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const launcher of this.#idle) launcher.close();
    this.#idle = [];
    await Promise.all([...this.#all].map((launcher) => launcher.ended));
  }
}

const encoder = new TextEncoder();

/** One bash running {@linkcode SCRIPT}; one hook at a time. */
class Launcher {
  readonly pid: number;
  readonly ended: Promise<void>;
  alive = true;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Waiting for a line; lines that came first wait in `#unread`. */
  #lines: ((line: string | null) => void)[] = [];
  #unread: string[] = [];
  #busy = false;
  #closing = false;

  /** @param bash the command that starts bash: its path, perhaps after chrt's arguments */
  constructor(bash: string[]) {
    this.#child = new Deno.Command(bash[0], {
      // `$0` is "bash", so that its messages read as any bash's.
      args: [...bash.slice(1), "-c", SCRIPT, "bash"],
      // Nothing of its own reaches a hook: the script uses built-ins only, and
      // bash exports nothing but PWD, OLDPWD and SHLVL, which each hook unsets.
      clearEnv: true,
      env: {},
      stdin: "piped",
      stdout: "piped",
      // bash reports its jobs there ("Killed", "Done"); the hooks' own output goes to files.
      stderr: "null",
    }).spawn();
    this.pid = this.#child.pid;
    this.#writer = this.#child.stdin.getWriter();
    this.ended = Promise.all([this.#readLines(), this.#child.status]).then(() => {
      this.alive = false;
    }, () => {
      this.alive = false;
    });
  }

  run(jobFile: string): LaunchedJob {
    if (this.#busy) throw new Error("A launcher runs one hook at a time");
    this.#busy = true;
    const started = this.#next().then((line) => {
      if (line === null) throw new NotStartedError();
      if (!line.startsWith("S ")) throw launcherGone(line);
      return parseStarted(line);
    });
    const status = started.then(() => this.#next()).then((line) => {
      if (line === null || !line.startsWith("E ")) throw new HookInterruptedError(line);
      this.#busy = false;
      const [, status, out, err] = line.split(" ");
      return { status: Number(status), wroteStdout: out !== "0", wroteStderr: err !== "0" };
    });
    started.catch(() => {});
    status.catch(() => {});
    this.#writer.write(encoder.encode(`${jobFile}\n`)).catch(() => {});
    return { started, status };
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#writer.close().catch(() => {});
  }

  #next(): Promise<string | null> {
    return new Promise((resolve) => {
      if (this.#unread.length > 0) resolve(this.#unread.shift()!);
      else if (!this.alive) resolve(null);
      else this.#lines.push(resolve);
    });
  }

  async #readLines(): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    try {
      for await (const chunk of this.#child.stdout) {
        pending += decoder.decode(chunk, { stream: true });
        for (let at = pending.indexOf("\n"); at >= 0; at = pending.indexOf("\n")) {
          const line = pending.slice(0, at);
          pending = pending.slice(at + 1);
          // `S` and `E` may come in one read, before the `E` is waited for.
          const waiting = this.#lines.shift();
          if (waiting) waiting(line);
          else this.#unread.push(line);
        }
      }
    } finally {
      this.alive = false;
      for (const resolve of this.#lines.splice(0)) resolve(null);
    }
  }
}

/**
 * The launcher ended (or said something unexpected) after it started the hook and
 * before it reported its end: the hook ran, for an unknown part of its course.
 */
export class HookInterruptedError extends Error {
  /** @param line what the launcher said instead of the end, null for nothing */
  constructor(line: string | null) {
    super(
      line === null
        ? "the hook launcher (bash) ended while the hook ran"
        : `the hook launcher (bash) said something unexpected while the hook ran: ${
          line.slice(0, 80)
        }`,
    );
    this.name = "HookInterruptedError";
  }
}

/** The launcher ended before it said it started the hook: the hook did not run. */
class NotStartedError extends Error {
  constructor() {
    super("The hook launcher (bash) ended before it started the hook");
  }
}

function launcherGone(line: string | null): Error {
  return new Error(
    line === null
      ? "The hook launcher (bash) ended unexpectedly"
      : `The hook launcher (bash) said something unexpected: ${line.slice(0, 80)}`,
  );
}

/** `S <pid> <start time>`; the start time is empty when the hook was gone before it was read. */
function parseStarted(line: string): { pgid: number; leaderStartTime: number | null } {
  const [, pid, startTime] = line.split(" ");
  const pgid = Number(pid);
  if (!Number.isSafeInteger(pgid) || pgid < 2) throw launcherGone(line);
  const ticks = Number(startTime);
  return {
    pgid,
    leaderStartTime: startTime !== "" && Number.isSafeInteger(ticks) ? ticks : null,
  };
}
