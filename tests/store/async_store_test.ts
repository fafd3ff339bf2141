/**
 * Tests for the SQLite store's async face: the dispatcher's writes made in one
 * turn of the event loop share one transaction, and each still succeeds or
 * fails alone.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { asyncStore } from "../../lib/store/async_store.ts";
import { openSqliteStore, type SyncStore } from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import { runEnd } from "./_contract.ts";

/** The store, with its batches counted. */
function counting(store: SyncStore): { store: SyncStore; batches: () => number } {
  let batches = 0;
  const counted = new Proxy(store, {
    get(target, key) {
      if (key === "batch") {
        return <T>(work: () => T): T => {
          batches++;
          return target.batch(work);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: counted, batches: () => batches };
}

Deno.test("asyncStore() commits the claims and run ends of one turn together", async (t) => {
  const sync = openSqliteStore(":memory:");
  const { store: counted, batches } = counting(sync);
  await using store = asyncStore(counted);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await store.insert(delivery())).id);

  await t.step("three claims asked together: one batch, each claimed once", async () => {
    const before = batches();
    const claimed = await Promise.all([...ids, ids[0]].map((id) => store.claim(id)));
    assert.equal(batches() - before, 1);
    assert.deepEqual(claimed.slice(0, 3).map((c) => c?.id), ids);
    assert.equal(claimed[3], null, "the second claim of one delivery finds it running");
  });

  await t.step("run ends asked together: one batch, each recorded", async () => {
    const before = batches();
    const claims = await Promise.all(ids.map((id) => store.get(id)));
    assert.ok(claims.every((detail) => detail?.state === "running"));
    await Promise.all(ids.map((id, i) =>
      store.finishRun(
        { id, runId: claims[i]!.runs[0].id },
        runEnd("succeeded", 0),
        { state: "done" },
      )
    ));
    assert.equal(batches() - before, 1);
    for (const id of ids) assert.equal((await store.get(id))?.state, "done");
  });
});

Deno.test("SyncStore.batch() undoes a write that throws and keeps the others", async () => {
  using store = openSqliteStore(":memory:");
  const first = await store.insert(delivery());
  const second = await store.insert(delivery());
  const claimedSecond = store.claim(second.id)!;
  let thrown: unknown;
  store.batch(() => {
    assert.ok(store.claim(first.id));
    try {
      // A value SQLite cannot bind: this write fails inside its savepoint.
      store.finishRun(claimedSecond, {
        ...runEnd("failed", 1),
        exitCode: {} as unknown as number,
      }, { state: "failed" });
    } catch (error) {
      thrown = error;
    }
  });
  assert.ok(thrown, "the bad write threw");
  assert.equal(store.get(first.id)?.state, "running", "the good write stayed");
  const second2 = store.get(second.id)!;
  assert.equal(second2.state, "running", "the bad write was undone");
  assert.equal(second2.runs[0].outcome, "running");
});

Deno.test(
  "asyncStore() records claims, process groups and run ends while another connection holds the write lock",
  async () => {
    await using dir = await Deno.makeTempDir({ prefix: "hookd_busy_" }).then((path) => ({
      path,
      [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
    }));
    const path = `${dir.path}/hookd.db`;
    await using store = asyncStore(openSqliteStore(path, { busyTimeoutMs: 2000 }));
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

Deno.test("listen() hears what another process's store re-queues, without a poll", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd_listen_" });
  try {
    const path = `${dir}/hookd.db`;
    await using daemon = asyncStore(openSqliteStore(path));
    await using cli = asyncStore(openSqliteStore(path));
    const id = (await daemon.insert(delivery())).id;
    let heard!: () => void;
    const woken = new Promise<void>((resolve) => heard = resolve);
    const listener = await daemon.listen(() => heard());
    try {
      // A queued delivery is left as it is; the daemon is told to look all the same.
      await cli.requeue([id]);
      await woken;
    } finally {
      await listener.unlisten();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
