/**
 * When a process started: field 22 of `/proc/<pid>/stat`, clock ticks since
 * boot. With the pid it names one process for good (a recycled pid gets a new
 * start time), which is how the next start tells a crashed daemon's hook
 * group from an unrelated process that reuses its id.
 *
 * Deno refuses every path under `/proc` to a process without `--allow-all`
 * (an unrestricted `--allow-run` is not enough), so the field is read by a
 * `/bin/sh` with its `read` built-in: a {@linkcode StartTimeReader} keeps one
 * such shell for many reads (a line on a pipe per read, no fork), and
 * {@linkcode processStartTime} without one spawns a shell for the read.
 *
 * @module
 */

/**
 * A long-lived `/bin/sh` that reads processes' start times with its built-ins.
 * It starts on first use and answers in order; while it is not running (not
 * yet, closed, or it died) every read spawns a one-off shell, so a read is
 * never lost.
 */
export interface StartTimeReader extends AsyncDisposable {
  /**
   * The start time of a process.
   *
   * @param pid a process id, an integer above 1
   * @returns clock ticks since boot, or null when there is no such process,
   *   no /proc, or the answer could not be had
   * @throws {RangeError} when `pid` is not an integer above 1
   */
  read(pid: number): Promise<number | null>;
  /**
   * The helper shell's pid while one runs and answers; `undefined` before
   * the first read, once closed, or after it died (until the next read).
   */
  readonly pid: number | undefined;
  /** Stop the shell and wait for it; later reads spawn one-off shells. */
  close(): Promise<void>;
}

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

/** One pid per line in, one answer per line out; built-ins only, so a read forks nothing. */
const READER_SCRIPT = `${START_TIME_FUNCTION}
while read -r pid; do start_time "$pid"; done`;

/**
 * When a process started (see {@linkcode StartTimeReader.read}).
 *
 * @param pid a process id, an integer above 1
 * @param reader the reader to ask; without one, a one-off shell
 * @returns clock ticks since boot, or null when there is no such process or no /proc
 * @throws {RangeError} when `pid` is not an integer above 1
 * @example
 * ```ts
 * import { processStartTime } from "./start_time.ts";
 * console.assert((await processStartTime(Deno.pid) ?? 0) > 0);
 * ```
 */
export async function processStartTime(
  pid: number,
  reader?: StartTimeReader,
): Promise<number | null> {
  if (reader !== undefined) return await reader.read(pid);
  checkPid(pid);
  return await readOnce(pid);
}

/**
 * Start nothing yet: a {@linkcode StartTimeReader} whose shell starts on first
 * read. Close it (or `await using`) once its reads are over.
 *
 * The shell is a child of this process in this process's own group, never in
 * a hook's, so signalling a hook's group cannot reach it.
 *
 * @returns the reader
 * @example
 * ```ts
 * import { createStartTimeReader } from "./start_time.ts";
 *
 * await using reader = createStartTimeReader();
 * console.assert((await reader.read(Deno.pid) ?? 0) > 0);
 * ```
 */
export function createStartTimeReader(): StartTimeReader {
  let shell: ReaderShell | undefined;
  let closed = false;
  return {
    async read(pid) {
      checkPid(pid);
      if (closed) return await readOnce(pid);
      if (shell === undefined || shell.broken) {
        // A dead shell is replaced; it is waited for first so that nothing leaks.
        await shell?.stopped;
        if (closed) return await readOnce(pid);
        if (shell === undefined || shell.broken) shell = startReaderShell();
      }
      const line = await shell.ask(String(pid));
      return line === undefined ? await readOnce(pid) : parseStartTime(line);
    },
    get pid() {
      return closed || shell === undefined || shell.broken ? undefined : shell.pid;
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

async function readOnce(pid: number): Promise<number | null> {
  try {
    const { stdout } = await new Deno.Command("/bin/sh", {
      args: ["-c", `${START_TIME_FUNCTION}\nstart_time "$1"`, "sh", String(pid)],
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

function checkPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid < 2) {
    throw new RangeError(`StartTimeReader: pid must be an integer above 1: got ${pid}`);
  }
}

interface ReaderShell {
  /** The answer line, or undefined when the shell could not give one (then ask a one-off shell). */
  ask(request: string): Promise<string | undefined>;
  /** True once the shell stopped answering. */
  readonly broken: boolean;
  /** The shell's process id (0 when it could not be started). */
  readonly pid: number;
  /** Resolves once the shell has exited and its pipes are closed. */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

function startReaderShell(): ReaderShell {
  const pending: ((answer: string | undefined) => void)[] = [];
  let broken = false;
  const fail = () => {
    broken = true;
    for (const resolve of pending.splice(0)) resolve(undefined);
  };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/bin/sh", {
      args: ["-c", READER_SCRIPT],
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
      pid: 0,
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
    pid: child.pid,
    stopped,
    async close() {
      await writer.close().catch(() => {});
      await stopped;
    },
  };
}
