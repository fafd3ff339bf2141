/**
 * The SQLite store's batching of the dispatcher's writes (`claim`,
 * `recordProcessGroup`, `finishRun`): those asked for in one turn of the
 * event loop share one transaction, committed once the turn's I/O was
 * handled, so many hooks ending at once cost one commit instead of one
 * each. Each write still succeeds or fails alone (a savepoint).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { isLockError } from "./_sqlite.ts";

interface Queued {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The first wait for another connection's write lock, and the jitter added to it. */
const RETRY_MIN_MS = 2;
const RETRY_JITTER_MS = 8;

/**
 * Collect writes until the turn's I/O was handled, then run them through
 * `batch`. A batch that finds the write lock taken (another process, the
 * checkpointer's last pass) is tried again on a timer, with the writes
 * queued meanwhile, until it has waited `busyTimeoutMs()`, as inserts are:
 * SQLite's own busy wait would stop the event loop.
 *
 * @param batch runs its work in one transaction, each write a savepoint;
 *   throws when the transaction could not begin or commit
 * @param busyTimeoutMs how long the writes may wait for the lock
 * @returns queue a write; its Promise settles once its batch committed
 */
export function writeBatcher(
  batch: (work: () => void) => void,
  busyTimeoutMs: number,
): <T>(work: () => T) => Promise<T> {
  let queued: Queued[] = [];
  /** When the writes waiting for the lock first met it; undefined while none wait. */
  let lockedSince: number | undefined;
  const flush = () => {
    const writes = queued;
    queued = [];
    const settled: { ok: boolean; value: unknown }[] = [];
    try {
      batch(() => {
        for (const { work } of writes) {
          try {
            settled.push({ ok: true, value: work() });
          } catch (error) {
            settled.push({ ok: false, value: error });
          }
        }
      });
    } catch (error) {
      // Begin or commit failed: none of the writes stayed.
      const now = performance.now();
      lockedSince ??= now;
      const left = lockedSince + busyTimeoutMs - now;
      if (left > 0 && isLockError((error as Error).cause ?? error)) {
        queued = [...writes, ...queued];
        setTimeout(flush, Math.min(RETRY_MIN_MS + Math.random() * RETRY_JITTER_MS, left));
        return;
      }
      lockedSince = undefined;
      for (const write of writes) write.reject(error);
      return;
    }
    lockedSince = undefined;
    writes.forEach((write, i) => {
      const { ok, value } = settled[i];
      if (ok) write.resolve(value);
      else write.reject(value);
    });
  };
  return <T>(work: () => T) =>
    new Promise<T>((resolve, reject) => {
      if (queued.length === 0 && lockedSince === undefined) setImmediate(flush);
      queued.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
}
