/**
 * The rotating JSON-lines file behind the log: lines are appended in batches
 * (once 64 KiB wait, or 200 ms after the first), rotated by size, and a file
 * removed or moved by hand is reopened. Private to `lib/log/`.
 *
 * Written here rather than with `@logtape/file` because its rotating sink
 * fsyncs every write (its Deno driver cannot be swapped) and, when
 * non-blocking, drops a failed batch with only a meta-log warning.
 *
 * @module
 */

import type { Drainable, LogRecord, Sink } from "@logtape/logtape";
import { basename, dirname, join } from "node:path";
import { formatLogLine } from "./_format.ts";
import { flushStderr, writeStderr } from "./_stderr.ts";

/** What a {@linkcode LogFile} needs of the log's options. */
export interface LogFileOptions {
  /** The JSON-lines file; its directory must exist. */
  file: string;
  /** Rotate before a record would make the active file exceed this size. */
  maxBytes: number;
  /** At most this many files in all: the active one plus the rotated ones. */
  maxFiles: number;
}

const encoder = new TextEncoder();

/** A write starts once a buffer holds this many characters… */
const FLUSH_CHARS = 64 * 1024;
/** …or this long after the first buffered record, so `tail -f` stays live. */
const FLUSH_DELAY_MS = 200;

const NEWLINE = encoder.encode("\n");

/** Rethrows all but NotFound, for a file that may be missing. */
function unlessMissing(error: unknown): null {
  if (error instanceof Deno.errors.NotFound) return null;
  throw error;
}

/**
 * The JSON-lines file behind the log; never throws after {@linkcode LogFile.open}.
 * A file that cannot be written sends its records to stderr, saying so once,
 * and a write cut short makes the next one start on a new line, so a full disk
 * costs one unparsable line and never glues two records.
 */
export class LogFile {
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

  /**
   * Takes the limits; nothing is opened until {@linkcode LogFile.open}.
   *
   * @param options the file and its rotation limits, already validated
   */
  constructor(options: LogFileOptions) {
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
      let chunk: Uint8Array<ArrayBuffer>[] = this.#torn ? [NEWLINE] : [];
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
      const info = await Deno.stat(this.#path).catch(unlessMissing);
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

  async #append(chunks: Uint8Array<ArrayBuffer>[], size: number): Promise<void> {
    if (chunks.length === 0) return;
    const file = this.#file!;
    // One buffer, so a batch is one write.
    let data = chunks.length === 1 ? chunks[0] : await new Blob(chunks).bytes();
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
      await Deno.rename(`${this.#path}.${i}`, `${this.#path}.${i + 1}`).catch(unlessMissing);
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
export function markImmediate<T extends Sink>(sink: T): T {
  return Object.defineProperty(sink, Symbol.for("LogTape.sinkSnapshotPolicy.immediate"), {
    value: true,
  });
}

/**
 * The logtape sink over a {@linkcode LogFile}: drainable, and async-disposed by logtape.
 *
 * @param file the open file that the sink's records are appended to
 * @returns a sink whose `drain` flushes the file and whose dispose closes it
 */
export function fileSink(file: LogFile): Sink & Drainable & AsyncDisposable {
  const sink = (record: LogRecord) => file.add(formatLogLine(record));
  return markImmediate(Object.assign(sink, {
    drain: () => file.flush(),
    [Symbol.asyncDispose]: () => file.close(),
  }));
}

/**
 * Removes rotated files that `maxFiles` no longer allows (e.g. after it was lowered).
 *
 * @param file the active file; `<file>.<n>` for `n >= maxFiles` are removed
 * @param maxFiles how many files are allowed, the active one included
 * @throws {Deno.errors.NotFound} if the file's directory does not exist
 */
export async function removeSurplusFiles(
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
