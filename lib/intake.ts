/**
 * Intake: a verified delivery becomes a committed row in the store and a
 * nudge to the queue, or a precise refusal the sender will retry: 429 at
 * the queue cap, 503 when the store cannot commit. Nothing is claimed
 * accepted that is not stored.
 *
 * @module
 */

import type { NewDelivery } from "./app.ts";
import { HttpError } from "./http_error.ts";
import type { Queue } from "./queue.ts";
import { type Store, StoreUnavailableError } from "./store.ts";

/** Options for {@linkcode createIntake}. */
export interface IntakeOptions {
  /** Deliveries waiting (queued, or being committed) before 429. */
  maxQueue: number;
  /** The `Retry-After` of a 429, in seconds. */
  retryAfterSeconds?: number;
}

/** What the app calls for each verified delivery. */
export type Accept = (delivery: NewDelivery) => Promise<{ id: string; duplicate: boolean }>;

/** Header names whose values are credentials or signatures: never stored. */
const SECRET_HEADER = /signature|token|secret|authorization|cookie|hmac|api-key/i;

/**
 * The headers kept with a stored delivery: everything but credentials and
 * signatures, which are replaced by `[redacted]` so a replay shows they
 * were there.
 *
 * @param headers the request headers
 * @returns the headers to store
 *
 * @example
 * ```ts
 * import { storedHeaders } from "./intake.ts";
 * const kept = storedHeaders(new Headers({ "x-hub-signature-256": "sha256=ab", "x-github-event": "push" }));
 * console.assert(kept["x-hub-signature-256"] === "[redacted]" && kept["x-github-event"] === "push");
 * ```
 */
export function storedHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    kept[name] = SECRET_HEADER.test(name) ? "[redacted]" : value;
  }
  return kept;
}

/**
 * Build the accept function over a store and its queue.
 *
 * @param store the delivery store
 * @param queue the queue to notify
 * @param options the back-pressure limit
 * @returns the accept function
 * @throws {RangeError} when `maxQueue` is not a positive whole number
 */
export function createIntake(
  store: Store,
  queue: Pick<Queue, "notify">,
  options: IntakeOptions,
): Accept {
  if (!Number.isSafeInteger(options.maxQueue) || options.maxQueue < 1) {
    throw new RangeError("createIntake: maxQueue must be a positive whole number");
  }
  const retryAfter = String(options.retryAfterSeconds ?? 5);
  return async function accept(delivery) {
    let result;
    try {
      if (delivery.hook) {
        const counts = store.counts();
        if (counts.queued + counts.inserting >= options.maxQueue) {
          throw new HttpError(429, "Queue is full: retry later", {
            headers: { "Retry-After": retryAfter },
            outcome: "rejected.queue_full",
          });
        }
      }
      result = await store.insert({
        endpoint: delivery.endpoint,
        event: delivery.event,
        sourceId: delivery.sourceId,
        receivedAt: delivery.receivedAt,
        contentType: delivery.contentType,
        headers: delivery.headers,
        body: delivery.payload,
        hook: delivery.hook?.command ?? null,
        timeoutMs: delivery.timeoutMs,
        verifiedBy: delivery.verifiedBy,
      });
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        throw new HttpError(503, "Delivery could not be stored: retry later", {
          headers: { "Retry-After": String(error.retryAfterSeconds) },
          outcome: "rejected.store_unavailable",
          cause: error,
        });
      }
      throw error;
    }
    if (!result.duplicate && result.state === "queued") queue.notify();
    return { id: result.id, duplicate: result.duplicate };
  };
}
