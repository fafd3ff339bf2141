/**
 * Durations as the env file writes them: `300s`, `5m`, `2h`, `7d`, and `ms`
 * for tests. A library such as `ms` would also read `100` and `1 day`; the
 * env file is a contract, so only one spelling is accepted.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parse a duration such as `300s` into milliseconds.
 *
 * @param text a whole number followed by `ms`, `s`, `m`, `h` or `d`
 * @returns the duration in milliseconds
 * @throws {RangeError} when the text is not such a duration, or is too
 *   long to count exactly in milliseconds
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 * assert.equal(parseDuration("5m"), 300_000);
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) {
    throw new RangeError(
      `Invalid duration "${text}": write a whole number and a unit, e.g. 300s, 5m, 2h or 7d`,
    );
  }
  const ms = Number(match[1]) * UNITS[match[2]];
  // Nine digits of days overflow the integers a double holds exactly.
  if (!Number.isSafeInteger(ms)) {
    throw new RangeError(`Invalid duration "${text}": too long, write at most 104249991d`);
  }
  return ms;
}

/**
 * The one refusal of a duration setting, worded to follow the variable's name.
 *
 * @returns `is "…", not a duration: …` for a value {@linkcode parseDuration} refuses, else `undefined`
 */
export function durationProblem(value: string): string | undefined {
  try {
    parseDuration(value);
    return undefined;
  } catch {
    return `is "${value}", not a duration: write e.g. 300s, 5m, 2h or 7d`;
  }
}

/**
 * Format milliseconds the way the env file writes them, in the largest
 * unit that divides it exactly.
 *
 * @param ms a whole number of milliseconds
 * @returns e.g. `5m` for 300000
 */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    if (ms > 0 && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
