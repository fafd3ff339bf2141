/**
 * Tests for `Store.activity()`: the chart's per-minute counts and duration percentiles.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openStore } from "../../lib/store.ts";
import { delivery, NOW, seed } from "../http/_fixtures.ts";

Deno.test("activity() counts deliveries per minute by state and the runs' duration percentiles", async () => {
  using store = openStore(":memory:", { now: () => NOW });
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

  const minutes = store.activity(since, NOW);
  assert.deepEqual(minutes.map((m) => m.minute), [since, since + 60_000, since + 120_000]);
  assert.deepEqual(minutes.map((m) => m.received), [
    { done: 2, failed: 1 },
    {},
    { ignored: 1, queued: 1 },
  ]);
  // The fixture's runs end at receivedAt + durationMs: these three within minute 0.
  assert.equal(minutes[0].runs, 3);
  assert.deepEqual(minutes[0].durationMs, { p50: 200, p95: 300, p99: 300 });
  assert.equal(minutes[1].durationMs, null);
});
