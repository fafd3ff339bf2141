/**
 * The structured log: one flat JSON object per line in a size-rotated file,
 * plus a short human line per record on stderr for journald.
 *
 * Behaviour worth knowing:
 * - A logging call only formats the record and buffers its line (a few
 *   microseconds). The buffer is appended to the file in one write once 64 KiB
 *   wait, or 200 ms after the first waiting record so `tail -f` stays live,
 *   off the request path; nothing is fsynced. {@linkcode flushLog} waits until
 *   every earlier record is written, and disposing the handle does too before
 *   closing the file. So a process crash loses at most the last ~200 ms of
 *   records, and a machine crash whatever the kernel had not written back.
 * - The stderr lines are queued too, and written at the next timer turn, on
 *   {@linkcode flushLog}, on dispose, or on `unload` (which `Deno.exit()`
 *   fires), so a burst of records is one write to journald, not one each.
 * - `maxFiles` counts every file, the active one included: `hookd.jsonl` plus
 *   `hookd.jsonl.1` … `hookd.jsonl.<maxFiles-1>` (`.1` is the newest); with
 *   `maxFiles` 1 the file is emptied instead. A write is split at record
 *   boundaries and the file is rotated before a record that would push it
 *   past `maxBytes`, so no file exceeds `maxBytes` unless it holds one record
 *   that alone is bigger.
 * - Before each write the file at the path is checked to still be the one
 *   open: if it was removed or moved away (by hand, by logrotate) a new one is
 *   created there; if it was emptied, writing goes on from its new size.
 * - If the file cannot be opened, {@linkcode setupLog} throws at start-up. If
 *   writing fails later (disk full, directory removed), the daemon never sees
 *   an error: a warning goes to stderr once, each record that missed the file
 *   goes to stderr as its JSON line, every later write retries the file
 *   first, and stderr is told when it works again. A write cut short (disk
 *   full) leaves part of a line; the next write to that file starts with a
 *   newline, so it costs one unparsable line and never glues two records.
 * - Buffered records are held in memory for as long as a write takes; a disk
 *   that stalls for minutes under heavy traffic grows the buffer meanwhile.
 * - Properties named like secrets, signatures, tokens, passwords or bodies are
 *   written as `"[REDACTED]"`, at any depth and in the rendered message; raw
 *   bytes are written as their size only; strings are cut at 2,048
 *   characters, except a top-level `stdout` or `stderr` (a hook's output
 *   excerpt, the same the store keeps), cut at 64 KiB with
 *   `stdoutTruncated`/`stderrTruncated` then set true.
 * - Shutdown must dispose the handle {@linkcode setupLog} returns: that is
 *   what writes the last buffered records and closes the file, because Deno
 *   fires no `unload` on SIGINT or SIGTERM.
 *
 * The folder: this file is its face; `secret_name.ts` holds the one rule for
 * names that hold secrets (also used by intake and the pages); `_redact.ts` (the
 * cleaner), `_format.ts` (record to JSON line and stderr line), `_stderr.ts`
 * (stderr batching) and `_rotating_file.ts` (the file writer) are private to
 * it. Nothing here imports from `lib/` outside `lib/log/` (bar, if ever
 * useful, `lib/config/limits.ts`), so every other folder can log without a
 * cycle.
 *
 * @module
 */

import { configure, dispose, getLogger, type Logger, type LogRecord } from "@logtape/logtape";
import { dirname } from "node:path";
import { formatStderrLine } from "./_format.ts";
import { fileSink, LogFile, markImmediate, removeSurplusFiles } from "./_rotating_file.ts";
import { flushStderr, flushStderrOnUnload, writeStderr } from "./_stderr.ts";

export { isSecretName } from "./secret_name.ts";

/** Options for {@linkcode setupLog}. */
export interface LogOptions {
  /** The JSON-lines file; its directory is created if missing. */
  file: string;
  /** Rotate before a record would make the active file exceed this size. */
  maxBytes: number;
  /** At most this many files in all: the active one plus the rotated ones. */
  maxFiles: number;
  /** Also write a short human line per record to stderr; default `true`. */
  stderr?: boolean;
}

function validateLogOptions(options: LogOptions): void {
  if (typeof options.file !== "string" || options.file === "") {
    throw new TypeError("Invalid log file: HOOKD_LOG_FILE must name a file");
  }
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1) {
    throw new RangeError(
      `Invalid log maxBytes: expected a positive integer, got ${options.maxBytes}`,
    );
  }
  if (!Number.isSafeInteger(options.maxFiles) || options.maxFiles < 1) {
    throw new RangeError(
      `Invalid log maxFiles: expected an integer of at least 1, got ${options.maxFiles}`,
    );
  }
}

/** Bumped by every successful setup and every dispose, so a stale handle does nothing. */
let generation = 0;
/** The file of the latest successful setup, for {@linkcode flushLog}. */
let activeFile: LogFile | null = null;

/**
 * Configures logging: records of the `hookd` loggers at `info` and above go
 * to the rotating JSON-lines file and, unless `stderr` is `false`, as a short
 * line to stderr; logtape's own warnings always go to stderr. Calling it again
 * (tests, SIGHUP) replaces the previous configuration, closing its file; if
 * the new file cannot be opened the previous configuration stays in force.
 *
 * Records are buffered (see the module doc); {@linkcode flushLog} waits for
 * them without closing anything. The caller must dispose the returned handle
 * on shutdown (Deno fires no `unload` on SIGTERM). Disposing writes every
 * earlier record, then closes the file; records logged afterwards go to
 * stderr as JSON lines. Disposing a handle that a later call already replaced
 * does nothing.
 *
 * @param options the file, its rotation limits and whether to echo to stderr
 * @returns a handle that closes the file on `[Symbol.asyncDispose]`
 * @throws {RangeError} if `maxBytes` or `maxFiles` is not a positive integer
 * @throws {Error} naming HOOKD_LOG_FILE if its directory cannot be created or
 * the file cannot be opened for appending
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestLog, setupLog } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * {
 *   await using _log = await setupLog({ file: `${dir}/hookd.jsonl`, maxBytes: 1_048_576, maxFiles: 5, stderr: false });
 *   requestLog().info("request", { endpoint: "github", event: "push", status: 202, outcome: "accepted" });
 * }
 * assert.ok((await Deno.readTextFile(`${dir}/hookd.jsonl`)).includes('"status":202'));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function setupLog(options: LogOptions): Promise<AsyncDisposable> {
  validateLogOptions(options);
  const file = new LogFile(options);
  try {
    await Deno.mkdir(dirname(options.file), { recursive: true });
    await removeSurplusFiles(options.file, options.maxFiles);
    await file.open();
  } catch (error) {
    throw new Error(
      `Cannot open the log file HOOKD_LOG_FILE=${options.file}: ${
        error instanceof Error ? error.message : String(error)
      }; point HOOKD_LOG_FILE at a file in a directory the hookd user can write`,
      { cause: error },
    );
  }
  const stderrSink = markImmediate((record: LogRecord) =>
    writeStderr(formatStderrLine(record) + "\n")
  );
  try {
    await configure({
      reset: true,
      sinks: { file: fileSink(file), stderr: stderrSink },
      loggers: [
        {
          category: ["hookd"],
          sinks: options.stderr === false ? ["file"] : ["file", "stderr"],
          lowestLevel: "info",
        },
        // Configured so logtape does not add its own console sink and chatter.
        {
          category: ["logtape", "meta"],
          sinks: ["stderr"],
          lowestLevel: "warning",
        },
      ],
    });
  } catch (error) {
    await file.close();
    throw error;
  }
  activeFile = file;
  flushStderrOnUnload();
  const mine = ++generation;
  return {
    async [Symbol.asyncDispose]() {
      if (mine !== generation) return;
      generation++;
      await dispose();
    },
  };
}

/**
 * Waits until every record logged before the call has been written to the
 * log file (to the operating system, not fsynced) or, if the file is failing,
 * to stderr. It never rejects, and does nothing before {@linkcode setupLog}.
 *
 * Records are otherwise written within about 200 ms, or sooner once 64 KiB
 * are waiting; call this where a reader must see them now (tests, a CLI about
 * to exit without disposing).
 *
 * @returns a promise that resolves when those records are written
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flushLog, requestLog, setupLog } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * {
 *   await using _log = await setupLog({ file: `${dir}/hookd.jsonl`, maxBytes: 1_048_576, maxFiles: 5, stderr: false });
 *   requestLog().info("request", { status: 202 });
 *   await flushLog();
 *   assert.ok((await Deno.readTextFile(`${dir}/hookd.jsonl`)).includes('"status":202'));
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function flushLog(): Promise<void> {
  await activeFile?.flush();
  flushStderr();
}

/**
 * The logger for one record per webhook request.
 *
 * @returns the logger of category `["hookd", "request"]` (`"type":"request"`)
 */
export function requestLog(): Logger {
  return getLogger(["hookd", "request"]);
}

/**
 * The logger for one record per hook run.
 *
 * @returns the logger of category `["hookd", "hook"]` (`"type":"hook"`)
 */
export function hookLog(): Logger {
  return getLogger(["hookd", "hook"]);
}

/**
 * The logger for the daemon's life: start, reload, shutdown, config trouble.
 *
 * @returns the logger of category `["hookd", "daemon"]` (`"type":"daemon"`)
 */
export function daemonLog(): Logger {
  return getLogger(["hookd", "daemon"]);
}

/**
 * Keep the daemon serving through a promise rejection nothing handled, as
 * one error record on the daemon's logger instead of Deno ending the
 * process. Every delivery is in the store, so an exit would lose nothing,
 * but a failure in a library's background work (a database client's
 * reconnect while PostgreSQL is down) must not stop intake or `/healthz`.
 *
 * @returns a function that stops doing so
 */
export function logUnhandledRejections(): () => void {
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    const reason = event.reason instanceof Error ? event.reason.message : String(event.reason);
    daemonLog().error("unexpected failure in background work; serving on", { error: reason });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  return () => globalThis.removeEventListener("unhandledrejection", onRejection);
}
