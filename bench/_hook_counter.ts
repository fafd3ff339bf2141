/**
 * Counting hookd's hook records in its JSON-lines log, for the bench's drain
 * waits.
 *
 * @module
 */

/** Counts hook records in hookd's log, reading only what was appended since the last call. */
export class HookCounter {
  readonly #path: string;
  #offset = 0;
  #rest = "";
  count = 0;
  lastTime = 0;
  /** The first hook record that was not exit 0, if any. */
  firstFailure: string | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  /** Log lines saying `queue error` or `database is locked`, and the first of them. */
  errors = 0;
  firstError: string | undefined;

  async read(): Promise<number> {
    let file;
    try {
      file = await Deno.open(this.#path);
    } catch {
      return this.count;
    }
    try {
      await file.seek(this.#offset, Deno.SeekMode.Start);
      const chunk = new Uint8Array(4 << 20);
      const decoder = new TextDecoder();
      while (true) {
        const n = await file.read(chunk);
        if (n === null) break;
        this.#offset += n;
        const lines = (this.#rest + decoder.decode(chunk.subarray(0, n), { stream: true }))
          .split("\n");
        this.#rest = lines.pop()!;
        for (const line of lines) {
          // Issue 20's target: none of these in a bench run's log.
          if (line.includes("queue error") || line.includes("database is locked")) {
            this.errors++;
            this.firstError ??= line.slice(0, 300);
          }
          if (!line.includes('"type":"hook"')) continue;
          this.count++;
          const record = JSON.parse(line);
          const time = Date.parse(record.time);
          if (time > this.lastTime) this.lastTime = time;
          // A hook that did not run costs nothing: a run with failures measures nothing.
          if (record.exitCode !== 0) this.firstFailure ??= line;
        }
      }
    } finally {
      file.close();
    }
    return this.count;
  }
}
