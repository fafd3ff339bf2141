/**
 * The PostgreSQL store's per-minute activity, for the admin page's chart:
 * deliveries received by state, and the percentiles of the hook runs that
 * ended, each reported as the upper bound of the same 10%-wide duration
 * bucket the SQLite store keeps. Aggregated when asked, from the
 * `received_at` and `ended_at` indexes: no counter rows that every
 * instance's writes would contend for.
 *
 * @module
 */

import type { Sql } from "postgres";
import type { DeliveryState, MinuteActivity } from "./types.ts";

const MINUTE_MS = 60_000;

/**
 * The upper bounds of the duration buckets, ascending: 0, then 1 ms growing
 * by 10% (rounded) up to a day, then the largest integer; as the SQLite
 * schema's `duration_buckets`.
 */
const BUCKETS: readonly number[] = (() => {
  const uppers = new Set<number>([0]);
  for (let x = 1.0;; x *= 1.1) {
    uppers.add(Math.round(x));
    if (x >= 86_400_000) break;
  }
  uppers.add(Number.MAX_SAFE_INTEGER);
  return [...uppers].sort((a, b) => a - b);
})();

/**
 * The upper bound of the bucket holding `durationMs`.
 *
 * @param durationMs a run's duration
 * @returns the smallest bucket bound at or above it
 */
export function bucketUpper(durationMs: number): number {
  let low = 0;
  let high = BUCKETS.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (BUCKETS[mid] >= durationMs) high = mid;
    else low = mid + 1;
  }
  return BUCKETS[low];
}

/**
 * Read the activity of `[since, until)` minute by minute, every minute
 * included.
 *
 * @param sql the store's pool
 * @param since the first minute's start, epoch milliseconds (rounded down to a minute)
 * @param until the end, epoch milliseconds
 * @returns the minutes, oldest first
 */
export async function readPostgresActivity(
  sql: Sql,
  since: number,
  until: number,
): Promise<MinuteActivity[]> {
  const first = Math.floor(since / MINUTE_MS);
  const end = Math.ceil(until / MINUTE_MS);
  const minutes: MinuteActivity[] = [];
  for (let minute = first; minute < end; minute++) {
    minutes.push({ minute: minute * MINUTE_MS, received: {}, runs: 0, durationMs: null });
  }
  if (minutes.length === 0) return minutes;
  const [received, runs] = await Promise.all([
    sql`
      SELECT received_at / ${MINUTE_MS} AS minute, state, count(*)::int AS n FROM deliveries
      WHERE received_at >= ${first * MINUTE_MS} AND received_at < ${end * MINUTE_MS}
      GROUP BY 1, 2`,
    // Nearest rank, as percentile_disc: the bucket of that run is the bucket at that rank.
    sql`
      SELECT ended_at / ${MINUTE_MS} AS minute, count(*)::int AS n,
        percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms) AS p
      FROM runs
      WHERE ended_at >= ${first * MINUTE_MS} AND ended_at < ${end * MINUTE_MS}
        AND duration_ms IS NOT NULL
      GROUP BY 1`,
  ]);
  for (const row of received) {
    minutes[(row.minute as number) - first].received[row.state as DeliveryState] = row.n as number;
  }
  for (const row of runs) {
    const [p50, p95, p99] = (row.p as (number | string)[]).map((p) => bucketUpper(Number(p)));
    const entry = minutes[(row.minute as number) - first];
    entry.runs = row.n as number;
    entry.durationMs = { p50, p95, p99 };
  }
  return minutes;
}
