/**
 * The store's per-minute activity, for the admin page's chart. SQLite reads
 * the counters its insert and triggers keep, so the last hour costs a few
 * hundred rows however many deliveries it held; PostgreSQL aggregates when
 * asked: no counter rows that every instance's writes would contend for.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
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

/** One empty entry per minute of `[since, until)`, and the first and end minute numbers. */
function emptyMinutes(since: number, until: number) {
  const first = Math.floor(since / MINUTE_MS);
  const end = Math.ceil(until / MINUTE_MS);
  const minutes: MinuteActivity[] = [];
  for (let minute = first; minute < end; minute++) {
    minutes.push({ minute: minute * MINUTE_MS, received: {}, runs: 0, durationMs: null });
  }
  const addReceived = (rows: Iterable<Record<string, unknown>>) => {
    for (const row of rows) {
      minutes[(row.minute as number) - first].received[row.state as DeliveryState] = row
        .n as number;
    }
  };
  return { first, end, minutes, addReceived };
}

/** SQLite's activity of `[since, until)`, one entry per minute (those without activity too). */
export function readActivity(
  statement: (sql: string) => StatementSync,
  since: number,
  until: number,
): MinuteActivity[] {
  const { first, end, minutes, addReceived } = emptyMinutes(since, until);
  addReceived(
    statement(
      `SELECT minute, state, n FROM minute_states WHERE minute >= ? AND minute < ? AND n > 0`,
    ).all(first, end),
  );
  const buckets = statement(
    `SELECT minute, upper, n FROM minute_durations
     WHERE minute >= ? AND minute < ? AND n > 0 ORDER BY minute, upper`,
  ).all(first, end);
  let i = 0;
  while (i < buckets.length) {
    const minute = buckets[i].minute as number;
    const uppers: number[] = [];
    const counts: number[] = [];
    for (; i < buckets.length && buckets[i].minute === minute; i++) {
      uppers.push(buckets[i].upper as number);
      counts.push(buckets[i].n as number);
    }
    const total = counts.reduce((a, b) => a + b, 0);
    const at = (p: number) => {
      // Nearest rank: the bucket holding the ceil(p × total)-th duration.
      const rank = Math.max(1, Math.ceil(p * total));
      let seen = 0;
      for (let b = 0; b < counts.length; b++) {
        seen += counts[b];
        if (seen >= rank) return uppers[b];
      }
      return uppers[uppers.length - 1];
    };
    const entry = minutes[minute - first];
    entry.runs = total;
    entry.durationMs = { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
  return minutes;
}

/** PostgreSQL's activity of `[since, until)`, as {@linkcode readActivity}. */
export async function readPostgresActivity(
  sql: Sql,
  since: number,
  until: number,
): Promise<MinuteActivity[]> {
  const { first, end, minutes, addReceived } = emptyMinutes(since, until);
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
  addReceived(received);
  for (const row of runs) {
    // The smallest bucket bound at or above each percentile.
    const [p50, p95, p99] = (row.p as (number | string)[])
      .map((p) => BUCKETS.find((upper) => upper >= Number(p))!);
    const entry = minutes[(row.minute as number) - first];
    entry.runs = row.n as number;
    entry.durationMs = { p50, p95, p99 };
  }
  return minutes;
}
