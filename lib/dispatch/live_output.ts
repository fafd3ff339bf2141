/**
 * The live output of the hooks running in this process, for watchers (the
 * admin event stream, `hookd show --follow`). One bounded buffer per running
 * delivery, shared by all its watchers, so memory per run stays at the
 * excerpt size however many watch; watchers are woken by writes, never poll.
 *
 * @module
 */

import type { OutputEnd, OutputSnapshot } from "../store/mod.ts";

/** A running delivery's output, as one watcher sees it. */
export interface LiveRun {
  /** What has been written so far (a fresh object each time). */
  snapshot(): OutputSnapshot;
  /** Resolves at the next write or at the end, or when `signal` fires. */
  changed(signal: AbortSignal): Promise<void>;
}

/** Default bound per stream: the stored excerpt's. */
const DEFAULT_LIMIT_BYTES = 65536;

class Run implements LiveRun {
  readonly attempt: number;
  #limit: number;
  #text = { stdout: "", stderr: "" };
  #kept = { stdout: 0, stderr: 0 };
  #truncated = { stdout: false, stderr: false };
  #decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  #end: OutputEnd | undefined;
  #wakers = new Set<() => void>();

  constructor(attempt: number, limit: number) {
    this.attempt = attempt;
    this.#limit = limit;
  }

  write(stream: "stdout" | "stderr", bytes: Uint8Array): void {
    if (this.#end) return;
    const room = this.#limit - this.#kept[stream];
    if (room <= 0) {
      if (bytes.byteLength > 0 && !this.#truncated[stream]) {
        this.#truncated[stream] = true;
        // A character cut at the bound ends as U+FFFD, as the stored excerpt does.
        this.#text[stream] += this.#decoders[stream].decode();
        this.#wake();
      }
      return;
    }
    const part = bytes.byteLength > room ? bytes.subarray(0, room) : bytes;
    this.#kept[stream] += part.byteLength;
    this.#text[stream] += this.#decoders[stream].decode(part, { stream: true });
    if (part.byteLength < bytes.byteLength) {
      this.#truncated[stream] = true;
      this.#text[stream] += this.#decoders[stream].decode();
    }
    this.#wake();
  }

  finish(end: OutputEnd): void {
    if (this.#end) return;
    for (const stream of ["stdout", "stderr"] as const) {
      if (!this.#truncated[stream]) this.#text[stream] += this.#decoders[stream].decode();
    }
    this.#end = end;
    this.#wake();
  }

  snapshot(): OutputSnapshot {
    return {
      attempt: this.attempt,
      stdout: this.#text.stdout,
      stderr: this.#text.stderr,
      stdoutTruncated: this.#truncated.stdout,
      stderrTruncated: this.#truncated.stderr,
      ...(this.#end ? { end: this.#end } : {}),
    };
  }

  changed(signal: AbortSignal): Promise<void> {
    if (this.#end || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#wakers.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#wakers.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }
}

/**
 * The hub: the queue feeds it (`begin`, `write`, `end`), watchers `watch` it.
 * A run leaves the hub at its end; later watchers read the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LiveOutput } from "./live_output.ts";
 *
 * const hub = new LiveOutput({ limitBytes: 4 });
 * hub.begin("01J", 1);
 * const run = hub.watch("01J")!;
 * hub.write("01J", "stdout", new TextEncoder().encode("abcdef"));
 * assert.equal(run.snapshot().stdout, "abcd");
 * assert.equal(run.snapshot().stdoutTruncated, true);
 * ```
 */
export class LiveOutput {
  #runs = new Map<string, Run>();
  #starts = new Map<string, Set<() => void>>();
  #limit: number;
  #settled: ((id: string, signal: AbortSignal) => Promise<unknown>) | undefined;
  #finishing = new Map<string, { count: number; stop: AbortController; done: Promise<void> }>();

  /**
   * @param options `limitBytes` per stream (default: the store's excerpt); `settled`:
   *   resolves when the delivery's run ends on any instance (the queue's `waitForRun`)
   */
  constructor(
    options: {
      limitBytes?: number;
      settled?: (id: string, signal: AbortSignal) => Promise<unknown>;
    } = {},
  ) {
    this.#settled = options.settled;
    this.#limit = options.limitBytes ?? DEFAULT_LIMIT_BYTES;
    if (!Number.isInteger(this.#limit) || this.#limit < 0) {
      throw new RangeError(`LiveOutput: limitBytes must be a whole number: got ${this.#limit}`);
    }
  }

  /**
   * A run of the delivery starts here.
   *
   * @param id the delivery
   * @param attempt the run's attempt number
   */
  begin(id: string, attempt: number): void {
    this.#runs.set(id, new Run(attempt, this.#limit));
    const waiting = this.#starts.get(id);
    this.#starts.delete(id);
    for (const wake of waiting ?? []) wake();
  }

  /**
   * A piece of the running hook's output.
   *
   * @param id the delivery
   * @param stream which pipe it came from
   * @param bytes what was read (copied as far as the bound allows; not kept)
   */
  write(id: string, stream: "stdout" | "stderr", bytes: Uint8Array): void {
    this.#runs.get(id)?.write(stream, bytes);
  }

  /**
   * The run ended and is recorded: watchers get `end`, and the run leaves the hub.
   *
   * @param id the delivery
   * @param end how it ended (the queue's `run-end` event will do; `timedOut` is read from `outcome`)
   */
  end(id: string, end: Omit<OutputEnd, "timedOut">): void {
    const run = this.#runs.get(id);
    if (!run) return;
    this.#runs.delete(id);
    const { outcome, exitCode, signal, durationMs, state } = end;
    const timedOut = outcome === "timed_out";
    run.finish({ outcome, exitCode, signal, timedOut, durationMs, state });
  }

  /**
   * The delivery's run in progress in this process.
   *
   * @param id the delivery
   * @returns the run, or undefined when none of it runs here now
   */
  watch(id: string): LiveRun | undefined {
    return this.#runs.get(id);
  }

  /**
   * Resolves when a run of the delivery begins here, or when `signal` fires.
   *
   * @param id the delivery
   * @param signal stops waiting
   */
  started(id: string, signal: AbortSignal): Promise<void> {
    if (this.#runs.has(id) || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.#starts.get(id);
      if (!set) this.#starts.set(id, set = new Set());
      const done = () => {
        const waiting = this.#starts.get(id);
        waiting?.delete(done);
        if (waiting?.size === 0) this.#starts.delete(id);
        signal.removeEventListener("abort", done);
        resolve();
      };
      set.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * Resolves when the delivery's run ends on any instance (a shared store), or
   * when `signal` fires. All watchers of one delivery share one wait, which
   * stops once the last of them has gone.
   *
   * @param id the delivery
   * @param signal stops waiting
   */
  finished(id: string, signal: AbortSignal): Promise<void> {
    const settled = this.#settled;
    if (!settled) {
      return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
    }
    if (signal.aborted) return Promise.resolve();
    let shared = this.#finishing.get(id);
    if (!shared) {
      const stop = new AbortController();
      const entry = {
        count: 0,
        stop,
        done: settled(id, stop.signal).then(() => {}, () => {}).finally(() => {
          if (this.#finishing.get(id) === entry) this.#finishing.delete(id);
        }),
      };
      this.#finishing.set(id, shared = entry);
    }
    const entry = shared;
    entry.count++;
    return new Promise((resolve) => {
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        signal.removeEventListener("abort", leave);
        if (--entry.count === 0) {
          entry.stop.abort();
          if (this.#finishing.get(id) === entry) this.#finishing.delete(id);
        }
        resolve();
      };
      entry.done.then(leave);
      signal.addEventListener("abort", leave, { once: true });
    });
  }

  /** How many runs and waits are held now (for tests: it goes back to 0). */
  get size(): number {
    return this.#runs.size + this.#starts.size + this.#finishing.size;
  }
}
