/**
 * Per-remote rate limiting (`HOOKD_RATE_LIMIT`): a token bucket per client
 * key, in bounded memory; the caller passes the clock. Not
 * `hono-rate-limiter`: it counts fixed windows (twice the limit across a
 * window edge), keeps an entry per client with no cap, and cleans up on a
 * timer of its own.
 *
 * @module
 */

import { networkAddress, parseAddress, type RateLimitSpec } from "../config/mod.ts";

/** Options for {@linkcode createRateLimiter}. */
export interface RateLimiterOptions extends RateLimitSpec {
  /**
   * Buckets kept at most; the least recently used is dropped first (it has
   * had the longest to refill, so dropping it forgives the least). Default
   * 10000.
   */
  maxKeys?: number;
}

/** The verdict on one request. */
export interface RateLimitVerdict {
  /** Whether the request may go ahead. */
  ok: boolean;
  /** Whole seconds until a token is back (for `Retry-After`); 0 when `ok`. */
  retryAfterSeconds: number;
}

/** A set of token buckets by key. */
export interface RateLimiter {
  /**
   * Take a token from `key`'s bucket.
   *
   * @param key the client, e.g. from {@linkcode rateLimitKey}
   * @param now the clock in milliseconds (`Date.now()` or `performance.now()`,
   *   the same one every call)
   */
  take(key: string, now: number): RateLimitVerdict;
  /** Buckets held now. */
  readonly size: number;
}

/**
 * Create a rate limiter.
 *
 * @param options the rate, the burst and the memory bound
 * @returns the limiter
 * @throws {RangeError} when `rate` is not positive, `burst` is below 1, or
 *   `maxKeys` is not a positive whole number
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRateLimiter } from "./rate_limit.ts";
 * const limiter = createRateLimiter({ rate: 1, burst: 2 });
 * assert.ok(limiter.take("192.0.2.1", 0).ok && limiter.take("192.0.2.1", 0).ok);
 * assert.equal(limiter.take("192.0.2.1", 0).retryAfterSeconds, 1);
 * ```
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { rate, burst } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  if (!(Number.isFinite(rate) && rate > 0)) {
    throw new RangeError("createRateLimiter: rate must be a positive number of tokens per second");
  }
  if (!(Number.isFinite(burst) && burst >= 1)) {
    throw new RangeError("createRateLimiter: burst must be at least 1");
  }
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError("createRateLimiter: maxKeys must be a positive whole number");
  }
  // A Map iterates in insertion order; re-inserting on each take keeps the
  // least recently used bucket first.
  const buckets = new Map<string, { tokens: number; at: number }>();

  return {
    take(key, now) {
      const bucket = buckets.get(key);
      let tokens = burst;
      let at = now;
      if (bucket) {
        buckets.delete(key);
        // A clock that steps back refills nothing rather than draining.
        at = Math.max(now, bucket.at);
        tokens = Math.min(burst, bucket.tokens + ((at - bucket.at) / 1000) * rate);
      } else {
        while (buckets.size >= maxKeys) {
          buckets.delete(buckets.keys().next().value!);
        }
      }
      if (tokens >= 1) {
        buckets.set(key, { tokens: tokens - 1, at });
        return { ok: true, retryAfterSeconds: 0 };
      }
      buckets.set(key, { tokens, at });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / rate)) };
    },
    get size() {
      return buckets.size;
    },
  };
}

/**
 * The bucket key for a client address: an IPv4 address as is, an IPv6
 * address by its /64 (one host usually holds a whole /64, so per-address
 * buckets would be free to multiply). Anything else is used as given.
 *
 * @param address a client address, e.g. from `clientAddress()`
 * @returns the key
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimitKey } from "./rate_limit.ts";
 * assert.equal(rateLimitKey("2001:db8:1:2::5"), rateLimitKey("2001:db8:1:2::9"));
 * assert.equal(rateLimitKey("::ffff:192.0.2.1"), "192.0.2.1");
 * ```
 */
export function rateLimitKey(address: string): string {
  const parsed = parseAddress(address);
  if (parsed === undefined) return address;
  if (!parsed.includes(":")) return parsed;
  return `${networkAddress(parsed.split("%")[0], 64)}/64`;
}
