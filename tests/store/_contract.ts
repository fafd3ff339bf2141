/**
 * The store contract as a test suite that runs against any implementation
 * behind the async contract (`AsyncStore`): the SQLite store through
 * `asyncStore()`, the PostgreSQL store as it is. What only one engine can
 * show (WAL syncs, write locks, leases across instances) stays in that
 * engine's own tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Store as AsyncStore } from "../../lib/store/mod.ts";
import { StoreUnavailableError } from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";

/** What the suite may ask of a store it opens. */
export interface ContractOptions {
  /** How long duplicates count. */
  retentionMs?: number;
  /** The store's clock. */
  now?: () => number;
  /** How long an insert waits for others to share its commit. */
  groupCommitMaxWaitMs?: number;
}

/** One empty store's place (a file, a database); every `open` is another connection to it. */
export interface ContractPlace extends AsyncDisposable {
  /** Open (another connection to) the store. */
  open(options?: ContractOptions): Promise<AsyncStore>;
}

/** An implementation under test. */
export interface ContractTarget {
  /** Its name in the step titles, e.g. `sqlite`. */
  name: string;
  /** A fresh, empty place. */
  fresh(): Promise<ContractPlace>;
}

/** A clock the test moves by hand, starting now (leases use real time). */
export function manualClock(
  start = Date.now(),
): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

/** A run's end as the queue records it. */
export function runEnd(outcome: "succeeded" | "failed", exitCode: number) {
  return {
    outcome,
    endedAt: Date.now(),
    durationMs: 12,
    exitCode,
    signal: null,
    stdout: "out",
    stderr: outcome === "failed" ? "boom" : "",
    stdoutTruncated: false,
    stderrTruncated: false,
  };
}

type Case = (
  store: AsyncStore,
  place: ContractPlace,
  clock: ReturnType<typeof manualClock>,
) => Promise<void>;

/** The contract's cases: name, store options, body. */
const CASES: [string, ContractOptions, Case][] = [
  [
    "insert() resolves once committed: another connection reads the row",
    {},
    async (store, place) => {
      const body = new TextEncoder().encode("payload \u00e9");
      const { id, duplicate, state } = await store.insert(delivery({ body, sourceId: "gh-1" }));
      assert.deepEqual([duplicate, state], [false, "queued"]);
      await using other = await place.open();
      const detail = await other.get(id);
      assert.ok(detail, "the row is visible to another connection");
      assert.deepEqual(detail.body, body);
      assert.equal(detail.sourceId, "gh-1");
      assert.deepEqual(detail.headers, delivery().headers);
      assert.equal(detail.state, "queued");
    },
  ],
  ["insert() commits concurrent inserts together, and separate ones apart", {}, async (store) => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.insert(delivery({ event: `e${i}` }))),
    );
    assert.equal(new Set(results.map((r) => r.id)).size, 50);
    assert.deepEqual((await store.stats()).insertTransactions, 1);
    await store.insert(delivery());
    await store.insert(delivery());
    assert.deepEqual((await store.stats()).insertTransactions, 3);
    assert.equal((await store.stats()).inserted, 52);
  }],
  ["insert() suppresses a duplicate sender id within the retention window", {
    retentionMs: 60_000,
  }, async (store, _place, clock) => {
    const first = await store.insert(delivery({ sourceId: "abc", receivedAt: clock.now() }));
    const again = await store.insert(delivery({ sourceId: "abc", receivedAt: clock.now() }));
    assert.deepEqual(again, { id: first.id, duplicate: true, state: "queued" });
    assert.equal((await store.list()).length, 1);
    const other = await store.insert(delivery({ endpoint: "ci", sourceId: "abc" }));
    assert.equal(other.duplicate, false, "another endpoint may use the same id");
    const [a, b] = await Promise.all([
      store.insert(delivery({ sourceId: "same-batch" })),
      store.insert(delivery({ sourceId: "same-batch" })),
    ]);
    assert.equal(a.duplicate, false);
    assert.deepEqual(b, { id: a.id, duplicate: true, state: "queued" }, "caught within one commit");
    const [x, y] = [await store.insert(delivery()), await store.insert(delivery())];
    assert.notEqual(x.id, y.id, "no sender id, never a duplicate");
    clock.advance(60_001);
    const later = await store.insert(delivery({ sourceId: "abc", receivedAt: clock.now() }));
    assert.equal(later.duplicate, false, "after the window the id is new again");
    assert.notEqual(later.id, first.id);
    const laterStill = await store.insert(delivery({ sourceId: "abc", receivedAt: clock.now() }));
    assert.deepEqual(laterStill, { id: later.id, duplicate: true, state: "queued" });
  }],
  ["insert() answers a signed body seen before on the endpoint as a duplicate", {
    retentionMs: 60_000,
  }, async (store, _place, clock) => {
    const hash = "a".repeat(64);
    const at = { receivedAt: clock.now() };
    const first = await store.insert(delivery({ ...at, replayHash: hash, sourceId: "id-1" }));
    const again = await store.insert(delivery({ ...at, replayHash: hash, sourceId: "id-2" }));
    assert.deepEqual(again, { id: first.id, duplicate: true, state: "queued" });
    const other = await store.insert(delivery({ ...at, endpoint: "ci", replayHash: hash }));
    assert.equal(other.duplicate, false, "another endpoint may receive the same body");
    clock.advance(60_001);
    const later = await store.insert(delivery({ replayHash: hash, receivedAt: clock.now() }));
    assert.equal(later.duplicate, false, "after the window the body is new again");
  }],
  ["insert() stores a delivery without a hook as ignored, outside the queue", {}, async (store) => {
    const { id, state } = await store.insert(delivery({ hook: null }));
    assert.equal(state, "ignored");
    const counts = await store.counts();
    assert.deepEqual([counts.queued, counts.byState.ignored], [0, 1]);
    assert.deepEqual(await store.queuedEndpoints(), []);
    assert.equal(await store.claim(id), null);
    assert.notEqual((await store.get(id))?.finishedAt, null);
    assert.deepEqual((await store.requeue([id])).skipped, [{ id, reason: "no hook" }]);
  }],
  ["insert() rejects a malformed delivery with a TypeError", {}, async (store) => {
    await assert.rejects(store.insert(delivery({ timeoutMs: 0 })), TypeError);
    await assert.rejects(store.insert(delivery({ endpoint: "" })), TypeError);
    assert.equal((await store.stats()).insertTransactions, 0);
  }],
  ["claim() and finishRun() record a run with its output", {}, async (store) => {
    const { id } = await store.insert(delivery());
    const claimed = await store.claim(id);
    assert.ok(claimed);
    assert.deepEqual([claimed.attempt, claimed.hook, claimed.failures], [1, "./deploy.sh", 0]);
    assert.equal(new TextDecoder().decode(claimed.body), '{"ref":"main"}');
    assert.equal(await store.claim(id), null, "a running delivery cannot be claimed twice");
    assert.equal((await store.counts()).running, 1);
    await store.finishRun(claimed, runEnd("failed", 2), { state: "failed" });
    const detail = await store.get(id);
    assert.ok(detail);
    assert.deepEqual([detail.state, detail.failures, detail.runs.length], ["failed", 1, 1]);
    const [run] = detail.runs;
    assert.deepEqual(
      [run.outcome, run.exitCode, run.stdout, run.stderr, run.stdoutTruncated, run.id],
      ["failed", 2, "out", "boom", false, claimed.runId],
    );
    assert.equal(detail.lastRun?.exitCode, 2);
    assert.equal((await store.list())[0].lastRun?.outcome, "failed");
    const counts = await store.counts();
    assert.deepEqual([counts.byState.failed, counts.running], [1, 0]);
  }],
  ["finishRun() with a retry keeps the delivery's place in the queue", {}, async (store) => {
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
    assert.equal((await store.claim(first.id))?.attempt, 2);
  }],
  [
    "recover() requeues a delivery whose store closed while its hook ran",
    {},
    async (store, place) => {
      const { id } = await store.insert(delivery({ body: new Uint8Array([1, 2, 3]) }));
      assert.ok(await store.claim(id));
      await store.close();
      await using again = await place.open();
      assert.equal((await again.get(id))?.state, "running", "the stop left it running");
      assert.equal(await again.recover(), 1);
      const detail = (await again.get(id))!;
      assert.equal(detail.state, "queued");
      assert.deepEqual(detail.runs.map((r) => r.outcome), ["interrupted"]);
      assert.deepEqual(detail.body, new Uint8Array([1, 2, 3]));
      assert.equal((await again.claim(id))?.attempt, 2, "it runs again");
      assert.equal(await again.recover(), 1, "a second stop is recovered the same way");
    },
  ],
  ["purge() deletes old finished deliveries and their runs, never unfinished ones", {}, async (
    store,
    _place,
    clock,
  ) => {
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
    assert.equal(await store.purge(clock.now() - 5_000, { limit: 1 }), 1, "the limit caps a call");
    assert.equal(await store.purge(clock.now() - 5_000), 1);
    assert.equal(await store.purge(clock.now() - 5_000), 0);
    assert.equal(await store.get(finished.id), null);
    assert.equal(await store.get(ignored.id), null);
    assert.equal((await store.get(queued.id))?.state, "queued");
    assert.equal((await store.get(running.id))?.state, "running");
    assert.equal((await store.get(recent.id))?.state, "ignored");
    const counts = await store.counts();
    assert.deepEqual([counts.byState.done, counts.byState.ignored], [0, 1]);
  }],
  ["requeue() replays finished deliveries at the end of the queue", {}, async (store) => {
    const failed = await store.insert(delivery());
    const waiting = await store.insert(delivery());
    await store.finishRun((await store.claim(failed.id))!, runEnd("failed", 1), {
      state: "failed",
    });
    const result = await store.requeue([failed.id, waiting.id, "nope", failed.id]);
    assert.deepEqual(result, {
      requeued: [failed.id],
      skipped: [{ id: waiting.id, reason: "queued" }, { id: "nope", reason: "unknown" }],
    });
    const detail = (await store.get(failed.id))!;
    assert.deepEqual([detail.state, detail.failures, detail.finishedAt], ["queued", 0, null]);
    assert.deepEqual((await store.queued("deploy", { limit: 5 })).map((r) => r.id), [
      waiting.id,
      failed.id,
    ]);
    await store.claim(waiting.id);
    assert.deepEqual((await store.requeue([waiting.id])).skipped, [{
      id: waiting.id,
      reason: "running",
    }]);
    await store.finishRun((await store.claim(failed.id))!, runEnd("failed", 1), {
      state: "failed",
    });
    const future = await store.requeueMatching({ state: "failed", since: Date.now() + 60_000 });
    assert.deepEqual(future.requeued, []);
    assert.deepEqual((await store.requeueMatching({ state: "failed", since: 0 })).requeued, [
      failed.id,
    ]);
    assert.equal((await store.get(failed.id))?.runs.length, 2, "earlier runs are kept");
  }],
  [
    "requeueMatching() replays oldest first, keeping their order in the queue",
    {},
    async (store) => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { id } = await store.insert(delivery());
        await store.finishRun((await store.claim(id))!, runEnd("succeeded", 0), { state: "done" });
        ids.push(id);
      }
      assert.deepEqual((await store.requeueMatching({ state: "done", limit: 2 })).requeued, [
        ids[1],
        ids[2],
      ]);
      assert.deepEqual((await store.queued("deploy", { limit: 5 })).map((r) => r.id), [
        ids[1],
        ids[2],
      ]);
    },
  ],
  ["list() filters by endpoint, state and time, newest first", {}, async (store) => {
    const a = await store.insert(delivery({ endpoint: "deploy", receivedAt: 1000 }));
    const b = await store.insert(delivery({ endpoint: "ci", receivedAt: 2000 }));
    const c = await store.insert(delivery({ endpoint: "deploy", receivedAt: 3000, hook: null }));
    const ids = async (filter: Parameters<AsyncStore["list"]>[0]) =>
      (await store.list(filter)).map((d) => d.id);
    assert.deepEqual(await ids({}), [c.id, b.id, a.id]);
    assert.deepEqual(await ids({ endpoint: "deploy" }), [c.id, a.id]);
    assert.deepEqual(await ids({ state: "ignored" }), [c.id]);
    assert.deepEqual(await ids({ state: ["queued", "ignored"], endpoint: "deploy" }), [c.id, a.id]);
    assert.deepEqual(await ids({ since: 2000 }), [c.id, b.id]);
    assert.deepEqual(await ids({ until: 2000 }), [a.id]);
    assert.deepEqual(await ids({ limit: 1 }), [c.id]);
    await assert.rejects(
      store.list({ state: "bogus" as "done" }),
      /Unknown delivery state "bogus"/,
    );
    const [summary] = await store.list({ endpoint: "ci" });
    assert.deepEqual([summary.bodySize, summary.lastRun], [14, null]);
    assert.equal("body" in summary, false, "summaries leave the body in the store");
  }],
  ["counts() sees another connection's changes and the oldest queued delivery", {}, async (
    store,
    place,
    clock,
  ) => {
    assert.equal((await store.counts()).oldestQueuedAt, null);
    const { id } = await store.insert(delivery());
    clock.advance(5000);
    await store.insert(delivery());
    assert.equal((await store.counts()).oldestQueuedAt, clock.now() - 5000);
    await store.finishRun((await store.claim(id))!, runEnd("failed", 1), { state: "failed" });
    assert.equal((await store.counts()).queued, 1);
    {
      await using cli = await place.open();
      assert.deepEqual((await cli.requeue([id])).requeued, [id]);
    }
    const counts = await store.counts();
    assert.deepEqual([counts.queued, counts.byState.failed], [2, 0]);
  }],
  [
    "counts() includes inserts not yet committed, for the back-pressure check",
    {},
    async (store) => {
      const pending = store.insert(delivery());
      const before = await store.counts();
      // Sampled before the counts are read: an insert committing meanwhile (PostgreSQL's runs on
      // its own connection) is counted twice, never missed.
      assert.equal(before.inserting, 1);
      assert.ok(before.queued <= 1);
      await pending;
      const after = await store.counts();
      assert.deepEqual([after.inserting, after.queued], [0, 1]);
    },
  ],
  ["supersede() ends an endpoint's older queued deliveries in favour of a newer one", {}, async (
    store,
  ) => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => store.insert(delivery())));
    const other = await store.insert(delivery({ endpoint: "ci" }));
    assert.deepEqual((await store.supersede("deploy", c.id)).sort(), [a.id, b.id].sort());
    assert.equal((await store.get(a.id))?.state, "superseded");
    assert.equal((await store.get(a.id))?.supersededBy, c.id);
    assert.equal((await store.get(c.id))?.state, "queued");
    assert.equal((await store.get(other.id))?.state, "queued");
    assert.deepEqual(await store.queuedEndpoints(), ["ci", "deploy"]);
    assert.deepEqual((await store.queued("deploy", { newest: true })).map((r) => r.id), [c.id]);
  }],
  ["insert() stores a delivery with filteredBy as filtered: final, not run, not capped", {}, async (
    store,
  ) => {
    const filteredBy = "HOOKD_GH_MATCH_PUSH: ref=refs/heads/main";
    const { id, state } = await store.insert(delivery({ filteredBy }));
    assert.equal(state, "filtered");
    const detail = (await store.get(id))!;
    assert.deepEqual([detail.state, detail.filteredBy], ["filtered", filteredBy]);
    assert.notEqual(detail.finishedAt, null);
    const counts = await store.counts();
    assert.deepEqual([counts.queued, counts.byState.filtered], [0, 1]);
    assert.equal(await store.claim(id), null);
    assert.deepEqual((await store.requeue([id])).requeued, [id], "a replay runs it after all");
    const replayed = (await store.get(id))!;
    assert.deepEqual([replayed.state, replayed.filteredBy], ["queued", null]);
  }],
  ["requeue() and requeueMatching() with hookFor store the hook the queue then claims", {}, async (
    store,
  ) => {
    const failed = (await store.insert(delivery({ hook: "/wrong/deploy.sh" }))).id;
    await store.finishRun((await store.claim(failed))!, runEnd("failed", 127), {
      state: "failed",
    });
    const ignored = (await store.insert(delivery({ event: "release", hook: null }))).id;
    const other = (await store.insert(delivery({ event: "fork", hook: null }))).id;
    const seen: unknown[] = [];
    const hookFor = (d: { id: string; endpoint: string; event: string; hook: string | null }) => {
      seen.push(d);
      return d.event === "push" ? "/right/deploy.sh" : d.event === "release" ? "./rel.sh" : null;
    };
    assert.deepEqual(await store.requeue([failed], { hookFor }), {
      requeued: [failed],
      skipped: [],
    });
    assert.deepEqual(seen, [{
      id: failed,
      endpoint: "deploy",
      event: "push",
      hook: "/wrong/deploy.sh",
    }]);
    assert.equal((await store.claim(failed))?.hook, "/right/deploy.sh");
    assert.deepEqual(await store.requeueMatching({ state: "ignored" }, { hookFor }), {
      requeued: [ignored],
      skipped: [{ id: other, reason: "no hook" }],
    });
    assert.equal((await store.claim(ignored))?.hook, "./rel.sh");
  }],
  ["list() pages with before, newest first", {}, async (store) => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await store.insert(delivery())).id);
    const page = async (before?: string) =>
      (await store.list({ limit: 2, before })).map((d) => d.id);
    assert.deepEqual(await page(), [ids[4], ids[3]]);
    assert.deepEqual(await page(ids[3]), [ids[2], ids[1]]);
    assert.deepEqual(await page(ids[1]), [ids[0]]);
  }],
  ["activity() counts deliveries per minute by state, every minute included", {}, async (
    store,
    _place,
    clock,
  ) => {
    const minute = Math.floor(clock.now() / 60_000) * 60_000;
    const { id } = await store.insert(delivery({ receivedAt: minute + 1 }));
    await store.insert(delivery({ receivedAt: minute + 2, hook: null }));
    const end = { ...runEnd("succeeded", 0), endedAt: minute + 60_001, durationMs: 100 };
    await store.finishRun((await store.claim(id))!, end, { state: "done" });
    const chart = await store.activity(minute, minute + 120_000);
    assert.deepEqual(chart.map((m) => m.minute), [minute, minute + 60_000]);
    assert.deepEqual(chart[0].received, { done: 1, ignored: 1 });
    assert.deepEqual([chart[0].runs, chart[1].runs], [0, 1]);
    const p50 = chart[1].durationMs!.p50;
    assert.ok(p50 >= 100 && p50 <= 110, `${p50} is the bucket of 100 ms`);
  }],
  ["recordProcessGroup() and runningGroups() keep a running hook's group until it ends", {}, async (
    store,
  ) => {
    const claimed = (await store.claim((await store.insert(delivery())).id))!;
    await store.recordProcessGroup(claimed, { pgid: 4242, leaderStartTime: 7 });
    assert.deepEqual(await store.runningGroups(), [{
      runId: claimed.runId,
      deliveryId: claimed.id,
      pgid: 4242,
      leaderStartTime: 7,
    }]);
    await store.finishRun(claimed, runEnd("succeeded", 0), { state: "done" });
    assert.deepEqual(await store.runningGroups(), []);
  }],
  [
    "a run's output keeps every byte it was given, NUL and control characters included",
    {},
    async (store, place) => {
      const claimed = (await store.claim((await store.insert(delivery())).id))!;
      const stdout = "ab\0cd";
      const stderr = "\x01\x1b[31mé\0\x7f\r\n";
      await store.finishRun(claimed, { ...runEnd("succeeded", 0), stdout, stderr }, {
        state: "done",
      });
      await using other = await place.open();
      const [run] = (await other.get(claimed.id))!.runs;
      assert.equal(run.stdout, stdout);
      assert.equal(run.stderr, stderr);
      assert.equal((await other.get(claimed.id))!.state, "done");
    },
  ],
  [
    "a sender id with control characters is stored escaped, and its redelivery is a duplicate",
    { groupCommitMaxWaitMs: 20 },
    async (store) => {
      const poisoned = "evt_\0x\n\\";
      // Asked together: they share one commit, and the odd one fails none of the others.
      const results = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => store.insert(delivery({ sourceId: i === 7 ? poisoned : `ok-${i}` })),
        ),
      );
      assert.ok(results.every((r) => !r.duplicate && r.state === "queued"));
      assert.equal((await store.get(results[7].id))?.sourceId, "evt_\\x00x\\x0a\\");
      const again = await store.insert(delivery({ sourceId: poisoned }));
      assert.deepEqual([again.id, again.duplicate], [results[7].id, true]);
    },
  ],
  ["close() commits pending inserts; later calls reject as unavailable", {}, async (
    store,
    place,
  ) => {
    const pending = store.insert(delivery({ sourceId: "at-close" }));
    await store.close();
    const { id } = await pending;
    await assert.rejects(store.insert(delivery()), StoreUnavailableError);
    await assert.rejects(store.get(id), StoreUnavailableError);
    await using again = await place.open();
    assert.equal((await again.get(id))?.sourceId, "at-close");
  }],
];

/**
 * Run the contract against one implementation, one step per case, each on a
 * fresh store.
 *
 * @param t the test's context
 * @param target the implementation
 */
export async function runStoreContract(t: Deno.TestContext, target: ContractTarget): Promise<void> {
  for (const [name, options, body] of CASES) {
    await t.step(`${target.name}: ${name}`, async () => {
      await using place = await target.fresh();
      const clock = manualClock();
      await using store = await place.open({ now: clock.now, ...options });
      await body(store, place, clock);
    });
  }
}
