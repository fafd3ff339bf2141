/**
 * The store's per-minute activity: deliveries received by state, and the
 * durations of the hook runs that ended, for the admin page's chart. Read
 * from the covering indexes `deliveries_received_state` and `runs_ended`,
 * never from the rows themselves.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { DeliveryState } from "../store.ts";

/** One minute of activity. */
export interface MinuteActivity {
  /** The minute's start, epoch milliseconds. */
  minute: number;
  /** Deliveries received in this minute, by the state they are in now. */
  received: Partial<Record<DeliveryState, number>>;
  /** Hook runs that ended in this minute. */
  runs: number;
  /** The median, 95th and 99th percentile of those runs' durations, milliseconds; null without runs. */
  durationMs: { p50: number; p95: number; p99: number } | null;
}

const MINUTE_MS = 60_000;

/**
 * Read the activity of `[since, until)` minute by minute. Minutes without
 * activity are included, so the result has one entry per minute.
 *
 * @param statement prepares (and caches) a statement on the store's connection
 * @param since the first minute's start, epoch milliseconds (rounded down to a minute)
 * @param until the end, epoch milliseconds
 * @returns the minutes, oldest first
 */
export function readActivity(
  statement: (sql: string) => StatementSync,
  since: number,
  until: number,
): MinuteActivity[] {
  const first = Math.floor(since / MINUTE_MS) * MINUTE_MS;
  const minutes: MinuteActivity[] = [];
  for (let minute = first; minute < until; minute += MINUTE_MS) {
    minutes.push({ minute, received: {}, runs: 0, durationMs: null });
  }
  const at = (ms: number) => minutes[Math.floor((ms - first) / MINUTE_MS)];
  const received = statement(
    `SELECT received_at / ${MINUTE_MS} * ${MINUTE_MS} AS minute, state, count(*) AS n
     FROM deliveries INDEXED BY deliveries_received_state
     WHERE received_at >= ? AND received_at < ? GROUP BY minute, state`,
  ).all(first, until);
  for (const row of received) {
    const entry = at(row.minute as number);
    if (entry) entry.received[row.state as DeliveryState] = row.n as number;
  }
  // Each minute's durations arrive together and ascending, ready for the percentiles.
  const durations = statement(
    `SELECT ended_at / ${MINUTE_MS} * ${MINUTE_MS} AS minute, duration_ms
     FROM runs INDEXED BY runs_ended
     WHERE ended_at >= ? AND ended_at < ? AND duration_ms IS NOT NULL
     ORDER BY minute, duration_ms`,
  ).all(first, until);
  let current: MinuteActivity | undefined;
  let values: number[] = [];
  const close = () => {
    if (current && values.length > 0) {
      current.runs = values.length;
      current.durationMs = {
        p50: percentile(values, 0.5),
        p95: percentile(values, 0.95),
        p99: percentile(values, 0.99),
      };
    }
    values = [];
  };
  for (const row of durations) {
    const entry = at(row.minute as number);
    if (entry !== current) {
      close();
      current = entry;
    }
    values.push(row.duration_ms as number);
  }
  close();
  return minutes;
}

/** The nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
