/**
 * The PostgreSQL store's schema as numbered migrations, applied under a
 * transaction-level advisory lock: instances starting together apply each once.
 *
 * @module
 */

import type { Sql } from "postgres";
import { StoreUnavailableError } from "./types.ts";

/** The advisory lock key of migrations (any bigint; "hookd" + 1). */
export const MIGRATION_LOCK = 0x686f6f6b6401n;
/** The advisory lock key of the retention purge. */
export const PURGE_LOCK = 0x686f6f6b6402n;
/** The channel the store notifies when deliveries are queued. */
export const WORK_CHANNEL = "hookd_work";

/**
 * Migration `i` brings the schema from version `i` to `i + 1`. Append only:
 * an applied migration is never edited, a change is a new entry.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE SEQUENCE hookd_queue_seq;
  CREATE TABLE deliveries (
    id text PRIMARY KEY,
    endpoint text NOT NULL,
    event text NOT NULL,
    source_id text,
    received_at bigint NOT NULL,
    content_type text NOT NULL,
    headers text NOT NULL,
    body bytea NOT NULL,
    body_size integer NOT NULL,
    hook text,
    timeout_ms integer NOT NULL,
    verified_by text,
    state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'ignored', 'filtered', 'superseded')),
    -- Position in the queue: assigned when queued, renewed by a replay, kept across retries.
    seq bigint NOT NULL DEFAULT nextval('hookd_queue_seq'),
    queued_at bigint NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    failures integer NOT NULL DEFAULT 0,
    not_before bigint NOT NULL DEFAULT 0,
    updated_at bigint NOT NULL,
    finished_at bigint,
    superseded_by text,
    replay_hash text,
    -- Why a delivery is \`filtered\`: the filter's variable and the condition that failed.
    filtered_by text,
    -- The duplicate keys, while they count: copies of source_id and
    -- replay_hash, cleared once the delivery is older than the retention
    -- window, so that the unique indexes enforce "once per window" across
    -- every instance.
    dedupe_source text,
    dedupe_replay text,
    -- The claim: which instance runs the current run, until when its lease holds.
    claimed_by text,
    lease_until bigint,
    run_id bigint
  );
  CREATE UNIQUE INDEX deliveries_dedupe_source ON deliveries (endpoint, dedupe_source)
    WHERE dedupe_source IS NOT NULL;
  CREATE UNIQUE INDEX deliveries_dedupe_replay ON deliveries (endpoint, dedupe_replay)
    WHERE dedupe_replay IS NOT NULL;
  CREATE INDEX deliveries_queued ON deliveries (endpoint, seq) WHERE state = 'queued';
  CREATE INDEX deliveries_queued_seq ON deliveries (seq) WHERE state = 'queued';
  CREATE INDEX deliveries_running ON deliveries (endpoint) WHERE state = 'running';
  CREATE INDEX deliveries_received ON deliveries (received_at);
  -- The admin page's list: the newest of an endpoint, a state or both, in id order.
  CREATE INDEX deliveries_endpoint_id ON deliveries (endpoint, id);
  CREATE INDEX deliveries_state_id ON deliveries (state, id);
  CREATE INDEX deliveries_endpoint_state_id ON deliveries (endpoint, state, id);

  CREATE TABLE runs (
    id bigserial PRIMARY KEY,
    delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    started_at bigint NOT NULL,
    ended_at bigint,
    duration_ms bigint,
    outcome text NOT NULL,
    exit_code integer,
    signal text,
    stdout text NOT NULL DEFAULT '',
    stderr text NOT NULL DEFAULT '',
    stdout_truncated boolean NOT NULL DEFAULT false,
    stderr_truncated boolean NOT NULL DEFAULT false,
    error text,
    -- The instance that ran it, and the hook's process group there with its
    -- leader's start time: a restarted instance ends what it left running.
    instance text,
    pgid integer,
    leader_start_time bigint
  );
  CREATE INDEX runs_delivery ON runs (delivery_id, id);
  CREATE INDEX runs_ended ON runs (ended_at) WHERE ended_at IS NOT NULL;

  -- Counts by state as append-only deltas, one row per statement and state,
  -- summed by counts() and folded now and then: a single counter row per
  -- state would make every instance's writes wait for each other.
  CREATE TABLE state_deltas (state text NOT NULL, n bigint NOT NULL);

  CREATE FUNCTION hookd_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO state_deltas (state, n) SELECT state, count(*) FROM new_rows GROUP BY state;
    IF EXISTS (SELECT 1 FROM new_rows WHERE state = 'queued') THEN
      PERFORM pg_notify('${WORK_CHANNEL}', '');
    END IF;
    RETURN NULL;
  END $$;
  CREATE FUNCTION hookd_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO state_deltas (state, n)
      SELECT state, sum(n) FROM (
        SELECT state, -1 AS n FROM old_rows UNION ALL SELECT state, 1 FROM new_rows
      ) AS changes GROUP BY state HAVING sum(n) <> 0;
    IF EXISTS (SELECT 1 FROM new_rows WHERE state = 'queued') THEN
      PERFORM pg_notify('${WORK_CHANNEL}', '');
    END IF;
    RETURN NULL;
  END $$;
  CREATE FUNCTION hookd_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO state_deltas (state, n) SELECT state, -count(*) FROM old_rows GROUP BY state;
    RETURN NULL;
  END $$;
  CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hookd_count_insert();
  CREATE TRIGGER deliveries_count_update AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hookd_count_update();
  CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hookd_count_delete();
  `,
  // 2: a hook's output as the bytes of its UTF-8 text: a text column refuses a NUL, and the
  // run of a hook that printed one could never be recorded.
  `
  ALTER TABLE runs
    ALTER COLUMN stdout DROP DEFAULT,
    ALTER COLUMN stdout TYPE bytea USING convert_to(stdout, 'UTF8'),
    ALTER COLUMN stdout SET DEFAULT ''::bytea,
    ALTER COLUMN stderr DROP DEFAULT,
    ALTER COLUMN stderr TYPE bytea USING convert_to(stderr, 'UTF8'),
    ALTER COLUMN stderr SET DEFAULT ''::bytea;
  `,
  // 3: the instance ids in use, each proven by its holder's heartbeat (see \`_postgres_claims.ts\`).
  `
  CREATE TABLE instances (id text PRIMARY KEY, holder text NOT NULL, beat_at bigint NOT NULL);
  `,
];

/**
 * Bring the schema up to date, once across every instance starting now.
 *
 * @param migrations the migrations to apply, default {@linkcode POSTGRES_MIGRATIONS}
 * @returns the schema version before and after
 * @throws {StoreUnavailableError} when the database's schema is newer than this hookd's
 */
export async function migrate(
  sql: Sql,
  migrations: readonly string[] = POSTGRES_MIGRATIONS,
): Promise<{ from: number; to: number }> {
  return await sql.begin(async (tx) => {
    // Held until this transaction ends: a second instance waits here, then
    // reads the version the first one wrote.
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await tx`CREATE TABLE IF NOT EXISTS hookd_schema (version integer NOT NULL)`;
    const [row] = await tx`SELECT version FROM hookd_schema`;
    const from = row ? Number(row.version) : 0;
    if (!row) await tx`INSERT INTO hookd_schema (version) VALUES (0)`;
    if (from > migrations.length) {
      throw new StoreUnavailableError(
        `The delivery store's schema is version ${from}, newer than this hookd's ${migrations.length}: upgrade hookd`,
        { retryAfterSeconds: 60 },
      );
    }
    for (let version = from; version < migrations.length; version++) {
      await tx.unsafe(migrations[version]);
      await tx`UPDATE hookd_schema SET version = ${version + 1}`;
    }
    return { from, to: Math.max(from, migrations.length) };
  });
}
