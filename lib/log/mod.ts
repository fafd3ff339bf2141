/**
 * The structured log: one flat JSON object per line in a size-rotated file,
 * plus a short human line per record on stderr for journald. Lines are
 * buffered and written off the request path (nothing is fsynced), so a crash
 * loses at most the last ~200 ms of records; a file that cannot be written
 * sends its records to stderr instead, and the daemon never sees the error.
 * Names that look like secrets are redacted at any depth so no secret,
 * signature or body reaches the file. This file is the folder's face.
 *
 * @module
 */

import { configure, dispose, getLogger, type Logger, type LogRecord } from "@logtape/logtape";
import { dirname } from "node:path";
import { formatStderrLine } from "./_format.ts";
import {
  fileSink,
  LogFile,
  type LogFileOptions,
  markImmediate,
  removeSurplusFiles,
} from "./_rotating_file.ts";
import { flushStderr, flushStderrOnUnload, writeStderr } from "./_stderr.ts";

export { isSecretName } from "./secret_name.ts";

/** Options for {@linkcode setupLog}; the file's directory is created if missing. */
export interface LogOptions extends LogFileOptions {
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
 * Configures logging: `hookd` records at `info` and above go to the rotating
 * file and, unless `stderr` is `false`, to stderr. Calling it again (tests,
 * SIGHUP) replaces the previous configuration; if the new file cannot be
 * opened the previous one stays in force. The caller must dispose the handle
 * on shutdown, because Deno fires no `unload` on SIGTERM: disposing writes
 * every earlier record and closes the file (a stale handle does nothing).
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
 * Waits until every record logged before the call is written to the file (not
 * fsynced) or, if the file is failing, to stderr. Never rejects. Records are
 * otherwise written within ~200 ms; call this where a reader must see them now.
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
 * one error record: a library's background failure (a database client's
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
