/**
 * Waiting for a promise with a bound, private to `lib/dispatch/`: the hook
 * runner bounds the drain of a hook's pipes with it, the queue its wait for
 * running hooks on close.
 *
 * @module
 */

/**
 * Whether `promise` settles (fulfils or rejects) within `ms`. Leaves no timer
 * behind, and never rejects: a rejection counts as settled.
 *
 * @param promise what to wait for
 * @param ms the longest wait, in milliseconds
 * @returns true when it settled in time, false otherwise
 * @example
 * ```ts
 * import { settleWithin } from "./_settle.ts";
 * console.assert(await settleWithin(Promise.resolve(), 10));
 * ```
 */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
