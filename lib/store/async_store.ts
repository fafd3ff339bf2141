/**
 * The SQLite store behind the async contract: {@linkcode asyncStore} hands
 * each synchronous result (or error) over as a settled Promise, so that
 * SQLite runs exactly as before and callers are written once for SQLite and
 * PostgreSQL.
 *
 * @module
 */

import type { Store, SyncStore } from "./contract.ts";
import { isLockError } from "./_sqlite.ts";

/**
 * The synchronous store behind the async contract. A store with one process
 * has no other instance's expired claims or runs: `reclaimExpired` answers 0
 * and `runningByEndpoint` none. What another process re-queues (`hookd
 * replay`) is announced by touching `<path>-requeued`, which `listen` watches,
 * so an idle daemon learns of it at once without polling.
 *
 * The dispatcher's writes (`claim`, `recordProcessGroup`, `finishRun`) made
 * in one turn of the event loop share one transaction ({@linkcode SyncStore.batch}),
 * committed once the turn's I/O was handled: with many hooks ending at
 * once, one commit instead of one per write. Each still succeeds or fails
 * alone.
 *
 * @param store a synchronous store; closing the wrapper closes it
 * @returns the same store, every operation returning a Promise
 * @example
 * ```ts
 * import { openSqliteStore } from "./mod.ts";
 * import { asyncStore } from "./async_store.ts";
 *
 * await using store = asyncStore(openSqliteStore(":memory:"));
 * console.assert((await store.counts()).queued === 0);
 * ```
 */
export function asyncStore(store: SyncStore): Store {
  const call = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const batched = writeBatcher(store);
  const requeued = store.path === ":memory:" ? undefined : `${store.path}-requeued`;
  const announce = <T>(result: T): T => {
    if (requeued !== undefined) {
      try {
        Deno.writeTextFileSync(requeued, String(Date.now()), { mode: 0o600 });
      } catch {
        // Only a nudge: the daemon's poll finds the work anyway, later.
      }
    }
    return result;
  };
  return {
    get path() {
      return store.path;
    },
    get retentionMs() {
      return store.retentionMs;
    },
    insert: (delivery) => store.insert(delivery),
    get: (id) => call(() => store.get(id)),
    list: (filter) => call(() => store.list(filter)),
    activity: (since, until) => call(() => store.activity(since, until)),
    counts: () => call(() => store.counts()),
    requeue: (ids, options) => call(() => announce(store.requeue(ids, options))),
    requeueMatching: (filter, options) =>
      call(() => announce(store.requeueMatching(filter, options))),
    purge: (olderThan, options) => call(() => store.purge(olderThan, options)),
    recover: () => call(() => store.recover()),
    queuedEndpoints: () => call(() => store.queuedEndpoints()),
    queued: (endpoint, options) => call(() => store.queued(endpoint, options)),
    supersede: (endpoint, keepId) => call(() => store.supersede(endpoint, keepId)),
    claim: (id) => batched(() => store.claim(id)),
    reclaimExpired: () => Promise.resolve(0),
    runningByEndpoint: () => Promise.resolve(new Map()),
    listen: (onWork) => Promise.resolve(watchRequeued(requeued, onWork)),
    recordProcessGroup: (claimed, group) => batched(() => store.recordProcessGroup(claimed, group)),
    runningGroups: () => call(() => store.runningGroups()),
    finishRun: (claimed, end, next) => batched(() => store.finishRun(claimed, end, next)),
    stats: () => call(() => store.stats()),
    close: () => call(() => store.close()),
    [Symbol.asyncDispose]: () => call(() => store.close()),
  };
}

/** Call `onWork` whenever the file is written; nothing when it cannot be watched. */
function watchRequeued(
  path: string | undefined,
  onWork: () => void,
): { unlisten(): Promise<void> } {
  let watcher: Deno.FsWatcher;
  try {
    if (path === undefined) throw new Error("in memory");
    Deno.writeTextFileSync(path, "", { append: true, mode: 0o600 });
    watcher = Deno.watchFs(path, { recursive: false });
  } catch {
    return { unlisten: () => Promise.resolve() };
  }
  const done = (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "modify" || event.kind === "create") onWork();
      }
    } catch {
      // Closed, or the file went away: the poll still finds re-queued work.
    }
  })();
  return {
    async unlisten() {
      watcher.close();
      await done;
    },
  };
}

interface Queued {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The first wait for another connection's write lock, and the jitter added to it. */
const RETRY_MIN_MS = 2;
const RETRY_JITTER_MS = 8;

/**
 * Collects writes until the turn's I/O was handled, then runs them in one
 * batch. A batch that finds the write lock taken (another process, the
 * checkpointer's last pass) is tried again on a timer, with the writes
 * queued meanwhile, until it has waited the store's `busyTimeoutMs`, as
 * inserts are: SQLite's own busy wait would stop the event loop.
 */
function writeBatcher(store: SyncStore): <T>(work: () => T) => Promise<T> {
  let queued: Queued[] = [];
  /** When the writes waiting for the lock first met it; undefined while none wait. */
  let lockedSince: number | undefined;
  const flush = () => {
    const writes = queued;
    queued = [];
    const settled: { ok: boolean; value: unknown }[] = [];
    try {
      store.batch(() => {
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
      const left = lockedSince + store.busyTimeoutMs - now;
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
