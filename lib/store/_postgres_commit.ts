/**
 * The PostgreSQL store's inserts: a shared commit (`_batch.ts`) is one
 * multi-row `INSERT … ON CONFLICT DO NOTHING`. The duplicate keys are unique
 * indexes, so a redelivery that reaches two instances at once is stored by
 * one; the other reads the stored row back and answers it as a duplicate.
 *
 * @module
 */

import type { Sql } from "postgres";
import type { Outcome } from "./_batch.ts";
import type { IdGenerator } from "./_id.ts";
import { newRow, unavailable } from "./_rows.ts";
import {
  type DeliveryState,
  type InsertResult,
  type NewDelivery,
  StoreUnavailableError,
} from "./types.ts";

/**
 * A row whose duplicate vanished (purged) or expired between the insert and
 * the read-back is tried again; more rounds than this means something keeps
 * changing under us, and the sender had better retry.
 */
const MAX_ROUNDS = 4;

/** One row's column values: the shared ones and the duplicate keys while they count. */
type Row = ReturnType<typeof newRow> & {
  dedupe_source: string | null;
  dedupe_replay: string | null;
};

/** Options for {@linkcode PostgresInserts}. */
export interface PostgresInsertsOptions {
  retentionMs: number;
  now: () => number;
  ids: IdGenerator;
}

/** The writer of the PostgreSQL store's shared commits. */
export class PostgresInserts {
  #sql: Sql;
  #options: PostgresInsertsOptions;
  #stats = { insertTransactions: 0, inserted: 0 };

  /** @param sql the store's pool */
  constructor(sql: Sql, options: PostgresInsertsOptions) {
    this.#sql = sql;
    this.#options = options;
  }

  /** Commit counters. */
  stats(): { insertTransactions: number; inserted: number } {
    return { ...this.#stats };
  }

  /**
   * Write a batch: one outcome per row, what was stored or why the database
   * refused that row alone.
   *
   * @throws {StoreUnavailableError} when the database failed the whole batch
   */
  async write(rows: readonly NewDelivery[]): Promise<Outcome<InsertResult>[]> {
    try {
      return await this.#writeRows(rows);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw unavailable("store the delivery", error);
    }
  }

  async #writeRows(rows: readonly NewDelivery[]): Promise<Outcome<InsertResult>[]> {
    const results: Outcome<InsertResult>[] = new Array(rows.length);
    let todo = rows.map((_, i) => i);
    for (let round = 0; todo.length > 0; round++) {
      if (round === MAX_ROUNDS) {
        throw new StoreUnavailableError(
          "Cannot store the delivery: its duplicate kept changing while it was looked up",
          { retryAfterSeconds: 1 },
        );
      }
      const now = this.#options.now();
      const values = todo.map((i) => this.#values(rows[i], now));
      const { stored, refused } = await this.#insertEach(values);
      const conflicted: number[] = [];
      todo.forEach((i, k) => {
        const { id, state } = values[k];
        const error = refused.get(k);
        if (error) results[i] = { ok: false, error: unavailable("store the delivery", error) };
        else if (stored.has(id)) results[i] = { ok: true, value: { id, duplicate: false, state } };
        else conflicted.push(i);
      });
      todo = conflicted.length > 0 ? await this.#resolveConflicts(rows, conflicted, results) : [];
    }
    return results;
  }

  /**
   * Insert the rows in one statement; when the server refuses it for what a
   * row holds (a data error such as a NUL in a text column, a check, a
   * limit), each row alone, so that a bad row fails by itself and never its
   * batch-mates. A failure of the database itself fails them all.
   *
   * @returns the ids stored, and the rows refused by index with the reason
   */
  async #insertEach(values: Row[]): Promise<{ stored: Set<string>; refused: Map<number, Error> }> {
    const refused = new Map<number, Error>();
    const stored = new Set<string>();
    const statements = async (rows: Row[]) => {
      const inserted = await this.#insert(rows);
      this.#stats.insertTransactions++;
      this.#stats.inserted += inserted.length;
      for (const row of inserted) stored.add(row.id as string);
    };
    try {
      await statements(values);
    } catch (error) {
      if (values.length === 1 || !refusesRow(error)) throw error;
      await Promise.all(values.map(async (row, k) => {
        try {
          await statements([row]);
        } catch (alone) {
          if (!refusesRow(alone)) throw alone;
          refused.set(k, alone as Error);
        }
      }));
    }
    return { stored, refused };
  }

  /**
   * One multi-row insert. Two instances inserting the same redeliveries in
   * different orders can each wait for the other's uncommitted row: the
   * server ends one statement as a deadlock, and it is simply tried again.
   */
  async #insert(values: Row[]) {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#sql`
          INSERT INTO deliveries ${this.#sql(values)}
          ON CONFLICT DO NOTHING RETURNING id`;
      } catch (error) {
        if (attempt >= 3 || (error as { code?: string }).code !== "40P01") throw error;
      }
    }
  }

  #values(row: NewDelivery, now: number): Row {
    return {
      ...newRow(row, this.#options.ids.next(now), now),
      dedupe_source: row.sourceId ?? null,
      dedupe_replay: row.replayHash ?? null,
    };
  }

  /**
   * Read back the rows that took the conflicting keys. A live one makes the
   * insert a duplicate of it; one older than the retention window gives up
   * its keys and the insert is tried again; one gone since is tried again.
   *
   * @returns the rows to try again
   */
  async #resolveConflicts(
    rows: readonly NewDelivery[],
    conflicted: number[],
    results: Outcome<InsertResult>[],
  ): Promise<number[]> {
    const endpoints = conflicted.map((i) => rows[i].endpoint);
    const sources = conflicted.map((i) => rows[i].sourceId ?? null);
    const hashes = conflicted.map((i) => rows[i].replayHash ?? null);
    const found = await this.#sql`
      SELECT d.id, d.state, d.endpoint, d.dedupe_source, d.dedupe_replay, d.received_at
      FROM deliveries d
      JOIN unnest(${endpoints}::text[], ${sources}::text[], ${hashes}::text[])
        AS k(endpoint, source, hash)
        ON d.endpoint = k.endpoint AND (d.dedupe_source = k.source OR d.dedupe_replay = k.hash)`;
    const since = this.#options.now() - this.#options.retentionMs;
    const retry: number[] = [];
    const expired = new Set<string>();
    for (const i of conflicted) {
      const row = rows[i];
      const bySource = row.sourceId === undefined
        ? undefined
        : found.find((f) => f.endpoint === row.endpoint && f.dedupe_source === row.sourceId);
      const byHash = row.replayHash === undefined
        ? undefined
        : found.find((f) => f.endpoint === row.endpoint && f.dedupe_replay === row.replayHash);
      const live = [bySource, byHash].find((f) => f && (f.received_at as number) >= since);
      if (live) {
        const value = {
          id: live.id as string,
          duplicate: true,
          state: live.state as DeliveryState,
        };
        results[i] = { ok: true, value };
        continue;
      }
      for (const old of [bySource, byHash]) if (old) expired.add(old.id as string);
      retry.push(i);
    }
    if (expired.size > 0) {
      // Past the window the keys no longer count: free them for the new delivery.
      await this.#sql`
        UPDATE deliveries SET dedupe_source = NULL, dedupe_replay = NULL
        WHERE id = ANY(${[...expired]}::text[]) AND received_at < ${since}`;
    }
    return retry;
  }
}

/**
 * The server refused a statement for what a row holds: a data exception
 * (class 22), an integrity constraint (23) or a program limit (54), not a
 * failure of the connection or the server.
 */
function refusesRow(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}
