/**
 * Intake: a verified delivery becomes a committed row in the store and a
 * nudge to the queue, or a precise refusal the sender will retry: 429 at
 * the queue cap, 503 when the store cannot commit. Nothing is claimed
 * accepted that is not stored.
 *
 * @module
 */

import { HttpError } from "./http_error.ts";
import { type NewDelivery, type Store, StoreUnavailableError } from "../store/mod.ts";
import { isSecretName } from "../log/mod.ts";

/** Options for {@linkcode createIntake}. */
export interface IntakeOptions {
  /** Deliveries waiting (queued, or being committed) before 429 (with `Retry-After: 5`). */
  maxQueue: number;
}

/** A finished hook run, as a synchronous answer (`_RESPOND=output`) reports it. */
export interface HookOutput {
  /** The exit code, or null when killed. */
  exitCode: number | null;
  /** Whether it succeeded. */
  success: boolean;
  /** Whether it ran out of time. */
  timedOut: boolean;
  /** The start of its stdout. */
  stdout: string;
  /** The start of its stderr. */
  stderr: string;
}

/**
 * What intake did with a delivery. For a duplicate, `id`, `event` and
 * `state` are the delivery stored first: the answer says what is stored,
 * not what the resent request's unsigned headers claim.
 */
export interface Accepted {
  /** The stored delivery's id. */
  id: string;
  /** Whether it was already stored (same sender id, or same signed bytes). */
  duplicate: boolean;
  /** The stored delivery's event; omitted when it is this delivery's. */
  event?: string;
  /** The stored delivery's state now. */
  state?: string;
}

/** What the app calls for each verified delivery. */
export type Accept = (delivery: NewDelivery) => Promise<Accepted>;

/**
 * The headers kept with a stored delivery: everything but credentials and
 * signatures, which are replaced by `[redacted]` so a replay shows they
 * were there. Which names those are is the log's rule too
 * (`isSecretName` in `lib/log/secret_name.ts`): what the log hides is never stored.
 *
 * @param options `redact`: more header names to redact, whatever they are
 *   called: the endpoint's own `SIGNATURE_HEADER` or `TOKEN_HEADER` (see
 *   {@linkcode credentialHeaders})
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedHeaders } from "./intake.ts";
 * const kept = storedHeaders(new Headers({ "x-hub-signature-256": "sha256=ab", "x-github-event": "push" }));
 * assert.equal(kept["x-hub-signature-256"], "[redacted]");
 * assert.equal(kept["x-github-event"], "push");
 * ```
 */
export function storedHeaders(
  headers: Headers,
  options: { redact?: readonly string[] } = {},
): Record<string, string> {
  const redact = new Set((options.redact ?? []).map((name) => name.toLowerCase()));
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    kept[name] = isSecretName(name) || redact.has(name) ? "[redacted]" : value;
  }
  return kept;
}

/**
 * The headers an endpoint's settings name as carrying its credential (the
 * generic providers let the admin pick any name, e.g. `X-Deploy-Key`).
 *
 * @param settings the endpoint's provider settings
 * @returns the header names, possibly none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { credentialHeaders, storedHeaders } from "./intake.ts";
 * const redact = credentialHeaders({ TOKEN_HEADER: "X-Deploy-Key" });
 * const kept = storedHeaders(new Headers({ "x-deploy-key": "s3cret" }), { redact });
 * assert.equal(kept["x-deploy-key"], "[redacted]");
 * ```
 */
export function credentialHeaders(settings: Readonly<Record<string, string>>): string[] {
  return [settings.SIGNATURE_HEADER, settings.TOKEN_HEADER].filter((name) => !!name);
}

/**
 * Build the accept function over a store and the queue it notifies.
 *
 * @throws {RangeError} when `maxQueue` is not a positive whole number
 */
export function createIntake(
  store: Store,
  queue: { notify(): void },
  options: IntakeOptions,
): Accept {
  if (!Number.isSafeInteger(options.maxQueue) || options.maxQueue < 1) {
    throw new RangeError("createIntake: maxQueue must be a positive whole number");
  }
  // Accepts of this process between their cap check and their commit: the
  // check reads the store asynchronously, so those that arrived first count
  // for those after them (the store's own `inserting` learns of an insert
  // only once it is called).
  let inFlight = 0;
  return async function accept(delivery) {
    let result;
    // A filtered delivery is stored but never queued: the cap does not apply.
    const queued = !!delivery.hook && delivery.filteredBy === undefined;
    const ahead = queued ? inFlight++ : 0;
    try {
      if (queued) {
        const counts = await store.counts();
        if (counts.queued + Math.max(counts.inserting, ahead) >= options.maxQueue) {
          throw new HttpError(429, "Queue is full: retry later", {
            headers: { "Retry-After": "5" },
            outcome: "rejected.queue_full",
          });
        }
      }
      result = await store.insert(delivery);
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        throw new HttpError(503, "Delivery could not be stored: retry later", {
          headers: { "Retry-After": String(error.retryAfterSeconds) },
          outcome: "rejected.store_unavailable",
          cause: error,
        });
      }
      throw error;
    } finally {
      if (queued) inFlight--;
    }
    if (!result.duplicate) {
      if (result.state === "queued") queue.notify();
      return { id: result.id, duplicate: false, state: result.state };
    }
    const stored = await store.get(result.id).catch(() => null);
    return {
      id: result.id,
      duplicate: true,
      event: stored?.event ?? delivery.event,
      state: stored?.state ?? result.state,
    };
  };
}
