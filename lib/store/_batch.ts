/**
 * Group commit for both stores (inserts, and SQLite's run bookkeeping):
 * what is asked for within one turn of the event loop, or within `maxWaitMs`
 * of the first, is written in one batch; what comes while a batch is written
 * waits and forms the next one, so batches grow with the load, not the commits.
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";

const MAX_BATCH = 500;

/** One item's outcome in a written batch. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Queued<In, Out> {
  item: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

/** Options for {@linkcode Batcher}. */
export interface BatcherOptions<In, Out> {
  /** How long the first item of a batch waits for others; 0: until this turn's I/O was handled. */
  maxWaitMs: number;
  /**
   * Write a batch: one outcome per item, in order; a throw fails every item
   * with what it threw. `committed()`: the items no longer count in `size`.
   */
  write(items: In[], committed: () => void): Promise<Outcome<Out>[]>;
  /** While this returns a promise, the next batch waits for it. */
  pause?(): Promise<void> | undefined;
}

/** Queues items and writes them in batches, one batch at a time, in order. */
export class Batcher<In, Out> {
  #options: BatcherOptions<In, Out>;
  #queue: Queued<In, Out>[] = [];
  /** Items in the batch being written. */
  #writing = 0;
  #busy: Promise<void> | undefined;
  #cancel: (() => void) | undefined;

  constructor(options: BatcherOptions<In, Out>) {
    this.#options = options;
  }

  /** Queue an item for the next batch; resolves to its outcome once its batch was written. */
  add(item: In): Promise<Out> {
    const { promise, resolve, reject } = Promise.withResolvers<Out>();
    this.#queue.push({ item, resolve, reject });
    if (this.#queue.length >= MAX_BATCH) this.#schedule(0);
    else if (!this.#cancel) this.#schedule(this.#options.maxWaitMs);
    return promise;
  }

  /** Items queued or being written, until committed. */
  get size(): number {
    return this.#queue.length + this.#writing;
  }

  /** Write everything queued without waiting out `maxWaitMs`; resolves once all is settled. */
  async flush(): Promise<void> {
    while (this.#busy || this.#queue.length > 0) await this.#run();
  }

  #schedule(waitMs: number): void {
    // The batch being written schedules the next when it is done.
    if (this.#busy) return;
    this.#cancel?.();
    if (waitMs > 0) {
      const timer = setTimeout(() => this.#run(), waitMs);
      this.#cancel = () => clearTimeout(timer);
    } else {
      // Not setTimeout(0), which costs milliseconds: an immediate still runs after the
      // I/O of this turn, so requests that arrived together share the batch.
      const immediate = setImmediate(() => this.#run());
      this.#cancel = () => clearImmediate(immediate);
    }
  }

  #run(): Promise<void> {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#busy ??= this.#writeNext().finally(() => {
      this.#busy = undefined;
      if (this.#queue.length > 0) this.#schedule(0);
    });
    return this.#busy;
  }

  async #writeNext(): Promise<void> {
    const paused = this.#options.pause?.();
    if (paused) await paused;
    const batch = this.#queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.#writing = batch.length;
    let outcomes: Outcome<Out>[];
    try {
      outcomes = await this.#options.write(
        batch.map((queued) => queued.item),
        () => this.#writing = 0,
      );
    } catch (error) {
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    this.#writing = 0;
    batch.forEach((queued, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) queued.resolve(outcome.value);
      else queued.reject(outcome.error);
    });
  }
}
