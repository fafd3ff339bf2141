/**
 * The C library calls hooks are started and supervised with, through Deno's
 * FFI, private to `lib/dispatch/`.
 *
 * Why not `Deno.Command`: it forks the whole daemon for every hook, and
 * copying a busy daemon's page tables cost about 12 ms of CPU per hook on a
 * virtual machine (issue 20). glibc's `posix_spawn` uses
 * `clone(CLONE_VM|CLONE_VFORK)`: nothing is copied, the child execs at once.
 * The spawn and `poll` run on Deno's blocking threads (`nonblocking: true`);
 * reads and writes go to pipe ends set `O_NONBLOCK`, so they never wait.
 *
 * @module
 */

/** The symbols used; glibc 2.36 and Linux 5.3 (pidfd_open) have all of them. */
const SYMBOLS = {
  posix_spawn: {
    parameters: ["buffer", "pointer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  sigfillset: { parameters: ["buffer"], result: "i32" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  pidfd_open: { parameters: ["i32", "u32"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

// glibc on Linux (x86_64 and aarch64 share these values).
const [POSIX_SPAWN_SETSIGDEF, POSIX_SPAWN_SETSIGMASK, POSIX_SPAWN_SETSID] = [0x04, 0x08, 0x80];
const [O_NONBLOCK, O_CLOEXEC, F_SETFL, WNOHANG, POLLIN, POLLOUT] = [0o4000, 0o2000000, 4, 1, 1, 4];
const [ENOENT, ENOEXEC, EAGAIN, ENOTDIR] = [2, 8, 11, 20];
/** Larger than glibc's posix_spawnattr_t (336), posix_spawn_file_actions_t (80), sigset_t (128). */
const OPAQUE_BYTES = 512;

let loaded: { libc: Libc } | { problem: string } | undefined;

function libc(): Libc {
  const state = load();
  if ("problem" in state) throw new Error(state.problem);
  return state.libc;
}

function load(): { libc: Libc } | { problem: string } {
  if (loaded === undefined) {
    try {
      loaded = { libc: Deno.dlopen("libc.so.6", SYMBOLS).symbols };
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      loaded = {
        problem: `Cannot load the C library's posix_spawn, which starts every hook ` +
          `(hookd needs glibc 2.36+, Linux 5.3+ and --allow-ffi): ${why}`,
      };
    }
  }
  return loaded;
}

/**
 * Why hooks cannot be started here, or null when they can: `hookd check` and
 * the daemon's start say it before any hook runs.
 *
 * @returns a sentence naming what is missing, or null
 */
export function spawnProblem(): string | null {
  const state = load();
  return "problem" in state ? state.problem : null;
}

/** The calling thread's errno, just after a synchronous call that failed. */
function errno(): number {
  return new Deno.UnsafePointerView(libc().__errno_location()!).getInt32();
}

/** The C library's message for an error number, e.g. "Permission denied". */
function describeErrno(code: number): string {
  const message = libc().strerror(code);
  return message === null ? `error ${code}` : Deno.UnsafePointerView.getCString(message);
}

/** A started hook: its pid (also its session and group id) and the parent's ends of its pipes. */
export interface Spawned {
  pid: number;
  /** Pollable; readable once the hook exited. */
  pidfd: number;
  stdin: number;
  stdout: number;
  stderr: number;
}

/** A program that exec refused, with the status and words `sh` gives it (127 not found, 126 else). */
export class SpawnError extends Error {
  readonly exitCode: 126 | 127;
  /** @param program what was to be executed; @param code the errno exec reported */
  constructor(program: string, code: number) {
    super(`${program}: ${code === ENOENT ? "not found" : describeErrno(code)}`);
    this.exitCode = code === ENOENT ? 127 : 126;
  }
}

const encoder = new TextEncoder();

/**
 * Copies of C strings in one off-heap block (V8 may move a small typed array
 * during a garbage collection, which a blocking thread may be reading), and
 * NUL-terminated pointer arrays into it.
 */
class CStrings {
  #block: Uint8Array;
  #base: bigint;
  #used = 0;

  constructor(strings: readonly string[]) {
    const bytes = strings.reduce((sum, text) => sum + encoder.encode(text).byteLength + 1, 0);
    this.#block = new Uint8Array(Math.max(bytes, OPAQUE_BYTES));
    this.#base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#block)));
  }

  /** The address of a copy of `text`. */
  add(text: string): bigint {
    if (text.includes("\0")) throw new TypeError("an argument or environment value holds a NUL");
    const { written } = encoder.encodeInto(text, this.#block.subarray(this.#used));
    const at = this.#used;
    this.#block[at + written] = 0;
    this.#used += written + 1;
    return this.#base + BigInt(at);
  }

  /** A pointer to a copy of `text`. */
  pointer(text: string): Deno.PointerValue {
    return Deno.UnsafePointer.create(this.add(text));
  }

  /** A NUL-terminated array of pointers to copies of `texts`. */
  array(texts: readonly string[]): BigUint64Array {
    const pointers = new BigUint64Array(Math.max(texts.length + 1, OPAQUE_BYTES / 8));
    texts.forEach((text, i) => pointers[i] = this.add(text));
    return pointers;
  }
}

/**
 * Start `argv` in a new session (so a process group of its own, pid = pgid),
 * with exactly `env`, every signal at its default action and none blocked,
 * stdin, stdout and stderr on new pipes. A program name without `/` is looked
 * up in `env.PATH` as `execvp` does (default `/bin:/usr/bin`); a file that is
 * not a binary nor starts with `#!` runs under `/bin/sh`, as `execvp` does.
 *
 * @param argv the program and its arguments
 * @param env the whole environment
 * @returns the hook and the parent's (non-blocking) ends of its pipes
 * @throws {SpawnError} when the program cannot be executed (nothing is left open)
 * @throws {TypeError} when a string holds a NUL byte
 */
export async function spawn(
  argv: readonly string[],
  env: Record<string, string>,
): Promise<Spawned> {
  const c = libc();
  const [program] = argv;
  const candidates = program.includes("/")
    ? [program]
    : (env.PATH ?? "/bin:/usr/bin").split(":").map((dir) => `${dir || "."}/${program}`);
  const envStrings = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const strings = new CStrings([
    ...envStrings,
    ...candidates.flatMap((path) => [path, path, "/bin/sh", "/bin/sh", ...argv, ...argv]),
  ]);
  const envp = strings.array(envStrings);
  const pipes = [pipe(), pipe(), pipe()];
  const actions = new Uint8Array(OPAQUE_BYTES);
  const attr = new Uint8Array(OPAQUE_BYTES);
  const signals = new Uint8Array(OPAQUE_BYTES);
  c.posix_spawn_file_actions_init(actions);
  c.posix_spawnattr_init(attr);
  let started: number | undefined;
  try {
    // The child's ends become 0, 1 and 2 (dup2 clears O_CLOEXEC); every other fd closes on exec.
    c.posix_spawn_file_actions_adddup2(actions, pipes[0][0], 0);
    c.posix_spawn_file_actions_adddup2(actions, pipes[1][1], 1);
    c.posix_spawn_file_actions_adddup2(actions, pipes[2][1], 2);
    // Deno ignores SIGPIPE, and an ignored signal stays ignored across exec: reset them all.
    c.sigfillset(signals);
    c.posix_spawnattr_setsigdefault(attr, signals);
    c.sigemptyset(signals);
    c.posix_spawnattr_setsigmask(attr, signals);
    c.posix_spawnattr_setflags(
      attr,
      POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK,
    );
    const pid = new Int32Array(OPAQUE_BYTES / 4);
    // As execvp: a name found but not executable is reported unless found executable later.
    let failure = ENOENT;
    for (const path of candidates) {
      let code = await c.posix_spawn(
        pid,
        strings.pointer(path),
        actions,
        attr,
        strings.array(argv),
        envp,
      );
      if (code === ENOEXEC) {
        // As execvp: a file that is neither a binary nor a `#!` script is run by /bin/sh.
        const args = strings.array(["/bin/sh", path, ...argv.slice(1)]);
        code = await c.posix_spawn(pid, strings.pointer("/bin/sh"), actions, attr, args, envp);
      }
      if (code === 0) {
        started = pid[0];
        break;
      }
      if (candidates.length === 1 || (code !== ENOENT && code !== ENOTDIR)) failure = code;
    }
    if (started === undefined) throw new SpawnError(program, failure);
    const pidfd = c.pidfd_open(started, 0);
    if (pidfd < 0) {
      const why = describeErrno(errno());
      Deno.kill(-started, "SIGKILL");
      c.waitpid(started, pid, 0);
      throw new Error(`pidfd_open: ${why} (hookd needs Linux 5.3 or later)`);
    }
    for (const fd of [pipes[0][1], pipes[1][0], pipes[2][0]]) c.fcntl(fd, F_SETFL, O_NONBLOCK);
    return { pid: started, pidfd, stdin: pipes[0][1], stdout: pipes[1][0], stderr: pipes[2][0] };
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
    c.posix_spawnattr_destroy(attr);
    // The hook's ends are its own now; on failure the daemon's go too.
    for (const [end, fd] of pipes.flat().entries()) {
      if (started === undefined || end === 0 || end === 3 || end === 5) c.close(fd);
    }
  }
}

function pipe(): [number, number] {
  const fds = new Int32Array(2);
  if (libc().pipe2(fds, O_CLOEXEC) !== 0) throw new Error(`pipe2: ${describeErrno(errno())}`);
  return [fds[0], fds[1]];
}

/**
 * Read what a non-blocking fd has now into `buffer`.
 *
 * @returns bytes read, 0 at end of file, -1 when nothing is there yet
 */
export function readSome(fd: number, buffer: Uint8Array): number {
  const n = Number(libc().read(fd, buffer, BigInt(buffer.byteLength)));
  if (n >= 0) return n;
  // Anything but "nothing yet" (EBADF, EIO) ends the stream.
  return errno() === EAGAIN ? -1 : 0;
}

/**
 * Write what a non-blocking fd takes now.
 *
 * @returns bytes written, -1 when the pipe is full, null when the reader is gone (EPIPE)
 */
export function writeSome(fd: number, bytes: Uint8Array): number | null {
  const n = Number(libc().write(fd, bytes, BigInt(bytes.byteLength)));
  if (n >= 0) return n;
  return errno() === EAGAIN ? -1 : null;
}

/** Close an fd this module returned. */
export function closeFd(fd: number): void {
  libc().close(fd);
}

/**
 * Wait, on a blocking thread, until one of `fds` is ready or `timeoutMs` passed.
 *
 * @param fds the fds with `"in"` (readable, or hung up) or `"out"` (writable)
 * @returns for each fd, whether it is ready
 */
export async function pollFds(
  fds: readonly { fd: number; want: "in" | "out" }[],
  timeoutMs: number,
): Promise<boolean[]> {
  // Off-heap (see CStrings): a blocking thread fills it in.
  const table = new Int16Array(Math.max(fds.length * 4, OPAQUE_BYTES / 2));
  const view = new Int32Array(table.buffer);
  fds.forEach(({ fd, want }, i) => {
    view[i * 2] = fd;
    table[i * 4 + 2] = want === "in" ? POLLIN : POLLOUT;
  });
  await libc().poll(table, BigInt(fds.length), timeoutMs);
  return fds.map((_, i) => table[i * 4 + 3] !== 0);
}

/**
 * Reap the hook if it has exited.
 *
 * @param pid the hook's pid
 * @returns its exit code or signal number, or null while it runs
 */
export function reap(pid: number): { code: number | null; signal: number | null } | null {
  const status = new Int32Array(1);
  if (libc().waitpid(pid, status, WNOHANG) !== pid) return null;
  const termSignal = status[0] & 0x7f;
  return termSignal === 0
    ? { code: (status[0] >> 8) & 0xff, signal: null }
    : { code: null, signal: termSignal };
}

/** Linux's signal names by number (x86, arm). */
const SIGNAL_NAMES = (
  "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT " +
  "STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS"
).split(" ");

/**
 * A signal's name, as `Deno.Command` reports it.
 *
 * @param signal a signal number
 * @returns e.g. `"SIGKILL"`, or `"SIG<n>"` for a real-time signal
 */
export function signalName(signal: number): string {
  return `SIG${SIGNAL_NAMES[signal - 1] ?? signal}`;
}
