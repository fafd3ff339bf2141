/**
 * Runs claimed across instances: a claim takes the row with `FOR UPDATE SKIP
 * LOCKED` and holds it under a lease (`lease_until`, on the database's clock)
 * renewed on a timer; once a lease runs out any instance takes the run back.
 * An instance proves it holds its id with a heartbeat row, not a session
 * advisory lock, which would need a connection for the daemon's life, not
 * survive a pooler such as PgBouncer, and outlive a crashed host for hours.
 *
 * @module
 */

import { toBytes, toClaimed } from "./_rows.ts";
import type { Sql } from "postgres";
import {
  type ClaimedDelivery,
  type ClaimOptions,
  type NextState,
  type ProcessGroup,
  type RunEnd,
  type RunningGroup,
  StoreUnavailableError,
} from "./types.ts";

/** Epoch milliseconds on the database's clock: leases mean the same on every instance. */
export const DB_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/** How often a dispatching instance proves it still holds its id. */
const BEAT_MS = 1000;
/** A holder whose last beat is older than this is gone. */
export const STALE_MS = 3 * BEAT_MS;

/** Settings of {@linkcode PostgresClaims}. */
export interface PostgresClaimsSettings {
  instanceId: string;
  killGraceMs: number;
  leaseMarginMs: number;
  /** How often the leases of held runs are renewed; 0: never (tests). */
  renewIntervalMs: number;
  now: () => number;
}

/** Claims, leases and run records of one instance. */
export class PostgresClaims {
  #sql: Sql;
  #settings: PostgresClaimsSettings;
  /** Runs this instance claimed and has not finished: run id → lease override or null. */
  #held = new Map<number, number | null>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #renewing: Promise<void> | undefined;
  /** This process's token in the `instances` row of its id. */
  #holder = crypto.randomUUID();
  #holding: Promise<void> | undefined;
  #beat: ReturnType<typeof setInterval> | undefined;
  #beating = false;
  /** Another process took the id over while this one could not beat. */
  #lost = false;

  /** Claim over the store's pool, and start renewing held leases. */
  constructor(sql: Sql, settings: PostgresClaimsSettings) {
    this.#sql = sql;
    this.#settings = settings;
    if (settings.renewIntervalMs > 0) {
      this.#timer = setInterval(() => {
        this.#renewing ??= this.#renewHeld().then(() => {}, () => {}).finally(() => {
          this.#renewing = undefined;
        });
      }, settings.renewIntervalMs);
      // The daemon's lifetime is decided by its signals, not by this timer.
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Added to every default lease: the delivery's time limit plus this. */
  get #slack(): number {
    return this.#settings.killGraceMs + this.#settings.leaseMarginMs;
  }

  /**
   * Hold this instance's id, once: at once when no live process holds it;
   * after its holder's beat went stale when that holder died; never while
   * another process keeps beating. Then beat until closed.
   *
   * @throws {StoreUnavailableError} naming `HOOKD_INSTANCE_ID` when a live instance holds it
   */
  hold(): Promise<void> {
    this.#holding ??= this.#takeId().catch((error) => {
      this.#holding = undefined;
      throw error;
    });
    return this.#holding;
  }

  async #takeId(): Promise<void> {
    const id = this.#settings.instanceId;
    let firstSeen: number | undefined;
    for (;;) {
      const [taken] = await this.#sql.unsafe(
        `INSERT INTO instances AS i (id, holder, beat_at) VALUES ($1, $2, ${DB_NOW})
         ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, beat_at = excluded.beat_at
           WHERE i.holder = excluded.holder OR i.beat_at < excluded.beat_at - $3
         RETURNING id`,
        [id, this.#holder, STALE_MS],
      );
      if (taken) break;
      const [seen] = await this.#sql.unsafe(
        `SELECT beat_at, ${DB_NOW} - beat_at AS age FROM instances WHERE id = $1`,
        [id],
      );
      if (!seen) continue; // Given up meanwhile: take it.
      if (firstSeen !== undefined && seen.beat_at !== firstSeen) {
        throw new StoreUnavailableError(
          `HOOKD_INSTANCE_ID ${id} is held by another running instance (it proved it ${seen.age} ms ago): give each instance its own HOOKD_INSTANCE_ID`,
          { retryAfterSeconds: 60 },
        );
      }
      firstSeen ??= seen.beat_at as number;
      // Its holder beats again by then, or is gone.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(STALE_MS - (seen.age as number), 0) + BEAT_MS / 4)
      );
    }
    this.#beat = setInterval(() => this.#prove(), BEAT_MS);
    Deno.unrefTimer(this.#beat);
  }

  /** One heartbeat; a database away is tried again at the next. */
  async #prove(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    try {
      const rows = await this.#sql.unsafe(
        `UPDATE instances SET beat_at = ${DB_NOW} WHERE id = $1 AND holder = $2 RETURNING id`,
        [this.#settings.instanceId, this.#holder],
      );
      if (rows.length === 0) {
        this.#lost = true;
        clearInterval(this.#beat);
      }
    } catch {
      // Away: the next beat tries again; past STALE_MS another process may take the id.
    } finally {
      this.#beating = false;
    }
  }

  /** Take a queued delivery for a run under a lease; null when it is not queued, taken, or its endpoint is busy. */
  claim(id: string, options: ClaimOptions = {}): Promise<ClaimedDelivery | null> {
    if (this.#lost) {
      return Promise.reject(
        new StoreUnavailableError(
          `HOOKD_INSTANCE_ID ${this.#settings.instanceId} was taken over by another instance while this one could not reach the database: stop one of them`,
        ),
      );
    }
    return this.#sql.begin(async (tx) => {
      if (options.concurrency !== undefined) {
        const [target] = await tx`SELECT endpoint FROM deliveries WHERE id = ${id}`;
        if (!target) return null;
        // Claims of one endpoint take turns, so that the count below stays true until commit.
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`hookd endpoint ${target.endpoint}`}, 0))`;
        const [running] = await tx`
          SELECT count(*)::int AS n FROM deliveries
          WHERE state = 'running' AND endpoint = ${target.endpoint as string}`;
        if ((running.n as number) >= options.concurrency) return null;
      }
      const lease = options.leaseMs ?? null;
      const [row] = await tx.unsafe(
        `WITH target AS (
           SELECT id FROM deliveries WHERE id = $1 AND state = 'queued' AND hook IS NOT NULL
           FOR UPDATE SKIP LOCKED),
         run AS (SELECT nextval('runs_id_seq') AS run_id FROM target),
         d AS (
           UPDATE deliveries SET state = 'running', attempts = attempts + 1, updated_at = $2,
             claimed_by = $3, run_id = run.run_id,
             lease_until = ${DB_NOW} + coalesce($4::bigint, timeout_ms + $5::bigint)
           FROM run WHERE deliveries.id = (SELECT id FROM target)
           RETURNING deliveries.*),
         r AS (
           INSERT INTO runs (id, delivery_id, attempt, started_at, outcome, instance)
           SELECT run_id, id, attempts, $2, 'running', $3 FROM d RETURNING id)
         SELECT d.* FROM d`,
        [id, this.#settings.now(), this.#settings.instanceId, lease, this.#slack],
      );
      if (!row) return null;
      this.#held.set(row.run_id as number, lease);
      return toClaimed(row, row.run_id as number);
    });
  }

  /**
   * Extend the leases of every run this instance holds, in one statement;
   * runs taken over meanwhile are forgotten.
   */
  async #renewHeld(): Promise<void> {
    if (this.#held.size === 0) return;
    const runs = [...this.#held.keys()];
    const leases = runs.map((run) => this.#held.get(run) ?? null);
    const renewed = await this.#sql.unsafe(
      `UPDATE deliveries d
       SET lease_until = ${DB_NOW} + coalesce(u.lease, d.timeout_ms + $1::bigint)
       FROM unnest($2::bigint[], $3::bigint[]) AS u(run, lease)
       WHERE d.run_id = u.run AND d.state = 'running' AND d.claimed_by = $4
       RETURNING d.run_id`,
      [this.#slack, runs, leases, this.#settings.instanceId],
    );
    const kept = new Set(renewed.map((row) => row.run_id as number));
    for (const run of runs) if (!kept.has(run)) this.#held.delete(run);
  }

  /**
   * Put back in the queue, recorded as `interrupted`, the runs whose lease
   * expired and, with `own`, every run this instance's id claimed (it
   * restarted); resolves to how many deliveries were requeued.
   */
  async reclaim(own: boolean): Promise<number> {
    const me = this.#settings.instanceId;
    if (own) await this.hold();
    return await this.#sql.begin(async (tx) => {
      const lost = await tx.unsafe(
        `SELECT id, run_id, claimed_by FROM deliveries
         WHERE state = 'running' AND (lease_until < ${DB_NOW} ${own ? "OR claimed_by = $1" : ""})
         FOR UPDATE SKIP LOCKED`,
        own ? [me] : [],
      );
      if (lost.length === 0) return 0;
      const ids = lost.map((row) => row.id as string);
      const mine = lost.filter((row) => row.claimed_by === me).map((row) => row.run_id as number);
      await tx`
        UPDATE runs SET outcome = 'interrupted',
          error = CASE WHEN id = ANY(${mine}::bigint[]) THEN 'hookd stopped while the hook ran'
            ELSE 'the instance running the hook stopped renewing its lease' END
        WHERE delivery_id = ANY(${ids}::text[]) AND outcome = 'running'`;
      await tx`
        UPDATE deliveries SET state = 'queued', not_before = 0, updated_at = ${this.#settings.now()},
          claimed_by = NULL, lease_until = NULL
        WHERE id = ANY(${ids}::text[])`;
      for (const row of lost) this.#held.delete(row.run_id as number);
      return ids.length;
    });
  }

  /**
   * Record how a run ended and where its delivery goes, if the run is still
   * the delivery's current one (after a takeover it belongs to another).
   */
  async finish(
    claimed: Pick<ClaimedDelivery, "id" | "runId">,
    end: RunEnd,
    next: NextState,
  ): Promise<void> {
    // The hook has ended: its lease need not grow any more. If this record never lands, the
    // lease runs out and any instance takes the run back, so it is never held forever.
    this.#held.delete(claimed.runId);
    await this.#sql.begin(async (tx) => {
      const now = this.#settings.now();
      await tx`
        UPDATE runs SET ended_at = ${end.endedAt}, duration_ms = ${Math.round(end.durationMs)},
          outcome = ${end.outcome}, exit_code = ${end.exitCode}, signal = ${end.signal},
          stdout = ${toBytes(end.stdout)}, stderr = ${toBytes(end.stderr)},
          stdout_truncated = ${end.stdoutTruncated}, stderr_truncated = ${end.stderrTruncated},
          error = ${end.error ?? null}, started_at = coalesce(${end.startedAt ?? null}, started_at)
        WHERE id = ${claimed.runId}`;
      if (next.state === "queued") {
        await tx`
          UPDATE deliveries SET state = 'queued', not_before = ${next.notBefore},
            failures = failures + ${next.failed ? 1 : 0}, updated_at = ${now},
            claimed_by = NULL, lease_until = NULL
          WHERE id = ${claimed.id} AND state = 'running' AND run_id = ${claimed.runId}`;
      } else {
        await tx`
          UPDATE deliveries SET state = ${next.state},
            failures = failures + ${next.state === "failed" ? 1 : 0}, updated_at = ${now},
            finished_at = ${now}, claimed_by = NULL, lease_until = NULL,
            filtered_by = ${next.state === "filtered" ? next.filteredBy : null}
          WHERE id = ${claimed.id} AND state = 'running' AND run_id = ${claimed.runId}`;
      }
    });
  }

  /** Record the process group a held run's hook runs in. */
  async recordProcessGroup(
    claimed: Pick<ClaimedDelivery, "runId">,
    group: ProcessGroup,
  ): Promise<void> {
    await this.#sql`
      UPDATE runs SET pgid = ${group.pgid}, leader_start_time = ${group.leaderStartTime}
      WHERE id = ${claimed.runId} AND outcome = 'running'`;
  }

  /** The process groups of this instance's runs still marked `running`: pids mean something on this host only. */
  async runningGroups(): Promise<RunningGroup[]> {
    await this.hold();
    const rows = await this.#sql`
      SELECT id, delivery_id, pgid, leader_start_time FROM runs
      WHERE outcome = 'running' AND instance = ${this.#settings.instanceId}
        AND pgid IS NOT NULL AND leader_start_time IS NOT NULL
      ORDER BY id`;
    return rows.map((row) => ({
      runId: row.id as number,
      deliveryId: row.delivery_id as string,
      pgid: row.pgid as number,
      leaderStartTime: row.leader_start_time as number,
    }));
  }

  /** Stop renewing; the leases run out unless the runs are finished. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#beat);
    await this.#renewing;
    // Given back, so that a restart need not wait for the beat to go stale.
    if (this.#beat !== undefined && !this.#lost) {
      await this.#sql`DELETE FROM instances
                      WHERE id = ${this.#settings.instanceId} AND holder = ${this.#holder}`
        .catch(() => {});
    }
  }
}
