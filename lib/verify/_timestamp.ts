/**
 * Replay windows: a signed time must lie within `TOLERANCE` of now, in both
 * directions (a clock ahead of ours is as suspect as one behind).
 *
 * @module
 */

import type { EndpointSettings, Rejected, SettingSpec } from "./types.ts";
import { durationProblem, parseDuration } from "../config/duration.ts";
import { unauthorized } from "./_payload.ts";

/** The `TOLERANCE` setting every timestamped provider reads. */
export const TOLERANCE_SETTING: SettingSpec = {
  help: "how far a signed timestamp may be from now, either way, e.g. 5m",
  default: "5m",
  validate: durationProblem,
};

/**
 * The endpoint's replay window in milliseconds, read once when its verifier is built.
 *
 * @throws {Error} naming `<prefix>TOLERANCE` when it is not a duration
 */
export function toleranceOf(endpoint: EndpointSettings): number {
  const value = endpoint.settings.TOLERANCE ?? TOLERANCE_SETTING.default!;
  try {
    return parseDuration(value);
  } catch {
    throw new Error(`${endpoint.prefix}TOLERANCE ${durationProblem(value)}`);
  }
}

/**
 * Read a timestamp as senders write it: whole seconds since the epoch, in
 * decimal digits only (`Number()` would also take `0x10`, `1e9` or ` 12`);
 * `NaN` for anything else.
 */
export function parseSeconds(text: string | undefined | null): number {
  return text && /^\d{1,15}$/.test(text) ? Number(text) : NaN;
}

/**
 * Check that a signed time (seconds) lies within `toleranceMs` of `now` (ms).
 *
 * @returns `undefined` when recent, else a 401: `stale`, or `malformed
 *   timestamp` when not a finite number
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTimestamp } from "./_timestamp.ts";
 * const now = 1_700_000_000_000;
 * assert.equal(checkTimestamp(1_700_000_000, now, 300_000), undefined);
 * assert.equal(checkTimestamp(1_699_999_000, now, 300_000)?.reason, "stale");
 * ```
 */
export function checkTimestamp(
  seconds: number,
  now: number,
  toleranceMs: number,
): Rejected | undefined {
  if (!Number.isFinite(seconds)) return unauthorized("malformed timestamp");
  return Math.abs(now - seconds * 1000) > toleranceMs
    ? unauthorized("stale", "rejected.stale")
    : undefined;
}
