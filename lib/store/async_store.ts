/**
 * The store contract with every operation returning a Promise
 * ({@linkcode AsyncStore}): what a store over a network database (the
 * PostgreSQL store) can promise, and what the synchronous SQLite store
 * becomes through {@linkcode asyncStore}. Callers written against it work
 * with either.
 *
 * @module
 */

import type {
  ClaimedDelivery,
  DeliveryDetail,
  DeliveryFilter,
  DeliverySummary,
  InsertResult,
  NewDelivery,
  NextState,
  QueueCounts,
  QueuedRef,
  RequeueResult,
  RunEnd,
  Store,
  StoreStats,
} from "./types.ts";

/**
 * {@linkcode Store}'s operations, same names, arguments and meaning, each
 * resolving to what the synchronous one returns, or rejecting with what it
 * throws. Dispose it with `await using` (or `await close()`).
 */
export interface AsyncStore extends AsyncDisposable {
  /** Where the deliveries are: the SQLite file, or the PostgreSQL URL without its password. */
  readonly path: string;
  /** How long deliveries are kept and duplicates recognised, milliseconds. */
  readonly retentionMs: number;
  /** See {@linkcode Store.insert}. */
  insert(delivery: NewDelivery): Promise<InsertResult>;
  /** See {@linkcode Store.get}. */
  get(id: string): Promise<DeliveryDetail | null>;
  /** See {@linkcode Store.list}. */
  list(filter?: DeliveryFilter): Promise<DeliverySummary[]>;
  /** See {@linkcode Store.counts}. */
  counts(): Promise<QueueCounts>;
  /** See {@linkcode Store.requeue}. */
  requeue(ids: readonly string[]): Promise<RequeueResult>;
  /** See {@linkcode Store.requeueMatching}. */
  requeueMatching(filter: DeliveryFilter): Promise<RequeueResult>;
  /** See {@linkcode Store.purge}. */
  purge(olderThan: number, options?: { limit?: number }): Promise<number>;
  /** See {@linkcode Store.recover}. */
  recover(): Promise<number>;
  /** See {@linkcode Store.queuedEndpoints}. */
  queuedEndpoints(): Promise<string[]>;
  /** See {@linkcode Store.queued}. */
  queued(endpoint: string, options?: { limit?: number; newest?: boolean }): Promise<QueuedRef[]>;
  /** See {@linkcode Store.supersede}. */
  supersede(endpoint: string, keepId: string): Promise<string[]>;
  /** See {@linkcode Store.claim}. */
  claim(id: string): Promise<ClaimedDelivery | null>;
  /** See {@linkcode Store.finishRun}. */
  finishRun(
    claimed: Pick<ClaimedDelivery, "id" | "runId">,
    end: RunEnd,
    next: NextState,
  ): Promise<void>;
  /** See {@linkcode Store.stats}. */
  stats(): Promise<StoreStats>;
  /** Commit pending inserts and close; later calls reject with `StoreUnavailableError`. */
  close(): Promise<void>;
}

/**
 * The synchronous store behind the async contract: each call runs exactly as
 * before, its result or error handed over as a settled Promise.
 *
 * @param store a synchronous store; closing the wrapper closes it
 * @returns the same store, every operation returning a Promise
 * @example
 * ```ts
 * import { openStore } from "./mod.ts";
 * import { asyncStore } from "./async_store.ts";
 *
 * await using store = asyncStore(openStore(":memory:"));
 * console.assert((await store.counts()).queued === 0);
 * ```
 */
export function asyncStore(store: Store): AsyncStore {
  const call = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
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
    counts: () => call(() => store.counts()),
    requeue: (ids) => call(() => store.requeue(ids)),
    requeueMatching: (filter) => call(() => store.requeueMatching(filter)),
    purge: (olderThan, options) => call(() => store.purge(olderThan, options)),
    recover: () => call(() => store.recover()),
    queuedEndpoints: () => call(() => store.queuedEndpoints()),
    queued: (endpoint, options) => call(() => store.queued(endpoint, options)),
    supersede: (endpoint, keepId) => call(() => store.supersede(endpoint, keepId)),
    claim: (id) => call(() => store.claim(id)),
    finishRun: (claimed, end, next) => call(() => store.finishRun(claimed, end, next)),
    stats: () => call(() => store.stats()),
    close: () => call(() => store.close()),
    [Symbol.asyncDispose]: () => call(() => store.close()),
  };
}
