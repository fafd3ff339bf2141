/**
 * The {@linkcode Store} on SQLite, over one connection; inserts go through
 * {@linkcode GroupCommit}. Lock waits: see `mod.ts`.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { type BatchWritten, GroupCommit, PAGE_BYTES } from "./_group_commit.ts";
import { readActivity } from "./_activity.ts";
import { announceRequeue, watchRequeues } from "./_requeue_signal.ts";
import type { Store } from "./contract.ts";
import { IdGenerator } from "./_id.ts";
import { insertRows } from "./_insert.ts";
import {
  checkDelivery,
  LAST_RUN_JOIN,
  replayable,
  replayHook,
  replayWhere,
  type Row,
  SUMMARY_COLUMNS,
  toBytes,
  toClaimed,
  toCounts,
  toDetail,
  toRun,
  toSummary,
  unavailable,
  whereClause,
} from "./_rows.ts";
import { isLockError, isSqliteError, retryLocked, setBusyTimeout } from "./_sqlite.ts";
import { Batcher, type Outcome } from "./_batch.ts";
import {
  type ClaimedDelivery,
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

/** Options for {@linkcode SqliteStore}, resolved by `openStore`. */
export interface SqliteStoreOptions {
  retentionMs: number;
  maxWaitMs: number;
  busyTimeoutMs: number;
  readOnly: boolean;
  now: () => number;
  walPath?: string;
  sync: "full" | "normal";
  checkpoint?: { afterBytes: number; quietMs: number };
}

/** The store over one SQLite connection. */
export class SqliteStore implements Store {
  readonly path: string;
  readonly retentionMs: number;
  #db: DatabaseSync;
  readonly busyTimeoutMs: number;
  /** A read-only store's connection always waits in SQLite (it belongs to the command line). */
  #readOnly: boolean;
  #now: () => number;
  #ids = new IdGenerator();
  #commits: GroupCommit;
  #closed = false;
  #closing: Promise<void> | undefined;
  #statements = new Map<string, StatementSync>();
  /** The dispatcher's writes of one turn, committed together (see `#batch`). */
  #writes: Batcher<() => unknown, unknown>;
  /** `sync` is `full` and the store is not in WAL mode: see `#transaction`. */
  #fullCommits: boolean;

  /** Serve a migrated connection to the database file `path`. */
  constructor(db: DatabaseSync, path: string, options: SqliteStoreOptions) {
    this.#db = db;
    this.#fullCommits = options.walPath === undefined && options.sync === "full";
    this.path = path;
    this.retentionMs = options.retentionMs;
    this.busyTimeoutMs = options.busyTimeoutMs;
    this.#readOnly = options.readOnly;
    this.#now = options.now;
    this.#writes = new Batcher({
      maxWaitMs: 0,
      write: (works) => retryLocked(() => this.#batch(works), options.busyTimeoutMs),
    });
    this.#commits = new GroupCommit(db, {
      path,
      checkpoint: options.checkpoint,
      // Only what is acknowledged after a sync survives a power cut; `normal` skips it.
      walPath: options.sync === "full" ? options.walPath : undefined,
      maxWaitMs: options.maxWaitMs,
      busyTimeoutMs: options.busyTimeoutMs,
      write: (rows) => this.#writeBatch(rows),
    });
  }

  insert(delivery: NewDelivery): Promise<InsertResult> {
    if (this.#closed) {
      return Promise.reject(new StoreUnavailableError("The delivery store is closed"));
    }
    try {
      return this.#commits.inserts.add(checkDelivery(delivery));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #writeBatch(rows: readonly NewDelivery[]): BatchWritten {
    const written = this.#transaction(() => {
      const now = this.#now();
      return insertRows(rows, {
        statement: (sql) => this.#statement(sql),
        now,
        since: now - this.retentionMs,
        ids: this.#ids,
        firstSeq: this.#nextSeq(),
      });
    }, true);
    return written;
  }

  get(id: string): Promise<DeliveryDetail | null> {
    return this.#guard("read the delivery", () => {
      const row = this.#statement(
        `SELECT ${SUMMARY_COLUMNS}, d.headers, d.body, d.timeout_ms, d.failures, d.not_before
         FROM deliveries d ${LAST_RUN_JOIN} WHERE d.id = ?`,
      ).get(id);
      if (!row) return null;
      const runs = this.#statement("SELECT * FROM runs WHERE delivery_id = ? ORDER BY id").all(id)
        .map(toRun);
      return toDetail(row, runs);
    });
  }

  list(filter: DeliveryFilter = {}): Promise<DeliverySummary[]> {
    return this.#guard("list deliveries", () => {
      const { where, params } = whereClause(filter);
      const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
      return this.#db.prepare(
        `SELECT ${SUMMARY_COLUMNS} FROM deliveries d ${LAST_RUN_JOIN}
         ${where} ORDER BY d.id DESC LIMIT ?`,
      ).all(...params, limit).map(toSummary);
    });
  }

  activity(since: number, until: number): Promise<MinuteActivity[]> {
    return this.#guard(
      "read the activity",
      () => readActivity((sql) => this.#statement(sql), since, until),
    );
  }

  counts(): Promise<QueueCounts> {
    return this.#guard("count deliveries", () => {
      const oldest = this.#statement(
        // INDEXED BY: with (state, id) beside it the planner would sort every queued row.
        `SELECT queued_at FROM deliveries INDEXED BY deliveries_queued_seq
         WHERE state = 'queued' ORDER BY seq LIMIT 1`,
      ).get();
      const stateCounts = this.#statement("SELECT state, n FROM state_counts").all();
      return toCounts(stateCounts, this.#commits.inserts.size, oldest);
    });
  }

  requeue(ids: readonly string[], options: RequeueOptions = {}): Promise<RequeueResult> {
    return this.#guard("requeue deliveries", () => {
      const result: RequeueResult = { requeued: [], skipped: [] };
      this.#blockingTransaction(() => {
        const find = this.#statement(
          "SELECT id, endpoint, event, state, hook FROM deliveries WHERE id = ?",
        );
        for (const row of replayable(new Set(ids), (id) => find.get(id), result)) {
          this.#requeueWithHook(row, options, result);
        }
      });
      return result;
    }).then((result) => announceRequeue(this.path, result));
  }

  requeueMatching(filter: DeliveryFilter, options: RequeueOptions = {}): Promise<RequeueResult> {
    return this.#guard("requeue deliveries", () => {
      const result: RequeueResult = { requeued: [], skipped: [] };
      this.#blockingTransaction(() => {
        const { where, params } = replayWhere(filter, options);
        const rows = this.#db.prepare(
          `SELECT d.id, d.endpoint, d.event, d.hook FROM deliveries d ${where}
           ORDER BY d.id DESC LIMIT ?`,
        ).all(...params, filter.limit ?? -1);
        // Oldest first, so that replays keep their relative order in the queue.
        for (const row of rows.reverse()) this.#requeueWithHook(row, options, result);
      });
      return result;
    }).then((result) => announceRequeue(this.path, result));
  }

  /** Requeue one finished delivery with the hook `hookFor` gives, or its stored one. */
  #requeueWithHook(row: Row, options: RequeueOptions, result: RequeueResult): void {
    const id = row.id as string;
    const hook = replayHook(row, options);
    if (hook === null) return void result.skipped.push({ id, reason: "no hook" });
    const now = this.#now();
    // The hook is stored for the record and the page; what runs is the one configured when the run starts.
    this.#statement(
      `UPDATE deliveries SET state = 'queued', hook = ?, seq = ?, queued_at = ?, failures = 0,
         not_before = 0, updated_at = ?, finished_at = NULL, superseded_by = NULL,
         filtered_by = NULL
       WHERE id = ?`,
    ).run(hook, this.#nextSeq(), now, now, id);
    result.requeued.push(id);
  }

  purge(olderThan: number, options: { limit?: number } = {}): Promise<number> {
    return this.#guard("purge deliveries", () => {
      const deleted = this.#transaction(() => {
        const result = this.#statement(
          `DELETE FROM deliveries WHERE id IN (
             SELECT id FROM deliveries
             WHERE received_at < ? AND state NOT IN ('queued', 'running')
             ORDER BY received_at LIMIT ?)`,
        ).run(olderThan, options.limit ?? DEFAULT_PURGE_LIMIT);
        return Number(result.changes);
      });
      // Give freed pages back to the file system, a little at a time.
      if (deleted > 0) {
        try {
          this.#db.exec("PRAGMA incremental_vacuum(1000)");
        } catch (error) {
          // The rows are gone; the pages can wait for the next purge.
          if (!isLockError(error)) throw error;
        }
      }
      return deleted;
    });
  }

  recover(): Promise<number> {
    return this.#guard("recover interrupted runs", () => {
      return this.#blockingTransaction(() => {
        const now = this.#now();
        this.#statement(
          `UPDATE runs SET outcome = 'interrupted', error = 'hookd stopped while the hook ran'
           WHERE outcome = 'running'`,
        ).run();
        return Number(
          this.#statement(
            `UPDATE deliveries SET state = 'queued', not_before = 0, updated_at = ?
             WHERE state = 'running'`,
          ).run(now).changes,
        );
      });
    });
  }

  queuedEndpoints(): Promise<string[]> {
    return this.#guard("read the queue", () => {
      // A skip-scan over the queued index: one lookup per endpoint, however long the queue.
      const rows = this.#statement(
        `WITH RECURSIVE e(name) AS (
           SELECT min(endpoint) FROM deliveries INDEXED BY deliveries_queued WHERE state = 'queued'
           UNION ALL
           SELECT (SELECT min(endpoint) FROM deliveries INDEXED BY deliveries_queued
                   WHERE state = 'queued' AND endpoint > e.name)
           FROM e WHERE e.name IS NOT NULL)
         SELECT name FROM e WHERE name IS NOT NULL`,
      ).all();
      return rows.map((row) => row.name as string);
    });
  }

  queued(
    endpoint: string,
    options: { limit?: number; newest?: boolean } = {},
  ): Promise<QueuedRef[]> {
    return this.#guard("read the queue", () => {
      const order = options.newest ? "DESC" : "ASC";
      return this.#statement(
        `SELECT id, seq, not_before FROM deliveries
         INDEXED BY deliveries_queued
         WHERE state = 'queued' AND endpoint = ? ORDER BY seq ${order} LIMIT ?`,
      ).all(endpoint, options.limit ?? 1).map((row) => ({
        id: row.id as string,
        seq: row.seq as number,
        notBefore: row.not_before as number,
      }));
    });
  }

  supersede(endpoint: string, keepId: string): Promise<string[]> {
    return this.#guard("supersede deliveries", () =>
      this.#transaction(() => {
        const now = this.#now();
        return this.#statement(
          `UPDATE deliveries SET state = 'superseded', superseded_by = ?1, updated_at = ?2,
             finished_at = ?2
           WHERE state = 'queued' AND endpoint = ?3
             AND seq < (SELECT seq FROM deliveries WHERE id = ?1)
           RETURNING id`,
        ).all(keepId, now, endpoint).map((row) => row.id as string);
      }));
  }

  claim(id: string): Promise<ClaimedDelivery | null> {
    return this.#write("claim a delivery", () => {
      const now = this.#now();
      const row = this.#statement(
        `UPDATE deliveries SET state = 'running', attempts = attempts + 1, updated_at = ?
           WHERE id = ? AND state = 'queued' AND hook IS NOT NULL
           RETURNING *`,
      ).get(now, id);
      if (!row) return null;
      const run = this.#statement(
        `INSERT INTO runs (delivery_id, attempt, started_at, outcome)
           VALUES (?, ?, ?, 'running') RETURNING id`,
      ).get(id, row.attempts, now)!;
      return toClaimed(row, run.id as number);
    });
  }

  recordProcessGroup(
    claimed: Pick<ClaimedDelivery, "runId">,
    group: ProcessGroup,
  ): Promise<void> {
    return this.#write("record the hook's process group", () => {
      this.#statement(
        "UPDATE runs SET pgid = ?, leader_start_time = ? WHERE id = ? AND outcome = 'running'",
      ).run(group.pgid, group.leaderStartTime, claimed.runId);
    });
  }

  runningGroups(): Promise<RunningGroup[]> {
    return this.#guard("read running hooks", () =>
      this.#statement(
        `SELECT id, delivery_id, pgid, leader_start_time FROM runs
         WHERE outcome = 'running' AND pgid IS NOT NULL AND leader_start_time IS NOT NULL
         ORDER BY id`,
      ).all().map((row) => ({
        runId: row.id as number,
        deliveryId: row.delivery_id as string,
        pgid: row.pgid as number,
        leaderStartTime: row.leader_start_time as number,
      })));
  }

  finishRun(
    claimed: Pick<ClaimedDelivery, "id" | "runId">,
    end: RunEnd,
    next: NextState,
  ): Promise<void> {
    return this.#write("record the run", () => {
      const now = this.#now();
      this.#statement(
        `UPDATE runs SET ended_at = ?, duration_ms = ?, outcome = ?, exit_code = ?, signal = ?,
             stdout = ?, stderr = ?, stdout_truncated = ?, stderr_truncated = ?, error = ?,
             started_at = coalesce(?, started_at)
           WHERE id = ?`,
      ).run(
        end.endedAt,
        Math.round(end.durationMs),
        end.outcome,
        end.exitCode,
        end.signal,
        toBytes(end.stdout),
        toBytes(end.stderr),
        end.stdoutTruncated ? 1 : 0,
        end.stderrTruncated ? 1 : 0,
        end.error ?? null,
        end.startedAt ?? null,
        claimed.runId,
      );
      if (next.state === "queued") {
        this.#statement(
          `UPDATE deliveries SET state = 'queued', not_before = ?, failures = failures + ?,
               updated_at = ?
             WHERE id = ? AND state = 'running'`,
        ).run(next.notBefore, next.failed ? 1 : 0, now, claimed.id);
      } else {
        const filteredBy = next.state === "filtered" ? next.filteredBy : null;
        this.#statement(
          `UPDATE deliveries SET state = ?, failures = failures + ?, updated_at = ?,
               finished_at = ?, filtered_by = ?
             WHERE id = ? AND state = 'running'`,
        ).run(next.state, next.state === "failed" ? 1 : 0, now, now, filteredBy, claimed.id);
      }
    });
  }

  /** One store in one process: no other instance's expired claims. */
  reclaimExpired(): Promise<number> {
    return Promise.resolve(0);
  }

  /** One dispatcher: its own count of running hooks is the whole. */
  runningByEndpoint(): Promise<Map<string, number>> {
    return Promise.resolve(new Map());
  }

  /** Re-queues, by any process, through a watched file (`_requeue_signal.ts`); not inserts. */
  listen(onWork: () => void): Promise<{ unlisten(): Promise<void> }> {
    return watchRequeues(this.path, onWork);
  }

  stats(): Promise<StoreStats> {
    return Promise.resolve(this.#commits.stats());
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      await this.#commits.close();
      this.#statements.clear();
      this.#db.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #nextSeq(): number {
    const row = this.#statement("SELECT coalesce(max(seq), 0) + 1 AS seq FROM deliveries").get()!;
    return row.seq as number;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Run `work` in a write transaction; `durable` commits with synchronous =
   * FULL, so that a 2xx survives a power cut, except in WAL mode, where
   * `GroupCommit` syncs the WAL itself, off the event loop.
   */
  #transaction<T>(work: () => T, durable = false): T {
    durable &&= this.#fullCommits;
    if (durable) this.#db.exec("PRAGMA synchronous = FULL");
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const result = work();
        this.#db.exec("COMMIT");
        this.#commits.wrote(PAGE_BYTES);
        return result;
      } catch (error) {
        // A failed COMMIT may leave the transaction open (SQLITE_BUSY); never leave it dangling.
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw error;
      }
    } finally {
      if (durable) this.#db.exec("PRAGMA synchronous = NORMAL");
    }
  }

  /**
   * Run the dispatcher's writes of one turn (`claim`, `recordProcessGroup`,
   * `finishRun`) in one transaction, each a savepoint: one that throws is
   * undone alone, and many hooks ending at once cost one commit.
   */
  #batch(works: (() => unknown)[]): Outcome<unknown>[] {
    return this.#guarded(
      "record hook runs",
      () =>
        this.#transaction(() =>
          works.map((work): Outcome<unknown> => {
            this.#db.exec("SAVEPOINT write");
            try {
              return { ok: true, value: work() };
            } catch (error) {
              this.#db.exec("ROLLBACK TO write");
              return { ok: false, error };
            } finally {
              this.#db.exec("RELEASE write");
            }
          })
        ),
    );
  }

  /** One of the dispatcher's writes, in this turn's batch. */
  #write<T>(what: string, work: () => T): Promise<T> {
    return this.#writes.add(() => this.#guarded(what, work)) as Promise<T>;
  }

  /** A transaction that waits in SQLite for the lock: only for the command line and start-up. */
  #blockingTransaction<T>(work: () => T): T {
    return this.#blocking(() => this.#transaction(work));
  }

  #blocking<T>(work: () => T): T {
    // A read-only store's connection waits already.
    if (this.#readOnly) return work();
    setBusyTimeout(this.#db, this.busyTimeoutMs);
    try {
      return work();
    } finally {
      setBusyTimeout(this.#db, 0);
    }
  }

  /** `work`'s result, or its failure (a SQLite error as {@linkcode StoreUnavailableError}), as a Promise. */
  #guard<T>(what: string, work: () => T): Promise<T> {
    try {
      return Promise.resolve(this.#guarded(what, work));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #guarded<T>(what: string, work: () => T): T {
    if (this.#closed) throw new StoreUnavailableError("The delivery store is closed");
    try {
      return work();
    } catch (error) {
      if (isSqliteError(error)) throw unavailable(`Cannot ${what}`, error);
      throw error;
    }
  }
}
