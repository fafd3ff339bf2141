/**
 * Following the daemon's log file the way `tail -F` does, across rotation.
 * Private to `lib/cli/`. Woken by `Deno.watchFs` on the file's directory (the
 * directory, because rotation replaces the file), backed by a look every few
 * seconds: inotify says nothing on network file systems, and the watch may
 * not be had at all (the per-user inotify limit).
 *
 * @module
 */

import { dirname } from "node:path";

/** Options for {@linkcode followLogLines}. */
export interface FollowLogOptions {
  /** Lines already in the file to give first: the last this many (after `keep`). Default 0. */
  last?: number;
  /** Which existing lines count for `last`; default all. */
  keep?: (line: string) => boolean;
  /** Stop following. */
  signal?: AbortSignal;
  /** Called once the file is open and read to its end, before any line is given. */
  onReady?: () => void | Promise<void>;
  /** The look that backs up the watch, ms; default 5000 (1000 without a watch). */
  recheckMs?: number;
}

/** The log file cannot be read: why, in one sentence naming the path and the fix. */
export class LogUnreadableError extends Error {
  /** @param cause the error `open` or `stat` threw */
  constructor(path: string, cause: unknown) {
    const denied = cause instanceof Deno.errors.PermissionDenied;
    const missing = cause instanceof Deno.errors.NotFound;
    super(
      denied
        ? `cannot read the log file ${path}: permission denied. Its directory is 0750, owned by ` +
          "the hookd user: run hookd tail as root (sudo) or as a member of group hookd " +
          "(usermod -aG hookd $USER, then log in again)"
        : missing
        ? `no log file at ${path}: pass the daemon's env file (--env-file /etc/hookd/hookd.env) ` +
          "so that HOOKD_LOG_FILE is the daemon's, or start the daemon once to create it"
        : `cannot read the log file ${path}: ${cause instanceof Error ? cause.message : cause}`,
      { cause },
    );
    this.name = "LogUnreadableError";
  }
}

const CHUNK = 64 * 1024;

/**
 * The log file's lines: the last `options.last` already there, then each new
 * one as it is written, until `options.signal` fires. A line still being
 * written (no newline yet) waits for its end. When the file at the path is
 * replaced (another inode) the rest of the old one is read first; when it
 * shrinks (emptied) reading starts again at its beginning.
 *
 * @param options how many lines to start with, and the stop signal
 * @returns the lines, without their newlines
 * @throws {LogUnreadableError} when the file cannot be opened at the start
 */
export async function* followLogLines(
  path: string,
  options: FollowLogOptions = {},
): AsyncGenerator<string> {
  const signal = options.signal ?? new AbortController().signal;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new LogUnreadableError(path, error);
  }
  const wake = watchDirectory(dirname(path), signal);
  const recheckMs = options.recheckMs ?? (wake.watching ? 5000 : 1000);
  try {
    let ino = (await file.stat()).ino;
    let position = 0;
    let partial = "";
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(CHUNK);

    /** Reads from `position` to the end of `file`; returns the complete lines. */
    const readToEnd = async (): Promise<string[]> => {
      const lines: string[] = [];
      await file.seek(position, Deno.SeekMode.Start);
      for (;;) {
        const n = await file.read(buffer);
        if (n === null || n === 0) break;
        position += n;
        const parts = (partial + decoder.decode(buffer.subarray(0, n), { stream: true }))
          .split("\n");
        partial = parts.pop() ?? "";
        lines.push(...parts.filter((line) => line !== ""));
      }
      return lines;
    };

    const first = await readToEnd();
    await options.onReady?.();
    const keep = options.keep ?? (() => true);
    const last = options.last ?? 0;
    yield* last > 0 ? first.filter(keep).slice(-last) : [];

    while (!signal.aborted) {
      await wake.next(recheckMs);
      if (signal.aborted) break;
      yield* await readToEnd();
      const now = await Deno.stat(path).catch((error) => {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      });
      if (now === null) continue; // Between the rename and the new file: wait for it.
      if (now.ino !== ino) {
        // Rotated: the old file may have gained lines since the read above.
        yield* await readToEnd();
        let next: Deno.FsFile;
        try {
          next = await Deno.open(path, { read: true });
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) continue;
          throw new LogUnreadableError(path, error);
        }
        file.close();
        file = next;
        ino = (await file.stat()).ino;
      } else if (now.size >= position) {
        continue;
      }
      // A new file, or this one emptied in place (one file kept): what is there now is new.
      position = 0;
      partial = "";
      yield* await readToEnd();
    }
  } finally {
    file.close();
    wake.close();
  }
}

/** Something changed in the directory, or `ms` passed, or the signal fired. */
function watchDirectory(dir: string, signal: AbortSignal) {
  let watcher: Deno.FsWatcher | undefined;
  try {
    watcher = Deno.watchFs(dir, { recursive: false });
  } catch {
    // No watch (inotify limit, an odd file system): the timed look alone.
  }
  let changed = false;
  let waiter: (() => void) | undefined;
  const wakeUp = () => {
    changed = true;
    waiter?.();
  };
  signal.addEventListener("abort", wakeUp, { once: true });
  if (watcher) {
    (async () => {
      try {
        for await (const _ of watcher) wakeUp();
      } catch {
        // Closed.
      }
    })();
  }
  return {
    watching: watcher !== undefined,
    async next(ms: number): Promise<void> {
      if (changed) {
        changed = false;
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        waiter = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      waiter = undefined;
      changed = false;
    },
    close() {
      signal.removeEventListener("abort", wakeUp);
      try {
        watcher?.close();
      } catch {
        // Already closed.
      }
    },
  };
}
