/**
 * The SQLite insert of a batch of deliveries, inside the caller's
 * transaction; the batch's new rows are added to the counts by state and by
 * minute once per state and minute, not by a trigger per row (schema 6).
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { IdGenerator } from "./_id.ts";
import { newRow } from "./_rows.ts";
import type { DeliveryState, InsertResult, NewDelivery } from "./types.ts";

const MINUTE_MS = 60_000;

/** What {@linkcode insertRows} needs from the store. */
export interface InsertContext {
  /** A prepared (cached) statement for `sql`. */
  statement(sql: string): StatementSync;
  /** Now, epoch milliseconds. */
  now: number;
  /** Deliveries received before this are no longer duplicates (the retention window). */
  since: number;
  /** Where new ids come from. */
  ids: IdGenerator;
  /** The queue sequence number of the first new row. */
  firstSeq: number;
}

/** Insert the rows, in order, skipping duplicates. */
export function insertRows(
  rows: readonly NewDelivery[],
  context: InsertContext,
): { results: InsertResult[]; inserted: number } {
  const { statement, now, since } = context;
  const results: InsertResult[] = [];
  let inserted = 0;
  const counts = new Map<string, Count>();
  const findDuplicate = statement(
    `SELECT id, state FROM deliveries
     WHERE endpoint = ? AND source_id = ? AND received_at >= ? LIMIT 1`,
  );
  const findReplay = statement(
    `SELECT id, state FROM deliveries
     WHERE endpoint = ? AND replay_hash = ? AND received_at >= ? LIMIT 1`,
  );
  const insert = statement(
    `INSERT INTO deliveries (id, endpoint, event, source_id, received_at, content_type,
       headers, body, body_size, hook, timeout_ms, verified_by, state, seq, queued_at,
       updated_at, finished_at, replay_hash, filtered_by)
     VALUES (:id, :endpoint, :event, :source_id, :received_at, :content_type, :headers, :body,
       :body_size, :hook, :timeout_ms, :verified_by, :state, :seq, :queued_at, :updated_at,
       :finished_at, :replay_hash, :filtered_by)`,
  );
  for (const row of rows) {
    const existing = (row.sourceId !== undefined &&
      findDuplicate.get(row.endpoint, row.sourceId, since)) ||
      (row.replayHash !== undefined && findReplay.get(row.endpoint, row.replayHash, since));
    if (existing) {
      results.push({
        id: existing.id as string,
        duplicate: true,
        state: existing.state as DeliveryState,
      });
      continue;
    }
    const columns = newRow(row, context.ids.next(now), now);
    const { id, state } = columns;
    insert.run({ ...columns, seq: context.firstSeq + inserted });
    inserted++;
    results.push({ id, duplicate: false, state });
    // As SQLite divides `received_at / 60000` in the update and delete triggers.
    const minute = Math.trunc(row.receivedAt / MINUTE_MS);
    const key = `${minute} ${state}`;
    const count = counts.get(key);
    if (count) count.n++;
    else counts.set(key, { minute, state, n: 1 });
  }
  addCounts(counts.values(), statement);
  return { results, inserted };
}

/** A count of new rows of one state received in one minute. */
interface Count {
  minute: number;
  state: DeliveryState;
  n: number;
}

/**
 * Add a batch's new rows to `state_counts` and `minute_states`: once per
 * state and minute, what the insert triggers did once per row before
 * schema 6 (updates and deletes keep their triggers).
 */
function addCounts(counts: Iterable<Count>, statement: InsertContext["statement"]): void {
  const byState = new Map<DeliveryState, number>();
  const addMinute = statement(
    `INSERT INTO minute_states (minute, state, n) VALUES (?, ?, ?)
     ON CONFLICT (minute, state) DO UPDATE SET n = n + excluded.n`,
  );
  for (const { minute, state, n } of counts) {
    addMinute.run(minute, state, n);
    byState.set(state, (byState.get(state) ?? 0) + n);
  }
  const addState = statement(
    `INSERT INTO state_counts (state, n) VALUES (?, ?)
     ON CONFLICT (state) DO UPDATE SET n = n + excluded.n`,
  );
  for (const [state, n] of byState) addState.run(state, n);
}
