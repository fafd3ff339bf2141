/**
 * `HOOKD_RATE_LIMIT` as the admin writes it: a rate and a burst, or off.
 *
 * @module
 */

/** A rate and a burst, as parsed from `HOOKD_RATE_LIMIT`. */
export interface RateLimitSpec {
  /** Tokens added per second. */
  rate: number;
  /** The bucket's size: requests allowed at once after a quiet spell. */
  burst: number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * Parse `HOOKD_RATE_LIMIT`: `<count>/<s|m|h>`, optionally followed by
 * `burst=<n>` (default: `count`, at least 1), e.g. `60/m` or
 * `10/s burst=20`. `off` or an empty value turns the limit off.
 *
 * @returns the spec, or `undefined` when off
 * @throws {RangeError} naming the variable and the format
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRateLimit } from "./rate_limit_spec.ts";
 * const spec = parseRateLimit("120/m burst=30", "HOOKD_RATE_LIMIT");
 * assert.ok(spec?.rate === 2 && spec.burst === 30);
 * assert.equal(parseRateLimit("off", "HOOKD_RATE_LIMIT"), undefined);
 * ```
 */
export function parseRateLimit(value: string, variable: string): RateLimitSpec | undefined {
  const text = value.trim();
  if (text === "" || text === "off") return undefined;
  const match = /^(\d{1,9})\s*\/\s*([smh])(?:\s*[,\s]\s*burst\s*=\s*(\d{1,9}))?$/.exec(text);
  const count = match ? Number(match[1]) : 0;
  const burst = match?.[3] === undefined ? Math.max(1, count) : Number(match[3]);
  if (!match || count < 1 || burst < 1) {
    throw new RangeError(
      `${variable} is "${value}": write requests per second, minute or hour, e.g. 60/m or 10/s burst=20, or off`,
    );
  }
  return { rate: count / UNIT_SECONDS[match[2]], burst };
}
