/**
 * The store's per-minute activity, for the admin page's chart: deliveries
 * received by state, and the percentiles of the hook runs that ended. Read
 * from `minute_states` and `minute_durations`, which the insert and triggers keep (see
 * the schema), so the last hour costs a few hundred rows however many
 * deliveries it held.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { DeliveryState, MinuteActivity } from "./types.ts";

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
  const first = Math.floor(since / MINUTE_MS);
  const end = Math.ceil(until / MINUTE_MS);
  const minutes: MinuteActivity[] = [];
  for (let minute = first; minute < end; minute++) {
    minutes.push({ minute: minute * MINUTE_MS, received: {}, runs: 0, durationMs: null });
  }
  const received = statement(
    `SELECT minute, state, n FROM minute_states WHERE minute >= ? AND minute < ? AND n > 0`,
  ).all(first, end);
  for (const row of received) {
    minutes[(row.minute as number) - first].received[row.state as DeliveryState] = row.n as number;
  }
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
