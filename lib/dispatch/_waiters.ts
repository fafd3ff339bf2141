/**
 * Promises waiting for something keyed by id, private to `lib/dispatch/`: the
 * queue's `waitForRun` callers, each resolved when its delivery's run ends,
 * rejected when its signal fires or the queue closes. A waiter that is done is
 * forgotten, so the registry holds only live waits. With the two timers the
 * queue waits with.
 *
 * @module
 */

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** Waiters by id; see the module comment. */
export class Waiters<T> {
  #byId = new Map<string, Set<Waiter<T>>>();

  /**
   * Wait for the next {@linkcode Waiters.settle} of `id`.
   *
   * @param id what to wait for
   * @param signal stops the wait (rejects with its reason); must not be aborted yet
   * @returns the value `settle` is given
   */
  wait(id: string, signal: AbortSignal | undefined): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const waiters = this.#byId.get(id) ?? new Set();
    this.#byId.set(id, waiters);
    const onAbort = () => {
      remove();
      reject(signal!.reason);
    };
    const remove = () => {
      waiters.delete(waiter);
      if (waiters.size === 0) this.#byId.delete(id);
      signal?.removeEventListener("abort", onAbort);
    };
    const waiter: Waiter<T> = {
      resolve: (value) => {
        remove();
        resolve(value);
      },
      reject: (error) => {
        remove();
        reject(error);
      },
    };
    waiters.add(waiter);
    signal?.addEventListener("abort", onAbort, { once: true });
    return promise;
  }

  /**
   * Resolve every wait for `id` with `value`.
   *
   * @param id what happened
   * @param value what its waiters get
   */
  settle(id: string, value: T): void {
    const waiters = this.#byId.get(id);
    if (!waiters) return;
    for (const waiter of [...waiters]) waiter.resolve(value);
  }

  /**
   * Reject every wait.
   *
   * @param error makes each waiter's error
   */
  rejectAll(error: () => unknown): void {
    for (const [, waiters] of this.#byId) {
      for (const waiter of [...waiters]) waiter.reject(error());
    }
  }
}

/** Whether `promise` settles (fulfils or rejects) within `ms`; leaves no timer behind. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolve with undefined after `ms`, or at once when `signal` fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve(undefined);
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
