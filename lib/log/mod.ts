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
 *   bytes are written as their size only; long strings are cut.
 *
 * @module
 */

import {
  configure,
  dispose,
  type Drainable,
  getLogger,
  type Logger,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
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

/** Names already judged: the same few recur in every record, and splitting them is the costly part. */
const sensitiveKeyCache = new Map<string, boolean>();
/** Header names come from senders, so the cache is bounded by being emptied. */
const SENSITIVE_KEY_CACHE_SIZE = 1024;

/**
 * Whether a property name looks like it holds a secret, a signature or a raw
 * body: it contains a sensitive word (camelCase, snake_case and kebab-case are
 * split) and does not end in a metadata word.
 */
function isSensitiveKey(key: string): boolean {
  let sensitive = sensitiveKeyCache.get(key);
  if (sensitive === undefined) {
    if (sensitiveKeyCache.size >= SENSITIVE_KEY_CACHE_SIZE) sensitiveKeyCache.clear();
    sensitive = judgeKey(key);
    sensitiveKeyCache.set(key, sensitive);
  }
  return sensitive;
}

function judgeKey(key: string): boolean {
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
  redacted: Set<unknown> | null = null;
  // Made on first use: most records hold only flat, innocent values.
  #ancestors: Set<object> | null = null;

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
    this.#ancestors ??= new Set();
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
    for (const [key, value] of entries) out[key] = this.property(key, value, depth);
    return out;
  }

  /** The value of a property at `depth`, redacted if its name is sensitive. */
  property(key: string, value: unknown, depth: number): unknown {
    if (value !== undefined && isSensitiveKey(key)) {
      (this.redacted ??= new Set()).add(value);
      return REDACTED;
    }
    return this.value(value, depth + 1);
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

/** Types by category array: a logger passes the same array with every record. */
const recordTypes = new WeakMap<readonly string[], string>();

/** The record's `type`: its category past the `hookd` root. */
function recordType(category: readonly string[]): string {
  let type = recordTypes.get(category);
  if (type === undefined) {
    type = (category[0] === "hookd" && category.length > 1 ? category.slice(1) : category)
      .join(".");
    recordTypes.set(category, type);
  }
  return type;
}

/** The last timestamp formatted: many records share a millisecond under load. */
let lastTimestamp = Number.NaN;
let lastTime = "";

function isoTime(timestamp: number): string {
  if (timestamp !== lastTimestamp) {
    lastTime = new Date(timestamp).toISOString();
    lastTimestamp = timestamp;
  }
  return lastTime;
}

/**
 * The last record made into an entry: the file and stderr sinks get the same
 * record object one after the other, so the second reuses the first's work.
 */
let lastRecord: LogRecord | null = null;
let lastEntry: Record<string, unknown> = {};

/** The flat, redacted object that both output formats are made from. */
function toEntry(record: LogRecord): Record<string, unknown> {
  if (record === lastRecord) return lastEntry;
  const entry: Record<string, unknown> = {
    time: isoTime(record.timestamp),
    level: record.level,
    type: recordType(record.category),
    message: "", // Rendered last, once the redacted values are known.
  };
  const cleaner = new Cleaner();
  const properties = record.properties;
  for (const key of Object.keys(properties)) {
    entry[RESERVED_KEYS.has(key) ? `_${key}` : key] = cleaner.property(key, properties[key], 0);
  }
  const parts = record.message;
  let message = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i % 2 === 0) {
      message += String(part);
    } else if (cleaner.redacted?.has(part)) {
      message += REDACTED;
    } else {
      const value = cleaner.value(part, 0);
      message += typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
    }
  }
  entry.message = truncate(message, MAX_STRING);
  lastRecord = record;
  lastEntry = entry;
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
 * import { formatLogLine } from "./mod.ts";
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
 * import { formatStderrLine } from "./mod.ts";
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

/** A write starts once a buffer holds this many characters… */
const FLUSH_CHARS = 64 * 1024;
/** …or this long after the first buffered record, so `tail -f` stays live. */
const FLUSH_DELAY_MS = 200;

/**
 * Text for stderr waits here for the next timer turn, so the lines of a burst
 * of requests are one write rather than a blocking write each.
 */
let stderrPending = "";
let stderrTimer: ReturnType<typeof setTimeout> | undefined;
let stderrFlushedOnUnload = false;

/** Queues text for stderr, written in order within a timer turn. */
function writeStderr(text: string): void {
  stderrPending += text;
  if (stderrPending.length >= FLUSH_CHARS) {
    flushStderr();
  } else {
    stderrTimer ??= setTimeout(flushStderr, 0);
  }
}

/** Writes the queued stderr text now and never throws: losing a log line beats crashing. */
function flushStderr(): void {
  clearTimeout(stderrTimer);
  stderrTimer = undefined;
  if (stderrPending === "") return;
  let bytes = encoder.encode(stderrPending);
  stderrPending = "";
  try {
    while (bytes.length > 0) {
      bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
    }
  } catch {
    // stderr is gone (closed pipe); there is nowhere left to report to.
  }
}

const NEWLINE = encoder.encode("\n");

/** Joins encoded lines into one buffer, so a batch is one write. */
function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await Deno.rename(from, to);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * The JSON-lines file behind the log: buffers formatted lines and appends
 * them in batches off the request path, rotating by size, never throwing.
 *
 * Written here rather than with `@logtape/file` because its rotating sink
 * fsyncs every write (its Deno driver cannot be swapped) and, when
 * non-blocking, drops a failed batch with only a meta-log warning.
 */
class LogFile {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #maxFiles: number;
  #file: Deno.FsFile | null = null;
  /** Which file we opened, to notice it was removed or moved by hand. */
  #dev = -1;
  #ino: number | null = null;
  /** The open file's size, re-read before every batch. */
  #size = 0;
  /** A failed write left part of a line behind, so the next write starts a new line. */
  #torn = false;
  #pending: string[] = [];
  #pendingChars = 0;
  /** Records taken by `add` and records written or sent to stderr, for `flush`. */
  #accepted = 0;
  #settled = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | null = null;
  #failing = false;
  #closed = false;

  constructor(options: LogOptions) {
    this.#path = options.file;
    this.#maxBytes = options.maxBytes;
    this.#maxFiles = options.maxFiles;
  }

  /** Opens the file, throwing if it cannot be, so start-up can refuse. */
  async open(): Promise<void> {
    await this.#reopen();
  }

  /** Buffers a line; after `close`, writes it to stderr instead. */
  add(line: string): void {
    if (this.#closed) {
      writeStderr(line);
      return;
    }
    this.#pending.push(line);
    this.#pendingChars += line.length;
    this.#accepted++;
    if (this.#writing === null) this.#schedule();
  }

  /** Resolves once every line added before the call is in the file or on stderr. */
  async flush(): Promise<void> {
    const target = this.#accepted;
    while (this.#settled < target) await this.#startWrite();
  }

  /** Writes what is buffered and closes the file; later lines go to stderr. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closeFile();
    flushStderr();
  }

  #schedule(): void {
    if (this.#pending.length === 0 || this.#closed) return;
    if (this.#pendingChars >= FLUSH_CHARS) {
      void this.#startWrite();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        void this.#startWrite();
      }, FLUSH_DELAY_MS);
    }
  }

  #startWrite(): Promise<void> {
    this.#writing ??= this.#writeBatch().finally(() => {
      this.#writing = null;
      // Lines that arrived during the write wait for the next trigger.
      this.#schedule();
    });
    return this.#writing;
  }

  async #writeBatch(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#pending;
    this.#pending = [];
    this.#pendingChars = 0;
    if (lines.length > 0) await this.#write(lines);
    this.#settled += lines.length;
  }

  /** Appends lines, rotating before one that would not fit; never throws. */
  async #write(lines: string[]): Promise<void> {
    let done = 0;
    try {
      await this.#ready();
      let chunk: Uint8Array[] = this.#torn ? [NEWLINE] : [];
      let chunkBytes = chunk.length;
      let chunkLines = 0;
      for (const line of lines) {
        const bytes = encoder.encode(line);
        const used = this.#size + chunkBytes;
        if (used > 0 && used + bytes.length > this.#maxBytes) {
          await this.#append(chunk, chunkBytes);
          done += chunkLines;
          chunk = [];
          chunkBytes = 0;
          chunkLines = 0;
          await this.#rotate();
        }
        chunk.push(bytes);
        chunkBytes += bytes.length;
        chunkLines++;
      }
      await this.#append(chunk, chunkBytes);
      done += chunkLines;
    } catch (error) {
      this.#closeFile();
      if (!this.#failing) {
        this.#failing = true;
        writeStderr(
          `hookd: cannot write log file ${this.#path}: ${
            error instanceof Error ? error.message : String(error)
          }; writing records to stderr until it works again\n`,
        );
      }
      writeStderr(lines.slice(done).join(""));
      return;
    }
    if (this.#failing) {
      this.#failing = false;
      writeStderr(`hookd: log file ${this.#path} is writable again\n`);
    }
  }

  /** Makes sure the open file is still the one at the path, reopening it if not. */
  async #ready(): Promise<void> {
    if (this.#file !== null) {
      const info = await statOrNull(this.#path);
      if (info !== null && info.dev === this.#dev && info.ino === this.#ino) {
        this.#size = info.size;
        return;
      }
      // Removed or moved away: writing on would lose the records.
      this.#closeFile();
    }
    await this.#reopen();
  }

  async #reopen(): Promise<void> {
    const file = await Deno.open(this.#path, { create: true, append: true });
    let info: Deno.FileInfo;
    try {
      info = await file.stat();
    } catch (error) {
      file.close();
      throw error;
    }
    if (info.dev !== this.#dev || info.ino !== this.#ino) this.#torn = false;
    this.#file = file;
    this.#dev = info.dev;
    this.#ino = info.ino;
    this.#size = info.size;
  }

  async #append(chunks: Uint8Array[], size: number): Promise<void> {
    if (chunks.length === 0) return;
    const file = this.#file!;
    let data = concat(chunks, size);
    try {
      while (data.length > 0) {
        const written = await file.write(data);
        data = data.subarray(written);
        this.#size += written;
      }
    } catch (error) {
      this.#torn = data.length < size;
      throw error;
    }
    this.#torn = false;
  }

  /** `maxFiles` counts the active file, so 1 means truncating it in place. */
  async #rotate(): Promise<void> {
    if (this.#maxFiles === 1) {
      await this.#file!.truncate(0);
      this.#size = 0;
      return;
    }
    this.#closeFile();
    for (let i = this.#maxFiles - 2; i >= 1; i--) {
      await renameIfExists(`${this.#path}.${i}`, `${this.#path}.${i + 1}`);
    }
    await Deno.rename(this.#path, `${this.#path}.1`);
    await this.#reopen();
  }

  #closeFile(): void {
    try {
      this.#file?.close();
    } catch {
      // Already broken: the failure that got us here is reported.
    }
    this.#file = null;
  }
}

/**
 * Tells logtape that a sink is done with a record when it returns, so it need
 * not copy each record's properties first, which halves the cost of a logging
 * call. It is the marker `@logtape/file` puts on its own sinks; were logtape
 * to stop honouring it, logging would only get slower.
 */
function markImmediate<T extends Sink>(sink: T): T {
  return Object.defineProperty(sink, Symbol.for("LogTape.sinkSnapshotPolicy.immediate"), {
    value: true,
  });
}

/** The logtape sink over a {@linkcode LogFile}: drainable, and async-disposed by logtape. */
function fileSink(file: LogFile): Sink & Drainable & AsyncDisposable {
  const sink = (record: LogRecord) => file.add(formatLogLine(record));
  return markImmediate(Object.assign(sink, {
    drain: () => file.flush(),
    [Symbol.asyncDispose]: () => file.close(),
  }));
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
 * import { requestLog, setupLog } from "./mod.ts";
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
  if (!stderrFlushedOnUnload) {
    // Deno.exit() and a normal end fire `unload`; a crash loses the last few lines.
    globalThis.addEventListener("unload", flushStderr);
    stderrFlushedOnUnload = true;
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
 * import { flushLog, requestLog, setupLog } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * {
 *   await using _log = await setupLog({ file: `${dir}/hookd.jsonl`, maxBytes: 1_048_576, maxFiles: 5, stderr: false });
 *   requestLog().info("request", { status: 202 });
 *   await flushLog();
 *   console.assert((await Deno.readTextFile(`${dir}/hookd.jsonl`)).includes('"status":202'));
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
