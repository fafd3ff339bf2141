/**
 * Limits that factories check their options against: the longest delay a
 * timer can keep, and the non-negative numbers options must be. Checked
 * once, when a factory is called, never per request.
 *
 * @module
 */

/** The longest delay `setTimeout` keeps (2^31-1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Refuse a value that is not a finite number of 0 or more.
 *
 * @param where the factory, e.g. `openStore` or `runHook()`
 * @param name the option's name, e.g. `busyTimeoutMs`
 * @throws {RangeError} naming the factory, the option and the value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNonNegative } from "./limits.ts";
 * checkNonNegative("openStore", "retentionMs", 0);
 * assert.throws(() => checkNonNegative("openStore", "retentionMs", -1), RangeError);
 * ```
 */
export function checkNonNegative(where: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${where}: ${name} must be a finite number >= 0: got ${value}`);
  }
}

/** How long deliveries are kept and duplicates recognised when `HOOKD_RETENTION` is not set: 7 days. */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;
