/**
 * The structured log: one flat JSON object per line in a size-rotated file,
 * plus a short human line per record on stderr for journald.
 *
 * Behaviour worth knowing:
 * - Each record is written (and fsynced) when it is logged, so nothing waits
 *   in a buffer: a crash loses no record, and `await` of the handle's
 *   `[Symbol.asyncDispose]` leaves every earlier record in the file.
 * - `maxFiles` counts every file, the active one included: `hookd.jsonl` plus
 *   `hookd.jsonl.1` … `hookd.jsonl.<maxFiles-1>` (`.1` is the newest).
 *   A record that would push the active file past `maxBytes` first rotates it,
 *   so no file exceeds `maxBytes` unless one record alone is bigger.
 * - If the file cannot be opened, {@linkcode setupLog} throws at start-up. If
 *   writing fails later (disk full, directory removed), the daemon keeps going:
 *   a warning goes to stderr once, each record that missed the file goes to
 *   stderr as its JSON line, and every later record retries the file first.
 * - Properties named like secrets, signatures, tokens, passwords or bodies are
 *   written as `"[REDACTED]"`, at any depth and in the rendered message; raw
 *   bytes are written as their size only; long strings are cut.
 *
 * @module
 */

import {
  configure,
  dispose,
  getLogger,
  type Logger,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import { getRotatingFileSink } from "@logtape/file";
import { basename, dirname, join } from "node:path";

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

/** What a redacted value is written as. */
const REDACTED = "[REDACTED]";
/** Longer strings are cut, so a body logged by mistake under an innocent name stays a fragment. */
const MAX_STRING = 2048;
/** Deeper objects are elided rather than walked. */
const MAX_DEPTH = 8;
/** The stderr line quotes values past this length, cut. */
const MAX_STDERR_VALUE = 200;

/** Record keys that properties may not overwrite. */
const RESERVED_KEYS = new Set(["time", "level", "type", "message"]);

/** Words that make a property name sensitive wherever they appear in it. */
const SENSITIVE_WORDS = new Set([
  "auth",
  "authorization",
  "body",
  "cookie",
  "cookies",
  "credential",
  "credentials",
  "hmac",
  "passphrase",
  "passwd",
  "password",
  "secret",
  "secrets",
  "sig",
  "signature",
  "signatures",
  "token",
  "tokens",
]);
/** Two-word names that are sensitive though neither word is alone. */
const SENSITIVE_PAIRS = new Set(["apikey", "privatekey", "accesskey"]);
/**
 * A last word that makes the name describe a sensitive thing rather than hold
 * it (`bodyBytes`, `signatureValid`, `secretFile`), so it is logged as is.
 */
const METADATA_WORDS = new Set([
  "algo",
  "algorithm",
  "bytes",
  "count",
  "env",
  "file",
  "kind",
  "len",
  "length",
  "missing",
  "ms",
  "name",
  "ok",
  "path",
  "present",
  "required",
  "scheme",
  "size",
  "type",
  "valid",
  "var",
  "verified",
]);

/**
 * Whether a property name looks like it holds a secret, a signature or a raw
 * body: it contains a sensitive word (camelCase, snake_case and kebab-case are
 * split) and does not end in a metadata word.
 */
function isSensitiveKey(key: string): boolean {
  const words = key
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)
    .map((word) => word.toLowerCase())
    .filter((word) => word !== "" && !/^\d+$/.test(word));
  if (words.length === 0) return false;
  if (METADATA_WORDS.has(words[words.length - 1])) return false;
  for (let i = 0; i < words.length; i++) {
    if (SENSITIVE_WORDS.has(words[i])) return true;
    if (i > 0 && SENSITIVE_PAIRS.has(words[i - 1] + words[i])) return true;
  }
  return false;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[${text.length - max} more chars]`;
}

/** Walks a value into plain JSON, redacting as it goes. */
class Cleaner {
  /** Values found under sensitive names, to keep them out of the message too. */
  readonly redacted = new Set<unknown>();
  readonly #ancestors = new Set<object>();

  value(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case "string":
        return truncate(value, MAX_STRING);
      case "number":
        return Number.isFinite(value) ? value : String(value);
      case "boolean":
      case "undefined":
        return value;
      case "bigint":
      case "symbol":
        return value.toString();
      case "function":
        return `[Function ${value.name || "anonymous"}]`;
    }
    if (value === null) return null;
    const object = value as object;
    if (this.#ancestors.has(object)) return "[Circular]";
    if (depth >= MAX_DEPTH) return "[Object]";
    this.#ancestors.add(object);
    try {
      return this.#object(object, depth);
    } finally {
      this.#ancestors.delete(object);
    }
  }

  entries(
    entries: Iterable<[string, unknown]>,
    depth: number,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of entries) {
      if (value !== undefined && isSensitiveKey(key)) {
        this.redacted.add(value);
        out[key] = REDACTED;
      } else {
        out[key] = this.value(value, depth + 1);
      }
    }
    return out;
  }

  #object(object: object, depth: number): unknown {
    if (object instanceof Date) {
      return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
    }
    if (object instanceof Error) {
      const code = (object as { code?: unknown }).code;
      return this.entries(
        [
          ["name", object.name],
          ["message", object.message],
          ["code", typeof code === "string" ? code : undefined],
          ["cause", object.cause],
        ],
        depth,
      );
    }
    if (object instanceof ArrayBuffer || ArrayBuffer.isView(object)) {
      return `[binary ${object.byteLength} bytes]`;
    }
    if (object instanceof Blob) return `[binary ${object.size} bytes]`;
    if (object instanceof ReadableStream) return "[stream]";
    if (object instanceof URL) return object.href;
    if (object instanceof Headers || object instanceof Map) {
      return this.entries(
        [...object.entries()].map(([k, v]) => [String(k), v]),
        depth,
      );
    }
    if (object instanceof Set) object = [...object];
    if (Array.isArray(object)) {
      return object.map((item) => this.value(item, depth + 1) ?? null);
    }
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      try {
        return this.value(toJSON.call(object), depth + 1);
      } catch {
        return "[Unserializable]";
      }
    }
    return this.entries(Object.entries(object), depth);
  }
}

/** The record's `type`: its category past the `hookd` root. */
function recordType(category: readonly string[]): string {
  return (category[0] === "hookd" && category.length > 1 ? category.slice(1) : category)
    .join(".");
}

/** The flat, redacted object that both output formats are made from. */
function toEntry(record: LogRecord): Record<string, unknown> {
  const cleaner = new Cleaner();
  const properties = cleaner.entries(Object.entries(record.properties), 0);
  let message = "";
  record.message.forEach((part, i) => {
    if (i % 2 === 0) {
      message += String(part);
    } else if (cleaner.redacted.has(part)) {
      message += REDACTED;
    } else {
      const value = cleaner.value(part, 0);
      message += typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
    }
  });
  const entry: Record<string, unknown> = {
    time: new Date(record.timestamp).toISOString(),
    level: record.level,
    type: recordType(record.category),
    message: truncate(message, MAX_STRING),
  };
  for (const [key, value] of Object.entries(properties)) {
    entry[RESERVED_KEYS.has(key) ? `_${key}` : key] = value;
  }
  return entry;
}

/**
 * Formats a record as the file's JSON line: one flat object, newline-ended.
 * Properties named `time`, `level`, `type` or `message` are renamed with a
 * leading `_` so they cannot forge the record's own fields.
 *
 * @param record the record logtape made
 * @returns `{"time":ISO,"level":…,"type":…,"message":…,…properties}` and `\n`
 * @example
 * ```ts
 * import { formatLogLine } from "./log.ts";
 * const line = formatLogLine({
 *   category: ["hookd", "request"],
 *   level: "info",
 *   message: ["request"],
 *   rawMessage: "request",
 *   timestamp: 0,
 *   properties: { status: 202, signature: "sha256=abc" },
 * });
 * console.assert(line === '{"time":"1970-01-01T00:00:00.000Z","level":"info",' +
 *   '"type":"request","message":"request","status":202,"signature":"[REDACTED]"}\n');
 * ```
 */
export function formatLogLine(record: LogRecord): string {
  return JSON.stringify(toEntry(record)) + "\n";
}

/** A value for the stderr line: bare when it is one plain word, else quoted. */
function stderrValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return text.length <= MAX_STDERR_VALUE && /^[^\s"\\\p{C}]+$/u.test(text)
    ? text
    : JSON.stringify(truncate(text, MAX_STDERR_VALUE));
}

/**
 * Formats a record as a short human line for stderr (journald adds the time):
 * the level unless `info`, the type, the message unless it repeats the type,
 * then whichever of `endpoint`, `event`, `status`, `outcome`, `exitCode`,
 * `timedOut`, `durationMs`, `id` and `error` the record has. Control
 * characters are escaped, so a header value cannot forge a line.
 *
 * @param record the record logtape made
 * @returns the line, without a newline
 * @example
 * ```ts
 * import { formatStderrLine } from "./log.ts";
 * const line = formatStderrLine({
 *   category: ["hookd", "request"],
 *   level: "info",
 *   message: ["request"],
 *   rawMessage: "request",
 *   timestamp: 0,
 *   properties: { endpoint: "github", event: "push", status: 202, outcome: "accepted", durationMs: 3, id: "d1" },
 * });
 * console.assert(line === "request github push 202 accepted 3ms id=d1");
 * ```
 */
export function formatStderrLine(record: LogRecord): string {
  const entry = toEntry(record);
  const parts: string[] = [];
  if (entry.level !== "info") parts.push(String(entry.level).toUpperCase());
  parts.push(String(entry.type));
  if (entry.message !== "" && entry.message !== entry.type) {
    parts.push(
      String(entry.message).replace(
        /\p{Cc}/gu,
        (c) => JSON.stringify(c).slice(1, -1),
      ),
    );
  }
  for (const key of ["endpoint", "event", "status", "outcome"]) {
    if (entry[key] != null) parts.push(stderrValue(entry[key]));
  }
  if (entry.exitCode != null) parts.push(`exit=${stderrValue(entry.exitCode)}`);
  if (entry.timedOut === true) parts.push("timed-out");
  if (entry.durationMs != null) {
    parts.push(`${stderrValue(entry.durationMs)}ms`);
  }
  if (entry.id != null) parts.push(`id=${stderrValue(entry.id)}`);
  if (entry.error != null) {
    const error = entry.error as { message?: unknown };
    parts.push(
      `error=${stderrValue(typeof error === "object" ? error.message : error)}`,
    );
  }
  return parts.join(" ");
}

const encoder = new TextEncoder();

/** Writes to stderr and never throws: losing a log line beats crashing. */
function writeStderr(text: string): void {
  try {
    let bytes = encoder.encode(text);
    while (bytes.length > 0) {
      bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
    }
  } catch {
    // stderr is gone (closed pipe); there is nowhere left to report to.
  }
}

function openRotatingSink(options: LogOptions): Sink & Disposable {
  return getRotatingFileSink(options.file, {
    formatter: formatLogLine,
    maxSize: options.maxBytes,
    // logtape keeps `maxFiles` rotated files besides the active one; 0 makes
    // it truncate in place (by unlinking) instead of rotating.
    maxFiles: options.maxFiles - 1,
    // Buffered and flushed off the request path: an fsync per record would
    // cap the daemon at about a thousand requests a second. A timer flushes
    // an idle buffer, and dispose flushes the rest on shutdown.
    bufferSize: 64 * 1024,
    flushInterval: 200,
    nonBlocking: true,
  });
}

function closeQuietly(sink: Disposable | null): void {
  try {
    sink?.[Symbol.dispose]();
  } catch {
    // Already broken: the failure that got us here was reported.
  }
}

/**
 * The file sink, made so that a failing file never throws into the app: a
 * record the file cannot take goes to stderr as its JSON line, and the next
 * record reopens the file.
 */
function resilientFileSink(options: LogOptions): Sink & Disposable {
  let inner: (Sink & Disposable) | null = openRotatingSink(options);
  let failing = false;
  let closed = false;
  function sink(record: LogRecord): void {
    if (!closed) {
      try {
        inner ??= openRotatingSink(options);
        inner(record);
        if (failing) {
          failing = false;
          writeStderr(`hookd: log file ${options.file} is writable again\n`);
        }
        return;
      } catch (error) {
        closeQuietly(inner);
        inner = null;
        if (!failing) {
          failing = true;
          writeStderr(
            `hookd: cannot write log file ${options.file}: ${
              error instanceof Error ? error.message : String(error)
            }; writing records to stderr until it works again\n`,
          );
        }
      }
    }
    writeStderr(formatLogLine(record));
  }
  return Object.assign(sink, {
    [Symbol.dispose](): void {
      closed = true;
      closeQuietly(inner);
      inner = null;
    },
  });
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

/** Removes rotated files that `maxFiles` no longer allows (e.g. after it was lowered). */
async function removeSurplusFiles(
  file: string,
  maxFiles: number,
): Promise<void> {
  const dir = dirname(file);
  const prefix = `${basename(file)}.`;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.startsWith(prefix)) continue;
    const suffix = entry.name.slice(prefix.length);
    if (/^[1-9]\d*$/.test(suffix) && Number(suffix) >= maxFiles) {
      await Deno.remove(join(dir, entry.name));
    }
  }
}

/** Bumped by every successful setup and every dispose, so a stale handle does nothing. */
let generation = 0;

/**
 * Configures logging: records of the `hookd` loggers at `info` and above go
 * to the rotating JSON-lines file and, unless `stderr` is `false`, as a short
 * line to stderr; logtape's own warnings always go to stderr. Calling it again
 * (tests, SIGHUP) replaces the previous configuration, closing its file; if
 * the new file cannot be opened the previous configuration stays in force.
 *
 * The caller must dispose the returned handle on shutdown (Deno fires no
 * `unload` on SIGTERM). Disposing closes the file after every earlier record
 * is in it; records logged afterwards go to stderr as JSON lines. Disposing a
 * handle that a later call already replaced does nothing.
 *
 * @param options the file, its rotation limits and whether to echo to stderr
 * @returns a handle that closes the file on `[Symbol.asyncDispose]`
 * @throws {RangeError} if `maxBytes` or `maxFiles` is not a positive integer
 * @throws {Error} naming HOOKD_LOG_FILE if its directory cannot be created or
 * the file cannot be opened for appending
 * @example
 * ```ts
 * import { requestLog, setupLog } from "./log.ts";
 * const dir = await Deno.makeTempDir();
 * {
 *   await using _log = await setupLog({ file: `${dir}/hookd.jsonl`, maxBytes: 1_048_576, maxFiles: 5, stderr: false });
 *   requestLog().info("request", { endpoint: "github", event: "push", status: 202, outcome: "accepted" });
 * }
 * console.assert((await Deno.readTextFile(`${dir}/hookd.jsonl`)).includes('"status":202'));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function setupLog(options: LogOptions): Promise<AsyncDisposable> {
  validateLogOptions(options);
  let fileSink: Sink & Disposable;
  try {
    await Deno.mkdir(dirname(options.file), { recursive: true });
    await removeSurplusFiles(options.file, options.maxFiles);
    fileSink = resilientFileSink(options);
  } catch (error) {
    throw new Error(
      `Cannot open the log file HOOKD_LOG_FILE=${options.file}: ${
        error instanceof Error ? error.message : String(error)
      }; point HOOKD_LOG_FILE at a file in a directory the hookd user can write`,
      { cause: error },
    );
  }
  const stderrSink: Sink = (record) => writeStderr(formatStderrLine(record) + "\n");
  try {
    await configure({
      reset: true,
      sinks: { file: fileSink, stderr: stderrSink },
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
    fileSink[Symbol.dispose]();
    throw error;
  }
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
