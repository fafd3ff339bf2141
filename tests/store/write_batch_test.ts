/**
 * Tests for the SQLite store's batching of the dispatcher's writes: those
 * made in one turn of the event loop share one transaction, each still
 * succeeds or fails alone, and a batch waits out another connection's write
 * lock on a timer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import { runEnd } from "./_contract.ts";

Deno.test("a write that fails in a turn's batch is undone alone; the others stay", async () => {
  await using store = openStore(":memory:");
  const first = await store.insert(delivery());
  const second = await store.insert(delivery());
  const claimedSecond = (await store.claim(second.id))!;
  // Asked in one turn: one batch. A value SQLite cannot bind fails inside its savepoint.
  const [claimedFirst, badEnd] = await Promise.allSettled([
    store.claim(first.id),
    store.finishRun(claimedSecond, {
      ...runEnd("failed", 1),
      exitCode: {} as unknown as number,
    }, { state: "failed" }),
  ]);
  assert.equal(claimedFirst.status, "fulfilled");
  assert.ok(claimedFirst.value, "the good write stayed");
  assert.equal(badEnd.status, "rejected", "the bad write failed");
  assert.equal((await store.get(first.id))?.state, "running");
  const stored = (await store.get(second.id))!;
  assert.equal(stored.state, "running", "the bad write was undone");
  assert.equal(stored.runs[0].outcome, "running");
});

Deno.test(
  "claims, process groups and run ends wait on a timer while another connection holds the write lock",
  async () => {
    await using dir = await Deno.makeTempDir({ prefix: "hookd_busy_" }).then((path) => ({
      path,
      [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
    }));
    const path = `${dir.path}/hookd.db`;
    await using store = openStore(path, { busyTimeoutMs: 2000 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await store.insert(delivery())).id);
    const running = (await store.claim(ids[0]))!;
    // Another process (the checkpointer, `hookd replay`, an admin's sqlite3) takes the write lock.
    const other = new DatabaseSync(path);
    other.exec("BEGIN IMMEDIATE");
    let held = true;
    const release = setTimeout(() => {
      other.exec("COMMIT");
      held = false;
    }, 300);
    try {
      const [claimed, , ended] = await Promise.all([
        store.claim(ids[1]),
        store.recordProcessGroup(running, { pgid: 4242, leaderStartTime: 7 }),
        store.finishRun(running, runEnd("succeeded", 0), { state: "done" }),
      ]);
      assert.equal(held, false, "they waited for the lock, without blocking the event loop");
      assert.equal(claimed?.id, ids[1]);
      assert.equal(ended, undefined);
    } finally {
      clearTimeout(release);
      if (held) other.exec("ROLLBACK");
      other.close();
    }
    assert.equal((await store.get(ids[0]))?.state, "done");
    assert.equal((await store.get(ids[1]))?.state, "running");
  },
);
