/**
 * `hookd replay` under filters: a replayed delivery meets the filter
 * configured now (`_MATCH_<EVENT>`), not the one it met when it arrived.
 * A `filtered` delivery whose filter now holds is queued like any other;
 * one the filter still refuses is skipped, with the failed condition.
 * Without any filter configured this is exactly the store's own replay.
 *
 * @module
 */

import { type Config, filterMiss } from "../config/mod.ts";
import type {
  DeliveryDetail,
  DeliveryFilter,
  RequeueOptions,
  RequeueResult,
  Store,
} from "../store/mod.ts";

/**
 * Replay deliveries by id, or every finished one a store filter selects,
 * skipping those the filter configured now refuses.
 *
 * @param config the configuration now (for each endpoint's filters)
 * @param target delivery ids, or a store filter (`--state filtered --since 1h`)
 * @param options the hook each delivery runs now (see the store's `requeue`)
 * @returns which were requeued and which skipped, and why
 * @throws {StoreUnavailableError} when the store cannot do the work
 */
export async function replayDeliveries(
  store: Pick<Store, "get" | "list" | "requeue" | "requeueMatching">,
  config: Pick<Config, "endpoints">,
  target: readonly string[] | DeliveryFilter,
  options?: RequeueOptions,
): Promise<RequeueResult> {
  const filtering = [...config.endpoints.values()].some((e) => e.filters.size > 0);
  const byIds = Array.isArray(target);
  if (!filtering) {
    return byIds
      ? await store.requeue(target as string[], options)
      : await store.requeueMatching(target as DeliveryFilter, options);
  }
  const skipped: RequeueResult["skipped"] = [];
  const pass: string[] = [];
  const judge = (id: string, delivery: DeliveryDetail | null) => {
    // Whether it has a hook is the store's to judge with `options` (one may be configured by now).
    const replayable = delivery !== null && delivery.state !== "queued" &&
      delivery.state !== "running";
    const endpoint = replayable ? config.endpoints.get(delivery.endpoint) : undefined;
    const miss = endpoint && filterMiss(endpoint, delivery!.event, delivery!);
    if (miss) skipped.push({ id, reason: "filtered", detail: miss });
    else pass.push(id);
  };
  if (byIds) {
    for (const id of new Set(target as string[])) judge(id, await store.get(id));
  } else {
    const filter = target as DeliveryFilter;
    // What requeueMatching would take: finished deliveries (with a hook, unless `options`
    // may give them one), newest first, up to limit.
    const chosen = (await store.list({ ...filter, limit: Number.MAX_SAFE_INTEGER }))
      .filter((d) => (d.hook !== null || options) && d.state !== "queued" && d.state !== "running")
      .slice(0, filter.limit ?? Infinity)
      // Oldest first, so that replays keep their relative order in the queue.
      .reverse();
    for (const summary of chosen) judge(summary.id, await store.get(summary.id));
  }
  const result = pass.length > 0
    ? await store.requeue(pass, options)
    : { requeued: [], skipped: [] };
  return { requeued: result.requeued, skipped: [...result.skipped, ...skipped] };
}
