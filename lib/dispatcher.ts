/**
 * The in-memory dispatcher: deliveries wait in arrival order and at most
 * `maxConcurrent` hooks run at once. It keeps nothing across restarts;
 * the durable queue (`lib/queue.ts`) replaces it where a store is set up.
 *
 * @module
 */

import type { NewDelivery } from "./app.ts";

/** A delivery with its hookd id. */
export interface Delivery extends NewDelivery {
  /** hookd's own delivery id. */
  id: string;
}

/** Options for {@linkcode createDispatcher}. */
export interface DispatcherOptions {
  /** Hooks running at once, at most. */
  maxConcurrent: number;
  /** Run one delivery's hook; must not throw. */
  run: (delivery: Delivery, signal: AbortSignal) => Promise<void>;
}

/** The dispatcher's face. */
export interface Dispatcher extends AsyncDisposable {
  /** Queue a delivery; ignored ones (no hook) are not queued. */
  accept(delivery: NewDelivery): Promise<{ id: string; duplicate: boolean }>;
  /** How many hooks are running now. */
  readonly running: number;
  /** How many deliveries wait. */
  readonly waiting: number;
  /**
   * Stop taking work and wait for running hooks; after `timeoutMs` they
   * are aborted (terminated like a time-out).
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Create an in-memory dispatcher.
 *
 * @param options the cap and the runner
 * @returns the dispatcher
 * @throws {RangeError} when `maxConcurrent` is not a positive whole number
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  if (!Number.isSafeInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
    throw new RangeError("createDispatcher: maxConcurrent must be a positive whole number");
  }
  const waiting: Delivery[] = [];
  const runs = new Set<Promise<void>>();
  const abort = new AbortController();
  let closed = false;

  function pump() {
    while (!closed && runs.size < options.maxConcurrent && waiting.length > 0) {
      const delivery = waiting.shift()!;
      const run: Promise<void> = options.run(delivery, abort.signal)
        .catch(() => {})
        .finally(() => {
          runs.delete(run);
          pump();
        });
      runs.add(run);
    }
  }

  async function close(timeoutMs: number) {
    closed = true;
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      await Promise.all(runs);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    accept(delivery) {
      const id = crypto.randomUUID();
      if (closed) return Promise.reject(new Error("Dispatcher is closed"));
      if (delivery.hook) {
        waiting.push({ ...delivery, id });
        pump();
      }
      return Promise.resolve({ id, duplicate: false });
    },
    get running() {
      return runs.size;
    },
    get waiting() {
      return waiting.length;
    },
    close,
    [Symbol.asyncDispose]() {
      return close(0);
    },
  };
}
