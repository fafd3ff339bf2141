/**
 * Tests for `Store.activity()`: the chart's per-minute counts and duration percentiles.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "../../lib/store/mod.ts";
import { MIGRATIONS } from "../../lib/store/_schema.ts";
import { tempDir } from "../harness.ts";
import { delivery, seed } from "../_delivery.ts";

/** A fixed "now" on a whole minute. */
const NOW = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

Deno.test("activity() counts deliveries per minute by state and the runs' duration percentiles", async () => {
  await using store = openStore(":memory:", { now: () => NOW });
  const since = NOW - 3 * 60_000;
  // Minute 0: two done, one failed; minute 1: nothing; minute 2: one ignored, one queued.
  for (const durationMs of [100, 300]) {
    await seed(store, delivery({ receivedAt: since + 1000 }), { outcome: "succeeded", durationMs });
  }
  await seed(store, delivery({ receivedAt: since + 2000 }), { outcome: "failed", durationMs: 200 });
  await seed(store, delivery({ receivedAt: since + 120_000, hook: null }));
  await seed(store, delivery({ receivedAt: since + 125_000 }), null);
  // Outside the window on both sides.
  await seed(store, delivery({ receivedAt: since - 10_000 }));
  await seed(store, delivery({ receivedAt: NOW + 1 }));

  const minutes = await store.activity(since, NOW);
  assert.deepEqual(minutes.map((m) => m.minute), [since, since + 60_000, since + 120_000]);
  assert.deepEqual(minutes.map((m) => m.received), [
    { done: 2, failed: 1 },
    {},
    { ignored: 1, queued: 1 },
  ]);
  // The fixture's runs end at receivedAt + durationMs: these three within minute 0. Each
  // percentile is its bucket's upper bound: at most 10% above the duration.
  assert.equal(minutes[0].runs, 3);
  const { p50, p95, p99 } = minutes[0].durationMs!;
  assert.ok(p50 >= 200 && p50 <= 220, `p50 ${p50}`);
  assert.ok(p95 >= 300 && p95 <= 330, `p95 ${p95}`);
  assert.equal(p99, p95);
  assert.equal(minutes[1].durationMs, null);

  // The triggers follow state changes and purges.
  const queued = (await store.list({ state: "queued" }))[0].id;
  const claimed = (await store.claim(queued))!;
  assert.deepEqual((await store.activity(since, NOW))[2].received, { ignored: 1, running: 1 });
  await store.finishRun(claimed, {
    outcome: "succeeded",
    endedAt: since + 130_000,
    durationMs: 5,
    exitCode: 0,
    signal: null,
    stdout: "",
    stderr: "",
    stdoutTruncated: false,
    stderrTruncated: false,
  }, { state: "done" });
  const after = (await store.activity(since, NOW))[2];
  assert.deepEqual(after.received, { ignored: 1, done: 1 });
  assert.equal(after.runs, 1);
  assert.equal(after.durationMs?.p50, 5);
  assert.equal(await store.purge(NOW, { limit: 1000 }), 6);
  assert.deepEqual(
    (await store.activity(since - 60_000, NOW)).map((m) => [m.received, m.runs]),
    [[{}, 0], [{}, 0], [{}, 0], [{}, 0]],
  );
});

Deno.test("inserts that share one commit are counted by minute and state, duplicates not", async () => {
  await using store = openStore(":memory:", { now: () => NOW });
  const since = NOW - 2 * 60_000;
  // One batch (the inserts are made in the same turn): two minutes, three states, one duplicate.
  const results = await Promise.all([
    store.insert(delivery({ receivedAt: since + 1000, sourceId: "a" })),
    store.insert(delivery({ receivedAt: since + 2000, sourceId: "a" })),
    store.insert(delivery({ receivedAt: since + 3000, hook: null })),
    store.insert(delivery({ receivedAt: since + 61_000, filteredBy: "HOOKD_X_MATCH: ref=main" })),
    store.insert(delivery({ receivedAt: since + 62_000 })),
    store.insert(delivery({ receivedAt: since + 63_000, hook: null })),
  ]);
  assert.deepEqual(results.map((r) => r.duplicate), [false, true, false, false, false, false]);
  assert.equal((await store.stats()).insertTransactions, 1, "one shared commit");
  assert.deepEqual((await store.activity(since, NOW)).map((m) => m.received), [
    { queued: 1, ignored: 1 },
    { filtered: 1, queued: 1, ignored: 1 },
  ]);
  const { byState } = await store.counts();
  assert.deepEqual([byState.queued, byState.ignored, byState.filtered], [2, 2, 1]);
  // A second batch adds to the same minute's counts.
  await store.insert(delivery({ receivedAt: since + 64_000, hook: null }));
  assert.deepEqual((await store.activity(since, NOW))[1].received, {
    filtered: 1,
    queued: 1,
    ignored: 2,
  });
  assert.equal((await store.counts()).byState.ignored, 3);
});

Deno.test("the migration to schema 2 fills the chart's tables from the deliveries already stored", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hookd.db`;
  {
    using db = new DatabaseSync(path);
    db.exec(MIGRATIONS[0]);
    db.exec("PRAGMA user_version = 1");
    const insert = db.prepare(
      `INSERT INTO deliveries (id, endpoint, event, received_at, content_type, headers, body,
         body_size, hook, timeout_ms, state, seq, queued_at, updated_at)
       VALUES (?, 'github', 'push', ?, 'application/json', '{}', x'', 0, 'x', 1000, ?, ?, 0, 0)`,
    );
    insert.run("01A", NOW - 90_000, "done", 1);
    insert.run("01B", NOW - 80_000, "failed", 2);
    insert.run("01C", NOW - 10_000, "queued", 3);
    db.prepare(
      `INSERT INTO runs (delivery_id, attempt, started_at, ended_at, duration_ms, outcome)
       VALUES ('01A', 1, ?, ?, 40, 'succeeded')`,
    ).run(NOW - 89_000, NOW - 88_960);
  }
  await using store = openStore(path);
  const minutes = await store.activity(NOW - 120_000, NOW);
  assert.deepEqual(minutes.map((m) => m.received), [{ done: 1, failed: 1 }, { queued: 1 }]);
  assert.equal(minutes[0].runs, 1);
  const p50 = minutes[0].durationMs?.p50 ?? 0;
  assert.ok(p50 >= 40 && p50 <= 44, `40 ms in its 10% bucket: ${p50}`);
});
