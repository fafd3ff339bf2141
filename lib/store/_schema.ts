/**
 * The store's schema as numbered migrations; `PRAGMA user_version` records
 * how many have been applied.
 *
 * @module
 */

/**
 * Migration `i` brings the schema from version `i` to `i + 1`. Append only:
 * an applied migration is never edited, a change is a new entry.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    event TEXT NOT NULL,
    source_id TEXT,
    received_at INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    body_size INTEGER NOT NULL,
    hook TEXT,
    timeout_ms INTEGER NOT NULL,
    verified_by TEXT,
    state TEXT NOT NULL,
    -- Position in the queue: assigned when queued, renewed by a replay, kept across retries.
    seq INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Failed runs since the delivery was last queued; measured against the retry budget.
    failures INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER,
    superseded_by TEXT
  ) STRICT;
  CREATE INDEX deliveries_source ON deliveries (endpoint, source_id) WHERE source_id IS NOT NULL;
  CREATE INDEX deliveries_queued ON deliveries (endpoint, seq) WHERE state = 'queued';
  CREATE INDEX deliveries_queued_seq ON deliveries (seq) WHERE state = 'queued';
  CREATE INDEX deliveries_received ON deliveries (received_at);
  CREATE INDEX deliveries_seq ON deliveries (seq);

  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    duration_ms INTEGER,
    outcome TEXT NOT NULL,
    exit_code INTEGER,
    signal TEXT,
    stdout TEXT NOT NULL DEFAULT '',
    stderr TEXT NOT NULL DEFAULT '',
    stdout_truncated INTEGER NOT NULL DEFAULT 0,
    stderr_truncated INTEGER NOT NULL DEFAULT 0,
    error TEXT
  ) STRICT;
  CREATE INDEX runs_delivery ON runs (delivery_id, id);
  CREATE INDEX runs_running ON runs (outcome) WHERE outcome = 'running';

  -- Counts by state, kept by triggers so that the back-pressure check on the
  -- request path costs one lookup however long the queue is, and stays right
  -- when another process (the CLI) changes states.
  CREATE TABLE state_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT;
  CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries BEGIN
    INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
      ON CONFLICT (state) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER deliveries_count_update AFTER UPDATE OF state ON deliveries
    WHEN OLD.state <> NEW.state BEGIN
    UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
    INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
      ON CONFLICT (state) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries BEGIN
    UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
  END;
  `,
  // 2: the SHA-256 of what a sender's signature covers, for senders that sign
  // neither a timestamp nor the event: a body accepted once on an endpoint
  // is a duplicate when it comes again, whatever its unsigned headers say.
  `
  ALTER TABLE deliveries ADD COLUMN replay_hash TEXT;
  CREATE INDEX deliveries_replay ON deliveries (endpoint, replay_hash) WHERE replay_hash IS NOT NULL;
  `,
  // 3: why a delivery is `filtered`: the filter's variable and the condition
  // that failed. The state column takes any text, so the new state needs no change.
  `
  ALTER TABLE deliveries ADD COLUMN filtered_by TEXT;
  `,
  // 4: the admin page. Its list: the newest deliveries of an endpoint, a state or both, read in id
  // order from an index however many are stored. Its chart: deliveries received per minute by
  // state, and a histogram of hook run durations per minute (buckets 10% wide, from 1 ms to a
  // day), both kept by triggers like state_counts, so the last hour costs a few hundred rows to
  // read however many deliveries it held.
  `
  CREATE INDEX deliveries_endpoint_id ON deliveries (endpoint, id);
  CREATE INDEX deliveries_state_id ON deliveries (state, id);
  CREATE INDEX deliveries_endpoint_state_id ON deliveries (endpoint, state, id);

  CREATE TABLE minute_states (
    minute INTEGER NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (minute, state)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO minute_states (minute, state, n)
    SELECT received_at / 60000, state, count(*) FROM deliveries GROUP BY 1, 2;
  CREATE TRIGGER minute_states_insert AFTER INSERT ON deliveries BEGIN
    INSERT INTO minute_states (minute, state, n) VALUES (NEW.received_at / 60000, NEW.state, 1)
      ON CONFLICT (minute, state) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER minute_states_update AFTER UPDATE OF state ON deliveries
    WHEN OLD.state <> NEW.state BEGIN
    UPDATE minute_states SET n = n - 1
      WHERE minute = OLD.received_at / 60000 AND state = OLD.state;
    INSERT INTO minute_states (minute, state, n) VALUES (NEW.received_at / 60000, NEW.state, 1)
      ON CONFLICT (minute, state) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER minute_states_delete AFTER DELETE ON deliveries BEGIN
    DELETE FROM minute_states
      WHERE minute = OLD.received_at / 60000 AND state = OLD.state AND n <= 1;
    UPDATE minute_states SET n = n - 1
      WHERE minute = OLD.received_at / 60000 AND state = OLD.state;
  END;

  -- A bucket holds the durations up to its upper bound and above the previous one.
  CREATE TABLE duration_buckets (upper INTEGER PRIMARY KEY) STRICT;
  INSERT INTO duration_buckets (upper)
    WITH RECURSIVE b(x) AS (SELECT 1.0 UNION ALL SELECT x * 1.1 FROM b WHERE x < 86400000)
    SELECT DISTINCT CAST(round(x) AS INTEGER) FROM b;
  INSERT INTO duration_buckets (upper) VALUES (0), (9223372036854775807);
  CREATE TABLE minute_durations (
    minute INTEGER NOT NULL, upper INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (minute, upper)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO minute_durations (minute, upper, n)
    SELECT ended_at / 60000,
      (SELECT min(upper) FROM duration_buckets WHERE upper >= duration_ms), count(*)
    FROM runs WHERE ended_at IS NOT NULL AND duration_ms IS NOT NULL GROUP BY 1, 2;
  CREATE TRIGGER minute_durations_insert AFTER INSERT ON runs
    WHEN NEW.ended_at IS NOT NULL AND NEW.duration_ms IS NOT NULL BEGIN
    INSERT INTO minute_durations (minute, upper, n) VALUES (NEW.ended_at / 60000,
      (SELECT min(upper) FROM duration_buckets WHERE upper >= NEW.duration_ms), 1)
      ON CONFLICT (minute, upper) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER minute_durations_update AFTER UPDATE OF ended_at, duration_ms ON runs
    WHEN NEW.ended_at IS NOT NULL AND NEW.duration_ms IS NOT NULL
      AND (OLD.ended_at IS NULL OR OLD.duration_ms IS NULL) BEGIN
    INSERT INTO minute_durations (minute, upper, n) VALUES (NEW.ended_at / 60000,
      (SELECT min(upper) FROM duration_buckets WHERE upper >= NEW.duration_ms), 1)
      ON CONFLICT (minute, upper) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER minute_durations_delete AFTER DELETE ON runs
    WHEN OLD.ended_at IS NOT NULL AND OLD.duration_ms IS NOT NULL BEGIN
    DELETE FROM minute_durations WHERE minute = OLD.ended_at / 60000 AND n <= 1
      AND upper = (SELECT min(upper) FROM duration_buckets WHERE upper >= OLD.duration_ms);
    UPDATE minute_durations SET n = n - 1 WHERE minute = OLD.ended_at / 60000
      AND upper = (SELECT min(upper) FROM duration_buckets WHERE upper >= OLD.duration_ms);
  END;
  `,
  // 5: a running hook's process group and its leader's start time (clock ticks
  // since boot), so that the next start can end what a crashed daemon left
  // running, and never a process that merely reuses the pid.
  `
  ALTER TABLE runs ADD COLUMN pgid INTEGER;
  ALTER TABLE runs ADD COLUMN leader_start_time INTEGER;
  `,
  // 6: the counts of new deliveries, by state and by minute and state, are added once per
  // inserted batch by the insert itself (`_insert.ts`), not by a trigger run for every row: the
  // two triggers cost about 12 µs of each insert. Only the store inserts deliveries; updates and
  // deletes, which other processes (the command line) make too, keep their triggers.
  `
  DROP TRIGGER deliveries_count_insert;
  DROP TRIGGER minute_states_insert;
  `,
  // 7: a hook's output as the bytes of its UTF-8 text, so that any byte fits: a TEXT value
  // keeps a NUL but reads back cut at it. SQLite cannot change a column's type: a BLOB
  // column takes the old one's place and its name.
  `
  ALTER TABLE runs ADD COLUMN stdout_bytes BLOB NOT NULL DEFAULT x'';
  ALTER TABLE runs ADD COLUMN stderr_bytes BLOB NOT NULL DEFAULT x'';
  UPDATE runs SET stdout_bytes = CAST(stdout AS BLOB), stderr_bytes = CAST(stderr AS BLOB);
  ALTER TABLE runs DROP COLUMN stdout;
  ALTER TABLE runs DROP COLUMN stderr;
  ALTER TABLE runs RENAME COLUMN stdout_bytes TO stdout;
  ALTER TABLE runs RENAME COLUMN stderr_bytes TO stderr;
  `,
];
