/**
 * The {@linkcode Store} on PostgreSQL, shared by several instances; claims
 * and leases are `_postgres_claims.ts`'s, inserts `_postgres_commit.ts`'s.
 *
 * @module
 */

import type { Sql } from "postgres";
import type { Store } from "./contract.ts";
import { Batcher } from "./_batch.ts";
import { PostgresInserts } from "./_postgres_commit.ts";
import { readPostgresActivity } from "./_activity.ts";
import { PostgresClaims, type PostgresClaimsSettings } from "./_postgres_claims.ts";
import { PURGE_LOCK, WORK_CHANNEL } from "./_postgres_schema.ts";
import { IdGenerator } from "./_id.ts";
import {
  checkDelivery,
  replayable,
  replayHook,
  replayWhere,
  type Row,
  SUMMARY_COLUMNS,
  toCounts,
  toDetail,
  toRun,
  toSummary,
  unavailable,
  whereClause,
} from "./_rows.ts";
import {
  type ClaimedDelivery,
  type ClaimOptions,
  DEFAULT_LIST_LIMIT,
  DEFAULT_PURGE_LIMIT,
  type DeliveryDetail,
  type DeliveryFilter,
  type DeliverySummary,
  type InsertResult,
  type MinuteActivity,
  type NewDelivery,
  type NextState,
  type ProcessGroup,
  type QueueCounts,
  type QueuedRef,
  type RequeueOptions,
  type RequeueResult,
  type RunEnd,
  type RunningGroup,
  type StoreStats,
  StoreUnavailableError,
} from "./types.ts";

/** Fold the state deltas once this many rows have piled up. */
const FOLD_DELTAS_AT = 1000;

/** The latest run of `d`, for summaries. */
const LAST_RUN_JOIN = `LEFT JOIN LATERAL (
  SELECT outcome, exit_code, signal, started_at, ended_at FROM runs
  WHERE delivery_id = d.id ORDER BY id DESC LIMIT 1) r ON true`;

/** Options for {@linkcode PostgresStore}, resolved by `openPostgresStore`. */
export interface PostgresStoreSettings extends PostgresClaimsSettings {
  /** The URL without its password. */
  path: string;
  retentionMs: number;
  maxWaitMs: number;
}

/** The store over a PostgreSQL pool (postgres.js). */
export class PostgresStore implements Store {
  readonly path: string;
  readonly retentionMs: number;
  /** This instance's id: its claims are marked with it, and it takes them back when it restarts. */
  readonly instanceId: string;
  #sql: Sql;
  #now: () => number;
  #inserter: PostgresInserts;
  #inserts: Batcher<NewDelivery, InsertResult>;
  #claims: PostgresClaims;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Serve a migrated database over its pool. */
  constructor(sql: Sql, settings: PostgresStoreSettings) {
    this.#sql = sql;
    this.path = settings.path;
    this.retentionMs = settings.retentionMs;
    this.instanceId = settings.instanceId;
    this.#now = settings.now;
    const inserter = this.#inserter = new PostgresInserts(sql, {
      retentionMs: settings.retentionMs,
      now: settings.now,
      ids: new IdGenerator(),
    });
    this.#inserts = new Batcher({
      maxWaitMs: settings.maxWaitMs,
      write: (rows) => inserter.write(rows),
    });
    this.#claims = new PostgresClaims(sql, settings);
  }

  insert(delivery: NewDelivery): Promise<InsertResult> {
    if (this.#closed) {
      return Promise.reject(new StoreUnavailableError("The delivery store is closed"));
    }
    try {
      return this.#inserts.add(checkDelivery(delivery));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  get(id: string): Promise<DeliveryDetail | null> {
    return this.#guard("read the delivery", async () => {
      const [[row], runs] = await Promise.all([
        this.#sql.unsafe(
          `SELECT ${SUMMARY_COLUMNS}, d.headers, d.body, d.timeout_ms, d.failures, d.not_before
           FROM deliveries d ${LAST_RUN_JOIN} WHERE d.id = $1`,
          [id],
        ),
        this.#sql`SELECT * FROM runs WHERE delivery_id = ${id} ORDER BY id`,
      ]);
      return row ? toDetail(row, runs.map(toRun)) : null;
    });
  }

  list(filter: DeliveryFilter = {}): Promise<DeliverySummary[]> {
    return this.#guard("list deliveries", async () => {
      const { where, params } = whereClause(filter);
      const rows = await this.#sql.unsafe(
        numbered(
          `SELECT ${SUMMARY_COLUMNS} FROM deliveries d ${LAST_RUN_JOIN}
           ${where} ORDER BY d.id DESC LIMIT ?`,
        ),
        [...params, filter.limit ?? DEFAULT_LIST_LIMIT],
      );
      return rows.map(toSummary);
    });
  }

  activity(since: number, until: number): Promise<MinuteActivity[]> {
    return this.#guard("read the activity", () => readPostgresActivity(this.#sql, since, until));
  }

  counts(): Promise<QueueCounts> {
    // Sampled now: an insert committing while the counts are read is counted twice, never missed.
    const inserting = this.#inserts.size;
    return this.#guard("count deliveries", async () => {
      const [sums, [oldest]] = await Promise.all([
        this.#sql`SELECT state, sum(n)::bigint AS n, count(*)::int AS deltas
                  FROM state_deltas GROUP BY state`,
        this.#sql`SELECT queued_at FROM deliveries WHERE state = 'queued' ORDER BY seq LIMIT 1`,
      ]);
      const deltas = sums.reduce((sum, row) => sum + (row.deltas as number), 0);
      if (deltas >= FOLD_DELTAS_AT) await this.#foldDeltas(this.#sql);
      return toCounts(sums, inserting, oldest);
    });
  }

  requeue(ids: readonly string[], options: RequeueOptions = {}): Promise<RequeueResult> {
    return this.#guard("requeue deliveries", () =>
      this.#sql.begin(async (tx) => {
        const result: RequeueResult = { requeued: [], skipped: [] };
        const unique = [...new Set(ids)];
        const rows = await tx`SELECT id, endpoint, event, state, hook FROM deliveries
                              WHERE id = ANY(${unique}::text[]) FOR UPDATE`;
        const byId = new Map(rows.map((row) => [row.id as string, row]));
        const replay = replayable(unique, (id) => byId.get(id), result);
        await this.#requeueRows(tx as unknown as Sql, replay, options, result);
        return result;
      }));
  }

  requeueMatching(filter: DeliveryFilter, options: RequeueOptions = {}): Promise<RequeueResult> {
    return this.#guard("requeue deliveries", () =>
      this.#sql.begin(async (tx) => {
        const { where, params } = replayWhere(filter, options);
        const rows = await tx.unsafe(
          numbered(`SELECT d.id, d.endpoint, d.event, d.hook FROM deliveries d ${where}
                    ORDER BY d.id DESC LIMIT ? FOR UPDATE SKIP LOCKED`),
          [...params, filter.limit ?? null],
        );
        const result: RequeueResult = { requeued: [], skipped: [] };
        // Oldest first, so that replays keep their relative order in the queue.
        await this.#requeueRows(tx as unknown as Sql, [...rows].reverse(), options, result);
        return result;
      }));
  }

  /** Requeue finished deliveries, in order, with the hook `hookFor` gives or their stored one. */
  async #requeueRows(
    sql: Sql,
    rows: readonly Row[],
    options: RequeueOptions,
    result: RequeueResult,
  ): Promise<void> {
    const ids: string[] = [];
    const hooks: string[] = [];
    for (const row of rows) {
      const id = row.id as string;
      const hook = replayHook(row, options);
      if (hook === null) result.skipped.push({ id, reason: "no hook" });
      else {
        ids.push(id);
        hooks.push(hook);
      }
    }
    if (ids.length === 0) return;
    const now = this.#now();
    // One new place each, in the order given (a sequence's values increase within a session).
    const seqs =
      await sql`SELECT nextval('hookd_queue_seq') AS seq FROM generate_series(1, ${ids.length})`;
    const places = seqs.map((row) => row.seq as number).sort((a, b) => a - b);
    // The queue claims the stored hook: the replay's hook is the one that runs.
    await sql`
      UPDATE deliveries d SET state = 'queued', seq = u.seq, hook = u.hook, queued_at = ${now},
        failures = 0, not_before = 0, updated_at = ${now}, finished_at = NULL,
        superseded_by = NULL, filtered_by = NULL, claimed_by = NULL, lease_until = NULL
      FROM unnest(${ids}::text[], ${places}::bigint[], ${hooks}::text[]) AS u(id, seq, hook)
      WHERE d.id = u.id`;
    result.requeued.push(...ids);
  }

  purge(olderThan: number, options: { limit?: number } = {}): Promise<number> {
    return this.#guard("purge deliveries", () =>
      this.#sql.begin(async (tx) => {
        // One instance purges at a time; the others find the lock taken and skip this round.
        const [{ locked }] = await tx`
          SELECT pg_try_advisory_xact_lock(${PURGE_LOCK.toString()}::bigint) AS locked`;
        if (!locked) return 0;
        const deleted = await tx`
          DELETE FROM deliveries WHERE id IN (
            SELECT id FROM deliveries
            WHERE received_at < ${olderThan} AND state NOT IN ('queued', 'running')
            ORDER BY received_at LIMIT ${options.limit ?? DEFAULT_PURGE_LIMIT})`;
        await this.#foldDeltas(tx as unknown as Sql);
        return deleted.count;
      }));
  }

  recover(): Promise<number> {
    return this.#guard("recover interrupted runs", () => this.#claims.reclaim(true));
  }

  /** Any instance may call this at every poll; `recover` does it too. */
  reclaimExpired(): Promise<number> {
    return this.#guard("reclaim expired claims", () => this.#claims.reclaim(false));
  }

  queuedEndpoints(): Promise<string[]> {
    return this.#guard("read the queue", async () => {
      // A skip-scan over the queued index: one lookup per endpoint, however long the queue.
      const rows = await this.#sql`
        WITH RECURSIVE e(name) AS (
          SELECT min(endpoint) FROM deliveries WHERE state = 'queued'
          UNION ALL
          SELECT (SELECT min(endpoint) FROM deliveries WHERE state = 'queued' AND endpoint > e.name)
          FROM e WHERE e.name IS NOT NULL)
        SELECT name FROM e WHERE name IS NOT NULL`;
      return rows.map((row) => row.name as string);
    });
  }

  queued(
    endpoint: string,
    options: { limit?: number; newest?: boolean } = {},
  ): Promise<QueuedRef[]> {
    return this.#guard("read the queue", async () => {
      const order = options.newest ? this.#sql`DESC` : this.#sql`ASC`;
      const rows = await this.#sql`
        SELECT id, seq, not_before FROM deliveries
        WHERE state = 'queued' AND endpoint = ${endpoint} ORDER BY seq ${order}
        LIMIT ${options.limit ?? 1}`;
      return rows.map((row) => ({
        id: row.id as string,
        seq: row.seq as number,
        notBefore: row.not_before as number,
      }));
    });
  }

  runningByEndpoint(): Promise<Map<string, number>> {
    return this.#guard("read the queue", async () => {
      const rows = await this.#sql`
        SELECT endpoint, count(*)::int AS n FROM deliveries WHERE state = 'running'
        GROUP BY endpoint`;
      return new Map(rows.map((row) => [row.endpoint as string, row.n as number]));
    });
  }

  supersede(endpoint: string, keepId: string): Promise<string[]> {
    return this.#guard("supersede deliveries", async () => {
      const now = this.#now();
      const rows = await this.#sql`
        UPDATE deliveries SET state = 'superseded', superseded_by = ${keepId}, updated_at = ${now},
          finished_at = ${now}
        WHERE state = 'queued' AND endpoint = ${endpoint}
          AND seq < (SELECT seq FROM deliveries WHERE id = ${keepId})
        RETURNING id`;
      return rows.map((row) => row.id as string);
    });
  }

  claim(id: string, options: ClaimOptions = {}): Promise<ClaimedDelivery | null> {
    return this.#guard("claim a delivery", () => this.#claims.claim(id, options));
  }

  recordProcessGroup(
    claimed: Pick<ClaimedDelivery, "runId">,
    group: ProcessGroup,
  ): Promise<void> {
    return this.#guard(
      "record the hook's process group",
      () => this.#claims.recordProcessGroup(claimed, group),
    );
  }

  /** This instance's runs only: other instances' groups are on other hosts, or in their care. */
  runningGroups(): Promise<RunningGroup[]> {
    return this.#guard("read running hooks", () => this.#claims.runningGroups());
  }

  finishRun(
    claimed: Pick<ClaimedDelivery, "id" | "runId">,
    end: RunEnd,
    next: NextState,
  ): Promise<void> {
    return this.#guard("record the run", () => this.#claims.finish(claimed, end, next));
  }

  /** LISTEN/NOTIFY on its own connection, which reconnects by itself. */
  async listen(onWork: () => void): Promise<{ unlisten(): Promise<void> }> {
    if (this.#closed) throw new StoreUnavailableError("The delivery store is closed");
    try {
      const { unlisten } = await this.#sql.listen(WORK_CHANNEL, () => onWork());
      return { unlisten: () => unlisten() };
    } catch (error) {
      throw unavailable("Cannot listen for new deliveries", error);
    }
  }

  stats(): Promise<StoreStats> {
    return Promise.resolve({ ...this.#inserter.stats(), checkpoints: 0, checkpointWorker: false });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      try {
        await this.#claims.close();
        await this.#inserts.flush();
      } finally {
        await this.#sql.end({ timeout: 5 });
      }
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sum the state deltas into one row per state. */
  async #foldDeltas(sql: Sql): Promise<void> {
    await sql`
      WITH gone AS (DELETE FROM state_deltas RETURNING state, n)
      INSERT INTO state_deltas (state, n)
      SELECT state, sum(n) FROM gone GROUP BY state HAVING sum(n) <> 0`;
  }

  async #guard<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError("The delivery store is closed");
    try {
      return await work();
    } catch (error) {
      if (
        error instanceof StoreUnavailableError || error instanceof TypeError ||
        error instanceof RangeError
      ) throw error;
      throw unavailable(`Cannot ${what}`, error);
    }
  }
}

/** `?` placeholders (as `whereClause` writes them) as PostgreSQL's `$1, $2, …`. */
function numbered(query: string): string {
  let n = 0;
  return query.replace(/\?/g, () => `$${++n}`);
}
