/**
 * Tests for the SQLite delivery store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MIGRATIONS } from "../../lib/store/_schema.ts";
import { DatabaseSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import {
  openStore,
  type Store,
  type StoreOptions,
  StoreUnavailableError,
} from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import { waitUntil } from "../_proc.ts";
import { runEnd } from "./_contract.ts";

const encoder = new TextEncoder();

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "hookd_store_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A clock the test moves by hand. */
function manualClock(
  start = 1_700_000_000_000,
): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

async function withStore(
  options: StoreOptions,
  test: (store: Store, dir: string) => Promise<void> | void,
): Promise<void> {
  await using dir = await tempDir();
  await using store = openStore(`${dir.path}/state/hookd.db`, options);
  await test(store, dir.path);
}

Deno.test("insert() resolves only once another connection can read the committed row", async () => {
  await withStore({}, async (store) => {
    const body = encoder.encode("payload \u00e9");
    const { id, duplicate, state } = await store.insert(delivery({ body, sourceId: "gh-1" }));
    using other = new DatabaseSync(store.path, { readOnly: true });
    const row = other.prepare(
      "SELECT endpoint, state, body, source_id, headers FROM deliveries WHERE id = ?",
    )
      .get(id);
    assert.ok(row, "the row is visible to another connection");
    assert.equal(row.state, "queued");
    assert.equal(state, "queued");
    assert.equal(duplicate, false);
    assert.deepEqual(new Uint8Array(row.body as Uint8Array), body);
    assert.equal(row.source_id, "gh-1");
    assert.deepEqual(JSON.parse(row.headers as string), delivery().headers);
  });
});

Deno.test("insert() commits concurrent inserts in one shared transaction", async (t) => {
  await withStore({}, async (store) => {
    await t.step("fifty inserts in one turn share one commit", async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.insert(delivery({ event: `e${i}` }))),
      );
      assert.deepEqual(await store.stats(), {
        insertTransactions: 1,
        inserted: 50,
        checkpoints: 0,
        checkpointWorker: false,
      });
      const ids = results.map((r) => r.id);
      assert.equal(new Set(ids).size, 50);
      assert.deepEqual([...ids].sort(), ids, "ids sort in insertion order");
      assert.equal((await store.counts()).queued, 50);
    });
    await t.step("inserts awaited one by one commit separately", async () => {
      for (let i = 0; i < 3; i++) await store.insert(delivery());
      assert.deepEqual(await store.stats(), {
        insertTransactions: 4,
        inserted: 53,
        checkpoints: 0,
        checkpointWorker: false,
      });
    });
  });
});

Deno.test("insert() waits up to groupCommitMaxWaitMs for later inserts to share the commit", async (t) => {
  await t.step("an insert from a later turn joins one still inside the window", async () => {
    // A window far longer than the test: the second insert surely comes inside it.
    await using dir = await tempDir();
    const store = openStore(`${dir.path}/hookd.db`, { groupCommitMaxWaitMs: 600_000 });
    const first = store.insert(delivery());
    // A later macrotask, as a second request's insert would be.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const second = store.insert(delivery());
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await store.counts()).inserting, 2, "both wait for the window to end");
    assert.equal((await store.stats()).insertTransactions, 0);
    // Closing ends the window without waiting it out.
    await store.close();
    await Promise.all([first, second]);
    assert.equal((await store.stats()).insertTransactions, 1);
  });

  await t.step("the window ends by itself", async () => {
    await withStore({ groupCommitMaxWaitMs: 20 }, async (store) => {
      const { state } = await store.insert(delivery());
      assert.equal(state, "queued");
      assert.equal((await store.stats()).insertTransactions, 1);
    });
  });
});

Deno.test("insert() resolves only after the WAL is synced, and rejects when it cannot be", async (t) => {
  await withStore({}, async (store) => {
    await t.step("a synced insert is acknowledged", async () => {
      const { state } = await store.insert(delivery());
      assert.equal(state, "queued");
    });
    await t.step("a WAL that cannot be opened to sync rejects the insert: no 2xx", async () => {
      // The connection still writes to the unlinked file; the sync by path finds nothing.
      await Deno.remove(`${store.path}-wal`);
      await assert.rejects(store.insert(delivery()), StoreUnavailableError);
    });
  });
});

Deno.test("with sync normal, insert() is acknowledged once committed, with no WAL sync", async (t) => {
  await withStore({ sync: "normal" }, async (store) => {
    await t.step("an insert is acknowledged and readable", async () => {
      const { id } = await store.insert(delivery());
      assert.equal((await store.get(id))?.state, "queued");
    });
    await t.step(
      "a WAL that cannot be opened to sync does not matter: nothing syncs it",
      async () => {
        await Deno.remove(`${store.path}-wal`);
        const { state } = await store.insert(delivery());
        assert.equal(state, "queued");
      },
    );
  });
});

Deno.test("inserts arriving while a WAL sync runs share the next commit", async () => {
  await withStore({}, async (store) => {
    const first = store.insert(delivery());
    // Wait until the first batch has committed and its sync has begun, without sleeping.
    while ((await store.stats()).insertTransactions === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const later: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      later.push(store.insert(delivery()));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all([first, ...later]);
    // Five inserts in five turns: without waiting for the sync they would be five commits.
    assert.ok(
      (await store.stats()).insertTransactions < 6,
      `commits: ${(await store.stats()).insertTransactions}`,
    );
  });
});

/** `n` inserts of a 32 KiB body at once: about 0.7 MB of WAL. */
function burst(store: Store, n: number): Promise<unknown> {
  const body = new Uint8Array(32 * 1024).fill(97);
  return Promise.all(Array.from({ length: n }, () => store.insert(delivery({ body }))));
}

Deno.test("the checkpoint worker keeps the WAL bounded, and it is cut back after a burst", async () => {
  await withStore({}, async (store) => {
    // 2,000 rows in four commits of 16 MB, far past a checkpoint's 4 MiB.
    for (let i = 0; i < 4; i++) await burst(store, 500);
    const highWater = (await Deno.stat(`${store.path}-wal`)).size;
    assert.ok(highWater > 8 * 1024 * 1024, `the burst grew the WAL to ${highWater} bytes`);
    // The worker starts in its own time (seconds, on a cold start).
    await waitUntil("the worker checkpoints", async () => (await store.stats()).checkpoints > 0);
    // Small commits from here: a checkpoint rewinds the WAL, which is then cut to 4 MiB.
    let after = highWater;
    for (let round = 0; after > 4 * 1024 * 1024 + 2 * 20 * 32 * 1024; round++) {
      assert.ok(round < 100, `the WAL stayed at ${after} bytes`);
      await burst(store, 20);
      after = (await Deno.stat(`${store.path}-wal`)).size;
    }
  });
});

Deno.test("the store's own connection never checkpoints: with the worker held off, the WAL only grows", async () => {
  await withStore({ checkpointAfterBytes: 2 ** 40 }, async (store) => {
    for (let round = 0; round < 40; round++) await burst(store, 20);
    const size = (await Deno.stat(`${store.path}-wal`)).size;
    // SQLite's own checkpoint (wal_autocheckpoint) would have rewound it every 4 MB.
    assert.ok(size > 40 * 20 * 32 * 1024, `the WAL is ${size} bytes: it was rewound`);
    assert.deepEqual(
      { ...await store.stats(), insertTransactions: 0 },
      { insertTransactions: 0, inserted: 800, checkpoints: 0, checkpointWorker: false },
    );
  });
});

Deno.test("the checkpoint worker starts past checkpointAfterBytes and ends after checkpointQuietMs without writes", async () => {
  await withStore({ checkpointQuietMs: 100 }, async (store) => {
    // Five bursts write about 3.7 MB, short of 4 MiB: no worker, one connection.
    for (let round = 0; round < 5; round++) await burst(store, 20);
    assert.equal((await store.stats()).checkpointWorker, false);
    await burst(store, 20);
    await waitUntil("the worker checkpoints", async () => (await store.stats()).checkpoints > 0);
    await waitUntil(
      "the quiet worker ends",
      async () => !(await store.stats()).checkpointWorker,
    );
    // Its last pass emptied the WAL and cut it to nothing.
    assert.equal((await Deno.stat(`${store.path}-wal`)).size, 0);
    // The next burst past 4 MiB starts another one.
    for (let round = 0; round < 6; round++) await burst(store, 20);
    await waitUntil(
      "a new worker checkpoints",
      async () => (await store.stats()).checkpoints > 2,
    );
  });
});

Deno.test("close() with a checkpoint worker closes its connection first: no WAL is left", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/state/hookd.db`;
  const store = openStore(path);
  for (let round = 0; round < 8; round++) await burst(store, 20);
  assert.ok((await store.stats()).checkpointWorker, "a worker runs");
  await store.close();
  // The last connection to close checkpoints the WAL into the database and removes it.
  await assert.rejects(Deno.stat(`${path}-wal`), Deno.errors.NotFound);
  using reader = new DatabaseSync(path, { readOnly: true });
  const { n } = reader.prepare("SELECT count(*) AS n FROM deliveries").get() as { n: number };
  assert.equal(n, 160);
});

Deno.test("insert() suppresses a duplicate sender id within the retention window", async (t) => {
  const clock = manualClock();
  await withStore({ retentionMs: 60_000, now: clock.now }, async (store) => {
    const first = await store.insert(delivery({ sourceId: "abc", receivedAt: clock.now() }));

    await t.step("the same endpoint and id is a duplicate of the first", async () => {
      const again = await store.insert(delivery({ sourceId: "abc", receivedAt: clock.now() }));
      assert.deepEqual(again, { id: first.id, duplicate: true, state: "queued" });
      assert.equal((await store.list()).length, 1);
    });

    await t.step("another endpoint may use the same id", async () => {
      const other = await store.insert(delivery({ endpoint: "ci", sourceId: "abc" }));
      assert.equal(other.duplicate, false);
      assert.notEqual(other.id, first.id);
    });

    await t.step("duplicates within one group commit are caught", async () => {
      const [a, b] = await Promise.all([
        store.insert(delivery({ sourceId: "same-batch" })),
        store.insert(delivery({ sourceId: "same-batch" })),
      ]);
      assert.equal(a.duplicate, false);
      assert.deepEqual(b, { id: a.id, duplicate: true, state: "queued" });
    });

    await t.step("deliveries without a sender id are never duplicates", async () => {
      const a = await store.insert(delivery());
      const b = await store.insert(delivery());
      assert.equal(b.duplicate, false);
      assert.notEqual(a.id, b.id);
    });

    await t.step("after the retention window the id is new again", async () => {
      clock.advance(60_001);
      const later = await store.insert(delivery({ sourceId: "abc", receivedAt: clock.now() }));
      assert.equal(later.duplicate, false);
      assert.notEqual(later.id, first.id);
    });
  });
});

Deno.test("insert() answers a signed body seen before on the endpoint as a duplicate", async (t) => {
  const clock = manualClock();
  await withStore({ retentionMs: 60_000, now: clock.now }, async (store) => {
    const hash = "a".repeat(64);
    const at = { receivedAt: clock.now() };
    const first = await store.insert(delivery({ ...at, replayHash: hash, sourceId: "id-1" }));

    await t.step("the same hash under a fresh sender id is the first delivery", async () => {
      const again = await store.insert(delivery({ ...at, replayHash: hash, sourceId: "id-2" }));
      assert.deepEqual(again, { id: first.id, duplicate: true, state: "queued" });
    });

    await t.step("another endpoint may receive the same body", async () => {
      const other = await store.insert(delivery({ ...at, endpoint: "ci", replayHash: hash }));
      assert.equal(other.duplicate, false);
    });

    await t.step("after the retention window the body is new again", async () => {
      clock.advance(60_001);
      const later = await store.insert(delivery({ replayHash: hash, receivedAt: clock.now() }));
      assert.equal(later.duplicate, false);
    });
  });
});

Deno.test("insert() stores a delivery without a hook as ignored, outside the queue", async () => {
  await withStore({}, async (store) => {
    const { id, state } = await store.insert(delivery({ hook: null }));
    assert.equal(state, "ignored");
    const counts = await store.counts();
    assert.equal(counts.queued, 0);
    assert.equal(counts.byState.ignored, 1);
    assert.deepEqual(await store.queuedEndpoints(), []);
    assert.equal(await store.claim(id), null);
    assert.notEqual((await store.get(id))?.finishedAt, null);
    assert.deepEqual((await store.requeue([id])).skipped, [{ id, reason: "no hook" }]);
  });
});

Deno.test("insert() stores a filtered delivery as final, with why; a replay queues it afresh", async (t) => {
  await withStore({}, async (store) => {
    const why = "HOOKD_DEPLOY_MATCH_PUSH: ref=refs/heads/main";
    const { id, state } = await store.insert(delivery({ filteredBy: why }));
    await t.step("filtered, outside the queue, never claimed", async () => {
      assert.equal(state, "filtered");
      const counts = await store.counts();
      assert.equal(counts.queued, 0);
      assert.equal(counts.byState.filtered, 1);
      assert.equal(await store.claim(id), null);
      const stored = (await store.get(id))!;
      assert.equal(stored.filteredBy, why);
      assert.notEqual(stored.finishedAt, null);
      assert.equal(stored.hook, "./deploy.sh");
      assert.deepEqual((await store.list({ state: "filtered" })).map((d) => d.id), [id]);
    });
    await t.step("a replay queues it and forgets why it was filtered", async () => {
      assert.deepEqual((await store.requeue([id])).requeued, [id]);
      const stored = (await store.get(id))!;
      assert.equal(stored.state, "queued");
      assert.equal(stored.filteredBy, null);
      assert.equal((await store.counts()).byState.filtered, 0);
    });
  });
});

Deno.test("insert() rejects a malformed delivery with a TypeError", async () => {
  await withStore({}, async (store) => {
    await assert.rejects(store.insert(delivery({ timeoutMs: 0 })), TypeError);
    await assert.rejects(store.insert(delivery({ endpoint: "" })), TypeError);
    assert.equal((await store.stats()).insertTransactions, 0);
  });
});

Deno.test("claim() and finishRun() record a run with its output", async () => {
  await withStore({}, async (store) => {
    const { id } = await store.insert(delivery());
    const claimed = await store.claim(id);
    assert.ok(claimed);
    assert.equal(claimed.attempt, 1);
    assert.equal(claimed.hook, "./deploy.sh");
    assert.equal(new TextDecoder().decode(claimed.body), '{"ref":"main"}');
    assert.equal(await store.claim(id), null, "a running delivery cannot be claimed twice");
    assert.equal((await store.counts()).running, 1);

    await store.finishRun(claimed, runEnd("failed", 2), { state: "failed" });
    const detail = await store.get(id);
    assert.ok(detail);
    assert.equal(detail.state, "failed");
    assert.equal(detail.failures, 1);
    assert.equal(detail.runs.length, 1);
    assert.deepEqual(
      {
        outcome: detail.runs[0].outcome,
        exitCode: detail.runs[0].exitCode,
        stdout: detail.runs[0].stdout,
        stderr: detail.runs[0].stderr,
      },
      { outcome: "failed", exitCode: 2, stdout: "out", stderr: "boom" },
    );
    assert.equal(detail.lastRun?.exitCode, 2);
    assert.equal((await store.list())[0].lastRun?.outcome, "failed");
    assert.deepEqual((await store.counts()).byState.failed, 1);
    assert.equal((await store.counts()).running, 0);
  });
});

Deno.test("finishRun() with a retry keeps the delivery's place in the queue", async () => {
  await withStore({}, async (store) => {
    const first = await store.insert(delivery());
    const second = await store.insert(delivery());
    const claimed = (await store.claim(first.id))!;
    await store.finishRun(claimed, runEnd("failed", 1), {
      state: "queued",
      notBefore: 123,
      failed: true,
    });
    const head = await store.queued("deploy", { limit: 2 });
    assert.deepEqual(head.map((r) => r.id), [first.id, second.id]);
    assert.equal(head[0].notBefore, 123);
    assert.equal((await store.get(first.id))?.failures, 1);
  });
});

Deno.test("recover() requeues a delivery whose process was killed while its hook ran", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hookd.db`;
  const script = `${dir.path}/crash.ts`;
  await Deno.writeTextFile(
    script,
    `import { openStore } from ${
      JSON.stringify(new URL("../../lib/store/mod.ts", import.meta.url).href)
    };
const store = openStore(${JSON.stringify(path)});
const { id } = await store.insert({ endpoint: "deploy", event: "push", receivedAt: Date.now(),
  contentType: "text/plain", headers: {}, body: new Uint8Array([1, 2, 3]), hook: "true", timeoutMs: 1000 });
await store.claim(id);
console.log(id);
setInterval(() => {}, 1000);
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let output = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!output.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    output += value;
  }
  await reader.cancel();
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  const id = output.trim();

  await using store = openStore(path);
  assert.equal((await store.get(id))?.state, "running", "the crash left the delivery running");
  assert.equal(await store.recover(), 1);
  const detail = (await store.get(id))!;
  assert.equal(detail.state, "queued");
  assert.equal(detail.runs.length, 1);
  assert.equal(detail.runs[0].outcome, "interrupted");
  assert.deepEqual(detail.body, new Uint8Array([1, 2, 3]));
  assert.equal((await store.claim(id))?.attempt, 2, "it runs again");
  assert.equal(await store.recover(), 1, "a second crash is recovered the same way");
});

Deno.test("purge() deletes old finished deliveries and their runs, never unfinished ones", async () => {
  const clock = manualClock();
  await withStore({ now: clock.now }, async (store) => {
    const old = clock.now() - 10_000;
    const finished = await store.insert(delivery({ receivedAt: old }));
    await store.finishRun((await store.claim(finished.id))!, runEnd("succeeded", 0), {
      state: "done",
    });
    const ignored = await store.insert(delivery({ receivedAt: old, hook: null }));
    const queued = await store.insert(delivery({ receivedAt: old }));
    const running = await store.insert(delivery({ receivedAt: old }));
    await store.claim(running.id);
    const recent = await store.insert(delivery({ receivedAt: clock.now(), hook: null }));

    assert.equal(
      await store.purge(clock.now() - 5_000, { limit: 1 }),
      1,
      "the limit caps one call",
    );
    assert.equal(await store.purge(clock.now() - 5_000), 1);
    assert.equal(await store.purge(clock.now() - 5_000), 0);
    assert.equal(await store.get(finished.id), null);
    assert.equal(await store.get(ignored.id), null);
    assert.equal((await store.get(queued.id))?.state, "queued");
    assert.equal((await store.get(running.id))?.state, "running");
    assert.equal((await store.get(recent.id))?.state, "ignored");
    using other = new DatabaseSync(store.path, { readOnly: true });
    const runs = other.prepare("SELECT count(*) AS n FROM runs WHERE delivery_id = ?").get(
      finished.id,
    );
    assert.equal(runs?.n, 0, "runs go with their delivery");
    assert.equal((await store.counts()).byState.done, 0);
  });
});

Deno.test("requeue() replays finished deliveries at the end of the queue", async (t) => {
  await withStore({}, async (store) => {
    const failed = await store.insert(delivery());
    const waiting = await store.insert(delivery());
    const claimed = (await store.claim(failed.id))!;
    await store.finishRun(claimed, runEnd("failed", 1), { state: "failed" });

    await t.step("a failed delivery goes back with a fresh retry budget", async () => {
      const result = await store.requeue([failed.id, waiting.id, "nope", failed.id]);
      assert.deepEqual(result, {
        requeued: [failed.id],
        skipped: [{ id: waiting.id, reason: "queued" }, { id: "nope", reason: "unknown" }],
      });
      const detail = (await store.get(failed.id))!;
      assert.equal(detail.state, "queued");
      assert.equal(detail.failures, 0);
      assert.equal(detail.finishedAt, null);
      assert.deepEqual((await store.queued("deploy", { limit: 5 })).map((r) => r.id), [
        waiting.id,
        failed.id,
      ]);
    });

    await t.step("a running delivery is skipped", async () => {
      await store.claim(waiting.id);
      assert.deepEqual((await store.requeue([waiting.id])).skipped, [{
        id: waiting.id,
        reason: "running",
      }]);
    });

    await t.step("requeueMatching() selects by state and time", async () => {
      const again = (await store.claim(failed.id))!;
      await store.finishRun(again, runEnd("failed", 1), { state: "failed" });
      assert.deepEqual(
        (await store.requeueMatching({ state: "failed", since: Date.now() + 60_000 })).requeued,
        [],
      );
      assert.deepEqual((await store.requeueMatching({ state: "failed", since: 0 })).requeued, [
        failed.id,
      ]);
      assert.equal((await store.get(failed.id))?.runs.length, 2, "earlier runs are kept");
    });
  });
});

Deno.test("counts() sees another process's changes and the oldest queued delivery", async () => {
  const clock = manualClock();
  await withStore({ now: clock.now }, async (store) => {
    assert.equal((await store.counts()).oldestQueuedAt, null);
    const { id } = await store.insert(delivery());
    clock.advance(5000);
    await store.insert(delivery());
    assert.equal((await store.counts()).oldestQueuedAt, clock.now() - 5000);
    await store.finishRun((await store.claim(id))!, runEnd("failed", 1), { state: "failed" });
    assert.equal((await store.counts()).queued, 1);
    {
      await using cli = openStore(store.path);
      assert.deepEqual((await cli.requeue([id])).requeued, [id]);
    }
    const counts = await store.counts();
    assert.equal(counts.queued, 2);
    assert.equal(counts.byState.failed, 0);
  });
});

Deno.test("counts() includes inserts not yet committed, for the back-pressure check", async () => {
  await withStore({}, async (store) => {
    const pending = store.insert(delivery());
    assert.deepEqual([(await store.counts()).inserting, (await store.counts()).queued], [1, 0]);
    await pending;
    assert.deepEqual([(await store.counts()).inserting, (await store.counts()).queued], [0, 1]);
  });
});

Deno.test("supersede() ends an endpoint's older queued deliveries in favour of a newer one", async () => {
  await withStore({}, async (store) => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => store.insert(delivery())));
    const other = await store.insert(delivery({ endpoint: "ci" }));
    assert.deepEqual(await store.supersede("deploy", c.id), [a.id, b.id]);
    assert.equal((await store.get(a.id))?.state, "superseded");
    assert.equal((await store.get(a.id))?.supersededBy, c.id);
    assert.equal((await store.get(c.id))?.state, "queued");
    assert.equal((await store.get(other.id))?.state, "queued");
    assert.deepEqual(await store.queuedEndpoints(), ["ci", "deploy"]);
    assert.deepEqual((await store.queued("deploy", { newest: true })).map((r) => r.id), [c.id]);
  });
});

Deno.test("openStore() migrates a new file once and refuses a newer schema", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hookd.db`;
  await openStore(path).close();
  await openStore(path).close();
  {
    using db = new DatabaseSync(path);
    const row = db.prepare("PRAGMA user_version").get();
    assert.equal(row?.user_version, MIGRATIONS.length);
    assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
    db.exec("PRAGMA user_version = 99");
  }
  assert.throws(() => openStore(path), (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError);
    assert.match(error.message, /schema version 99.*upgrade hookd/);
    return true;
  });
});

Deno.test("the store is unavailable, never silently lossy, when it cannot write", async (t) => {
  await using dir = await tempDir();

  await t.step(
    "openStore() throws StoreUnavailableError when the file cannot be created",
    async () => {
      await Deno.writeTextFile(`${dir.path}/file`, "");
      assert.throws(() => openStore(`${dir.path}/file/hookd.db`), StoreUnavailableError);
    },
  );

  await t.step(
    "insert() rejects while another process holds the write lock, then recovers",
    async () => {
      await using store = openStore(`${dir.path}/locked.db`, { busyTimeoutMs: 10 });
      using other = new DatabaseSync(store.path);
      other.exec("BEGIN IMMEDIATE");
      const error = await store.insert(delivery()).then(() => null, (e) => e);
      assert.ok(error instanceof StoreUnavailableError, `got ${error}`);
      assert.match(error.message, /locked/);
      assert.equal(error.retryAfterSeconds > 0, true);
      other.exec("ROLLBACK");
      assert.equal((await store.list()).length, 0, "nothing was stored");
      const { duplicate } = await store.insert(delivery());
      assert.equal(duplicate, false);
      assert.equal((await store.list()).length, 1);
    },
  );

  await t.step("insert() rejects on a store that cannot be written", async () => {
    await openStore(`${dir.path}/ro.db`).close();
    await using store = openStore(`${dir.path}/ro.db`, { readOnly: true });
    await assert.rejects(store.insert(delivery()), StoreUnavailableError);
    assert.equal((await store.list()).length, 0);
  });

  await t.step("close() commits pending inserts; later inserts reject", async () => {
    const store = openStore(`${dir.path}/closing.db`);
    const pending = store.insert(delivery());
    await store.close();
    const { id } = await pending;
    await assert.rejects(store.insert(delivery()), StoreUnavailableError);
    await assert.rejects(store.get(id), StoreUnavailableError);
    await using reopened = openStore(`${dir.path}/closing.db`);
    assert.equal((await reopened.get(id))?.state, "queued");
  });
});

/** Another process's connection holding the write lock, as `hookd replay` or an admin's shell would. */
function holdWriteLock(path: string): { release: () => void } & Disposable {
  const db = new DatabaseSync(path);
  db.exec("BEGIN IMMEDIATE");
  const release = () => {
    if (db.isTransaction) db.exec("ROLLBACK");
  };
  return {
    release,
    [Symbol.dispose]() {
      release();
      db.close();
    },
  };
}

/** Tracks whether a promise has settled, without consuming its rejection. */
function watch<T>(promise: Promise<T>): { promise: Promise<T>; readonly settled: boolean } {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  return {
    promise,
    get settled() {
      return settled;
    },
  };
}

/** One turn of the event loop's check phase: an immediate scheduled now runs after those already due. */
function nextImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Another process holding the write lock until told to release it (or, so
 * that a test that would hang ends, after `fallbackMs`).
 */
async function lockHolder(path: string, fallbackMs: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(${JSON.stringify(path)});
db.exec("BEGIN IMMEDIATE");
console.log("locked");
const release = () => { if (db.isTransaction) db.exec("ROLLBACK"); console.log("released"); };
const fallback = setTimeout(release, ${fallbackMs});
for await (const _ of Deno.stdin.readable) { clearTimeout(fallback); release(); break; }`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const readUntil = async (word: string) => {
    while (!output.includes(`${word}\n`)) {
      const { value, done } = await lines.read();
      if (done) break;
      output += value;
    }
    assert.ok(output.includes(`${word}\n`), `the lock holder said ${JSON.stringify(output)}`);
  };
  await readUntil("locked");
  const stdin = child.stdin.getWriter();
  return {
    /** Ask for the release and wait until it happened. */
    async release(): Promise<void> {
      await stdin.write(new Uint8Array([10])).catch(() => {});
      await readUntil("released");
    },
    /** Ask for the release without waiting: writes synchronously enough for a blocked caller. */
    releaseSoon(): Promise<void> {
      return stdin.write(new Uint8Array([10])).catch(() => {});
    },
    async [Symbol.asyncDispose]() {
      await stdin.close().catch(() => {});
      await lines.cancel();
      await child.status;
    },
  };
}

Deno.test("insert() waits for another process's write lock without stopping the event loop", async (t) => {
  // A wait far longer than the test: it ends only by the lock's release.
  await withStore({ busyTimeoutMs: 600_000 }, async (store) => {
    await t.step(
      "timers fire while it waits; it commits once the lock is released",
      async () => {
        using lock = holdWriteLock(store.path);
        const first = watch(store.insert(delivery({ event: "first" })));
        // The commit attempt runs in the immediate before ours: had it waited in SQLite, the
        // loop would have stood still there until the lock timed out and the insert failed.
        await nextImmediate();
        for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        assert.equal(first.settled, false, "the insert still waits for the lock");
        assert.equal((await store.counts()).inserting, 1);

        const second = store.insert(delivery({ event: "second" }));
        assert.equal((await store.counts()).inserting, 2, "both count for back-pressure");
        lock.release();
        const [a, b] = await Promise.all([first.promise, second]);
        assert.deepEqual(
          await store.stats(),
          { insertTransactions: 2, inserted: 2, checkpoints: 0, checkpointWorker: false },
          "the insert that came while the first waited joined the next commit",
        );
        assert.deepEqual((await store.queued("deploy", { limit: 2 })).map((r) => r.id), [
          a.id,
          b.id,
        ]);
        assert.deepEqual((await store.list()).map((d) => d.event), ["second", "first"]);
      },
    );
  });
});

Deno.test("insert() rejects with StoreUnavailableError once the lock is held for busyTimeoutMs", async () => {
  await withStore({ busyTimeoutMs: 400 }, async (store) => {
    using lock = holdWriteLock(store.path);
    const started = performance.now();
    const insert = watch(store.insert(delivery()).then(() => null, (error) => error));
    // Right after the first commit attempt, before any timer: a wait in SQLite would have
    // held the loop for busyTimeoutMs and failed the insert by now.
    await nextImmediate();
    assert.equal(insert.settled, false, "the event loop went on while the insert waits");
    assert.equal((await store.counts()).inserting, 1);
    const error = await insert.promise;
    // Never early; late only by the load of the machine, which is not asserted.
    const elapsed = performance.now() - started;
    assert.ok(error instanceof StoreUnavailableError, `got ${error}`);
    assert.match(error.message, /locked/);
    assert.ok(elapsed >= 400, `gave up after ${elapsed} ms, before busyTimeoutMs`);
    assert.equal((await store.counts()).inserting, 0);
    lock.release();
    assert.equal((await store.list()).length, 0, "nothing was stored");
  });
});

Deno.test("insert() arriving while another waits for the lock gets its own busyTimeoutMs", async () => {
  await withStore({ busyTimeoutMs: 600 }, async (store) => {
    using lock = holdWriteLock(store.path);
    const first = watch(
      store.insert(delivery({ event: "first" })).then(() => null, (error) => error),
    );
    // Once the first has met the lock and waits (its attempt ran in the immediate before ours),
    // the second comes: it waits behind the first, and must outlive the first's deadline.
    await nextImmediate();
    assert.equal(first.settled, false);
    const second = store.insert(delivery({ event: "second" }));
    assert.ok(await first.promise instanceof StoreUnavailableError, "the first gave up");
    lock.release();
    const { id } = await second;
    assert.deepEqual((await store.list()).map((d) => d.id), [id]);
  });
});

Deno.test("supersede() and purge() fail at once while another process holds the write lock; claim() waits for it", async () => {
  // A busy wait would get in once the holder lets go after its fallback; failing at once, the
  // writes meet the lock while the holder waits to be told.
  await withStore({ busyTimeoutMs: 600_000 }, async (store) => {
    const { id } = await store.insert(delivery());
    const done = await store.insert(delivery({ receivedAt: 0 }));
    await store.finishRun((await store.claim(done.id))!, runEnd("succeeded", 0), { state: "done" });
    await using holder = await lockHolder(store.path, 60_000);
    await assert.rejects(store.supersede("deploy", id), StoreUnavailableError);
    await assert.rejects(store.purge(Date.now()), StoreUnavailableError);
    assert.equal((await store.counts()).queued, 1, "reads still work");
    const claiming = store.claim(id);
    await holder.release();
    assert.ok(await claiming, "the claim got in once the lock was gone");
    assert.equal(await store.purge(Date.now() - 60_000), 1);
  });
});

Deno.test("requeue() waits in SQLite for a lock another process releases, as the command line may", async () => {
  await withStore({ busyTimeoutMs: 600_000 }, async (store) => {
    const { id } = await store.insert(delivery());
    await store.finishRun((await store.claim(id))!, runEnd("failed", 1), { state: "failed" });
    // The holder lets go only when asked (or, should the test hang, after two minutes).
    await using holder = await lockHolder(store.path, 120_000);
    await assert.rejects(store.supersede("deploy", id), StoreUnavailableError, "the lock is held");
    // Asked now, released while requeue() waits in SQLite: its busy wait is what gets it in.
    await holder.releaseSoon();
    assert.deepEqual((await store.requeue([id])).requeued, [id]);
    assert.equal((await store.get(id))?.state, "queued");
  });
});

Deno.test("close() commits an insert that waited for the lock, once the lock is free", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hookd.db`;
  const store = openStore(path, { busyTimeoutMs: 5000 });
  let pending;
  {
    using _lock = holdWriteLock(path);
    pending = store.insert(delivery());
    // Its commit attempt ran in the immediate before ours, met the lock and waits.
    await nextImmediate();
    assert.deepEqual([(await store.counts()).inserting, (await store.stats()).insertTransactions], [
      1,
      0,
    ]);
  }
  await store.close();
  const { id } = await pending;
  await using reopened = openStore(path);
  assert.equal((await reopened.get(id))?.state, "queued");
});

Deno.test("openStore() keeps the output of runs recorded before output was stored as bytes", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hookd.db`;
  {
    // A store as hookd left it before schema 7: output in TEXT columns.
    using db = new DatabaseSync(path);
    for (const migration of MIGRATIONS.slice(0, 6)) db.exec(migration);
    db.exec("PRAGMA user_version = 6");
    db.prepare(
      `INSERT INTO deliveries (id, endpoint, event, received_at, content_type, headers, body,
         body_size, hook, timeout_ms, state, seq, queued_at, updated_at, finished_at)
       VALUES ('d1', 'deploy', 'push', 1, 'application/json', '{}', x'7b7d', 2, './h', 1000,
         'done', 1, 1, 1, 1)`,
    ).run();
    db.prepare(
      `INSERT INTO runs (delivery_id, attempt, started_at, ended_at, duration_ms, outcome,
         exit_code, stdout, stderr)
       VALUES ('d1', 1, 1, 2, 1, 'succeeded', 0, 'old output é', '')`,
    ).run();
  }
  await using store = openStore(path);
  assert.equal((await store.get("d1"))?.runs[0].stdout, "old output é");
  const claimed = (await store.claim((await store.insert(delivery())).id))!;
  await store.finishRun(claimed, { ...runEnd("succeeded", 0), stdout: "new\0output" }, {
    state: "done",
  });
  assert.equal((await store.get(claimed.id))?.runs[0].stdout, "new\0output");
});
