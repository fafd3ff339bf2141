/**
 * The insert of a batch of deliveries, inside the caller's transaction:
 * each row is first looked up as a duplicate (by the sender's delivery id,
 * then by the hash of what the sender signed), else written with the state
 * it starts in (`queued`, `ignored` without a hook, `filtered`).
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import { PAGE_BYTES } from "./_group_commit.ts";
import type { IdGenerator } from "./_id.ts";
import type { DeliveryState, InsertResult, NewDelivery } from "./types.ts";

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

/**
 * Insert the rows, in order, skipping duplicates.
 *
 * @param rows checked deliveries
 * @param context the statements, the clock and the sequence
 * @returns one result per row, the rows inserted, and about how many bytes the WAL grew
 */
export function insertRows(
  rows: readonly NewDelivery[],
  context: InsertContext,
): { results: InsertResult[]; inserted: number; bytes: number } {
  const { statement, now, since } = context;
  const results: InsertResult[] = [];
  let inserted = 0;
  let bytes = 0;
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
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    const id = context.ids.next(now);
    const state: DeliveryState = row.hook === null
      ? "ignored"
      : row.filteredBy !== undefined
      ? "filtered"
      : "queued";
    insert.run(
      id,
      row.endpoint,
      row.event,
      row.sourceId ?? null,
      row.receivedAt,
      row.contentType,
      JSON.stringify(row.headers),
      row.body,
      row.body.byteLength,
      row.hook,
      row.timeoutMs,
      row.verifiedBy ?? null,
      state,
      context.firstSeq + inserted,
      now,
      now,
      state === "queued" ? null : now,
      row.replayHash ?? null,
      state === "filtered" ? row.filteredBy! : null,
    );
    inserted++;
    bytes += row.body.byteLength + PAGE_BYTES;
    results.push({ id, duplicate: false, state });
  }
  return { results, inserted, bytes };
}
