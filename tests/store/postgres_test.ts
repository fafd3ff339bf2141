/**
 * What only the PostgreSQL store promises: several instances on one
 * database. Migrations once under a lock, a redelivery reaching two
 * instances stored once, a run claimed by one instance, per-endpoint
 * concurrency counted across instances, leases renewed and taken over,
 * the purge one instance at a time, LISTEN/NOTIFY. One throwaway cluster
 * for the file, a fresh database per step.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import {
  openPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from "../../lib/store/postgres.ts";
import { migrate, POSTGRES_MIGRATIONS, PURGE_LOCK } from "../../lib/store/_postgres_schema.ts";
import { StoreUnavailableError } from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import { waitUntil } from "../_proc.ts";
import { SKIP_POSTGRES, startPostgres } from "../postgres_cluster.ts";
import { runEnd } from "./_contract.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Open `count` instances on one database, each with its own id. */
async function instances(
  url: string,
  count: number,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore[] & AsyncDisposable> {
  const stores = await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        openPostgresStore(url, { instanceId: `i${i}`, leaseRenewIntervalMs: 0, ...options }),
    ),
  );
  return Object.assign(stores, {
    [Symbol.asyncDispose]: async () => void await Promise.all(stores.map((s) => s.close())),
  });
}

Deno.test({
  name: "the PostgreSQL store shares one database between instances",
  ignore: SKIP_POSTGRES,
  async fn(t) {
    await using cluster = await startPostgres();

    await t.step("instances starting together migrate the schema exactly once", async () => {
      const url = await cluster.createDatabase();
      await using _stores = await instances(url, 5);
      const versions = await cluster.psql(
        url.split("/").pop()!,
        "SELECT version FROM hookd_schema",
      );
      assert.equal(versions.trim(), String(POSTGRES_MIGRATIONS.length), "one row, current");
    });

    await t.step("a schema newer than this hookd's is refused, not touched", async () => {
      const name = "newer";
      const url = await cluster.createDatabase(name);
      await (await openPostgresStore(url)).close();
      await cluster.psql(name, "UPDATE hookd_schema SET version = version + 1");
      await assert.rejects(openPostgresStore(url), StoreUnavailableError);
    });

    await t.step(
      "an unreachable database is unavailable, with the URL's password masked",
      async () => {
        const error = await openPostgresStore(`postgres://hookd:hunter2@127.0.0.1:1/x`, {
          connectTimeoutMs: 2000,
        }).then(() => undefined, (e) => e);
        assert.ok(error instanceof StoreUnavailableError, String(error));
        assert.doesNotMatch(error.message, /hunter2/);
      },
    );

    await t.step("runs recorded before output was stored as bytes keep their output", async () => {
      const name = "textoutput";
      const url = await cluster.createDatabase(name);
      {
        const sql = postgres(url, { onnotice: () => {} });
        try {
          await migrate(
            sql as unknown as Parameters<typeof migrate>[0],
            POSTGRES_MIGRATIONS.slice(0, 1),
          );
        } finally {
          await sql.end();
        }
      }
      await cluster.psql(
        name,
        `INSERT INTO deliveries (id, endpoint, event, received_at, content_type, headers, body,
           body_size, hook, timeout_ms, state, queued_at, updated_at)
         VALUES ('d1', 'deploy', 'push', 1, 'application/json', '{}', '\\x7b7d', 2, './h', 1000,
           'done', 1, 1);
         INSERT INTO runs (delivery_id, attempt, started_at, outcome, stdout, stderr)
         VALUES ('d1', 1, 1, 'succeeded', 'old output é', 'warn');`,
      );
      await using store = await openPostgresStore(url);
      const [run] = (await store.get("d1"))!.runs;
      assert.deepEqual([run.stdout, run.stderr], ["old output é", "warn"]);
    });

    await t.step(
      "a row the database refuses fails alone, not the others of its insert",
      async () => {
        const url = await cluster.createDatabase();
        await using store = await openPostgresStore(url, { groupCommitMaxWaitMs: 20 });
        const settled = await Promise.allSettled(
          // A NUL in a text column: PostgreSQL refuses the row (the hook is the admin's own text).
          Array.from(
            { length: 20 },
            (_, i) =>
              store.insert(delivery({ sourceId: `s-${i}`, hook: i === 5 ? "./h\0" : "./h" })),
          ),
        );
        assert.deepEqual(
          settled.map((s) => s.status),
          settled.map((_, i) => i === 5 ? "rejected" : "fulfilled"),
        );
        assert.ok((settled[5] as PromiseRejectedResult).reason instanceof StoreUnavailableError);
        assert.equal((await store.counts()).queued, 19);
      },
    );

    await t.step("a database that goes away is unavailable, then serves again", async () => {
      const url = await cluster.createDatabase();
      await using store = await openPostgresStore(url, { instanceId: "web1" });
      let heard = Promise.withResolvers<void>();
      const listener = await store.listen(() => heard.resolve());
      const before = await store.insert(delivery({ sourceId: "before" }));
      await heard.promise;
      heard = Promise.withResolvers<void>();
      await cluster.stop();
      try {
        await assert.rejects(store.insert(delivery({ sourceId: "down" })), StoreUnavailableError);
        // Every failed reconnect lengthens the client's backoff: an outage of a few seconds
        // must not leave it waiting long after the database is back.
        const downUntil = Date.now() + 2000;
        while (Date.now() < downUntil) {
          await assert.rejects(store.counts(), StoreUnavailableError);
          await delay(50);
        }
      } finally {
        await cluster.start();
      }
      const back = Date.now();
      // The pool reconnects by itself: no reopening. Until its backoff (a second at most) has
      // run out, the client answers with the outage's error at once rather than trying.
      const after = await waitUntil(
        () => `serving again, ${Date.now() - back} ms after the database is back`,
        () =>
          store.insert(delivery({ sourceId: "after" })).catch((error) => {
            if (!(error instanceof StoreUnavailableError)) throw error;
            return null;
          }),
        2500,
      );
      const recoveryMs = Date.now() - back;
      assert.ok(recoveryMs < 2500, `serves again ${recoveryMs} ms after the database is back`);
      assert.equal((await store.get(before.id))?.sourceId, "before");
      assert.equal((await store.get(after.id))?.sourceId, "after");
      assert.equal((await store.list({ limit: 10 })).length, 2, "nothing stored while down");
      // LISTEN reconnects too (after its own backoff), and hears work queued after the restart.
      const deadline = Date.now() + 3_000;
      while (!await Promise.race([heard.promise.then(() => true), delay(100).then(() => false)])) {
        assert.ok(Date.now() < deadline, "LISTEN came back late or never");
        await store.insert(delivery());
      }
      await listener.unlisten();
    });

    await t.step("the same redelivery reaching two instances at once is stored once", async () => {
      const url = await cluster.createDatabase();
      await using stores = await instances(url, 2);
      const [a, b] = stores;
      for (let i = 0; i < 20; i++) {
        const sourceId = `race-${i}`;
        const results = await Promise.all([
          a.insert(delivery({ sourceId })),
          b.insert(delivery({ sourceId })),
        ]);
        assert.equal(results[0].id, results[1].id, `both answer with the stored one (${i})`);
        assert.deepEqual(results.map((r) => r.duplicate).sort(), [false, true]);
        const hash = `${i}`.padStart(64, "0");
        const byHash = await Promise.all([
          a.insert(delivery({ replayHash: hash })),
          b.insert(delivery({ replayHash: hash })),
        ]);
        assert.equal(byHash[0].id, byHash[1].id);
      }
      assert.equal((await a.list({ limit: 1000 })).length, 40);
      assert.equal((await b.counts()).queued, 40);
    });

    await t.step(
      "a queued delivery is claimed by exactly one of the instances racing for it",
      async () => {
        const url = await cluster.createDatabase();
        await using stores = await instances(url, 3);
        const ids = [];
        for (let i = 0; i < 30; i++) ids.push((await stores[0].insert(delivery())).id);
        const claims = await Promise.all(
          ids.flatMap((id) => stores.map((store) => store.claim(id))),
        );
        const won = claims.filter((c) => c !== null);
        assert.deepEqual(won.map((c) => c.id).sort(), [...ids].sort(), "each once");
        assert.equal((await stores[1].counts()).running, 30);
      },
    );

    await t.step("per-endpoint concurrency is counted across instances", async () => {
      const url = await cluster.createDatabase();
      await using stores = await instances(url, 3);
      const ids = [];
      for (let i = 0; i < 12; i++) ids.push((await stores[0].insert(delivery())).id);
      const claims = await Promise.all(
        ids.flatMap((id) => stores.map((store) => store.claim(id, { concurrency: 2 }))),
      );
      const won = claims.filter((c) => c !== null);
      assert.equal(won.length, 2, "two at once, whichever instances asked");
      assert.equal((await stores[2].runningByEndpoint()).get("deploy"), 2);
      await stores[0].finishRun(won[0], runEnd("succeeded", 0), { state: "done" });
      const next = ids.find((id) => !won.some((c) => c.id === id))!;
      assert.ok(await stores[1].claim(next, { concurrency: 2 }), "a finished run frees a slot");
      assert.equal(await stores[2].claim(ids.at(-1)!, { concurrency: 2 }), null);
    });

    await t.step(
      "an expired lease is taken over; the old holder's late end changes nothing",
      async () => {
        const url = await cluster.createDatabase();
        await using stores = await instances(url, 2);
        const [a, b] = stores;
        const lapsed = (await a.claim((await a.insert(delivery())).id, { leaseMs: 300 }))!;
        const claimed = Date.now();
        // a renews nothing (leaseRenewIntervalMs 0): its lease runs out.
        while (await b.reclaimExpired() === 0) {
          assert.ok(Date.now() - claimed < 5000, "the lease runs out");
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.ok(Date.now() - claimed >= 300, "not before the lease ends");
        const detail = (await b.get(lapsed.id))!;
        assert.equal(detail.state, "queued");
        assert.equal(detail.runs[0].outcome, "interrupted");
        assert.match(detail.runs[0].error ?? "", /lease/);

        const taken = (await b.claim(lapsed.id))!;
        assert.equal(taken.attempt, 2);
        await a.finishRun(lapsed, runEnd("succeeded", 0), { state: "done" });
        assert.equal(
          (await b.get(lapsed.id))?.state,
          "running",
          "a's late end leaves b's run alone",
        );
        await b.finishRun(taken, runEnd("succeeded", 0), { state: "done" });
        assert.equal((await b.get(lapsed.id))?.state, "done");
      },
    );

    await t.step("an instance renews the leases it holds until it stops", async () => {
      const url = await cluster.createDatabase();
      await using stores = await instances(url, 2, { leaseRenewIntervalMs: 50 });
      const [a, b] = stores;
      const held = (await a.claim((await a.insert(delivery())).id, { leaseMs: 250 }))!;
      const until = Date.now() + 1000;
      while (Date.now() < until) {
        assert.equal(await b.reclaimExpired(), 0, "a's timer keeps the lease alive");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await a.close();
      const stopped = Date.now();
      while (await b.reclaimExpired() === 0) {
        assert.ok(Date.now() - stopped < 5000, "the lease runs out once a stops renewing");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(Date.now() - stopped >= 150, "not before the lease a last renewed");
      assert.equal((await b.get(held.id))?.state, "queued");
    });

    await t.step(
      "a restarted instance takes its own claims back at once, no one else's",
      async () => {
        const url = await cluster.createDatabase();
        const mine = await openPostgresStore(url, { instanceId: "web1" });
        await using other = await openPostgresStore(url, { instanceId: "web2" });
        const a = (await mine.claim((await mine.insert(delivery())).id))!;
        const b = (await other.claim((await other.insert(delivery())).id))!;
        await mine.recordProcessGroup(a, { pgid: 4242, leaderStartTime: 99 });
        await other.recordProcessGroup(b, { pgid: 4343, leaderStartTime: 7 });
        await mine.close();
        await using restarted = await openPostgresStore(url, { instanceId: "web1" });
        assert.deepEqual(await restarted.runningGroups(), [{
          runId: a.runId,
          deliveryId: a.id,
          pgid: 4242,
          leaderStartTime: 99,
        }], "its own hook's group, to end it; not web2's");
        assert.equal(await restarted.recover(), 1);
        assert.deepEqual(await restarted.runningGroups(), []);
        assert.equal((await restarted.get(a.id))?.state, "queued");
        assert.equal(
          (await restarted.get(a.id))?.runs[0].error,
          "hookd stopped while the hook ran",
        );
        assert.equal((await restarted.get(b.id))?.state, "running", "web2's lease still holds");
      },
    );

    await t.step(
      "a second instance with a live instance's id refuses to start; a crashed one's id is free in seconds",
      async () => {
        const url = await cluster.createDatabase();
        await using live = await openPostgresStore(url, { instanceId: "web1" });
        await live.recover();
        const held = (await live.claim((await live.insert(delivery())).id))!;
        await using twin = await openPostgresStore(url, { instanceId: "web1" });
        for (const start of [() => twin.runningGroups(), () => twin.recover()]) {
          await assert.rejects(start(), (error: Error) => {
            assert.match(error.message, /HOOKD_INSTANCE_ID/);
            assert.match(error.message, /web1/);
            return true;
          });
        }
        assert.equal((await live.get(held.id))?.state, "running", "the live one's run is kept");

        // A holder that dies without a word (SIGKILL) leaves its heartbeat to go stale.
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "eval",
            `import { openPostgresStore } from ${
              JSON.stringify(new URL("../../lib/store/postgres.ts", import.meta.url).href)
            };
            const store = await openPostgresStore(${JSON.stringify(url)}, { instanceId: "web2" });
            await store.recover();
            const { id } = await store.claim(Deno.args[0]);
            console.log(id);
            await new Promise(() => {});`,
            (await live.insert(delivery({ sourceId: "crash" }))).id,
          ],
          stdout: "piped",
          stderr: "inherit",
        }).spawn();
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        const claimedId = (await reader.read()).value!.trim();
        child.kill("SIGKILL");
        await child.status;
        await reader.cancel();
        const restartedAt = Date.now();
        await using restarted = await openPostgresStore(url, { instanceId: "web2" });
        assert.equal(await restarted.recover(), 1);
        const tookMs = Date.now() - restartedAt;
        assert.ok(tookMs < 6000, `its own claim back ${tookMs} ms after the restart`);
        const back = (await restarted.get(claimedId))!;
        assert.equal(back.state, "queued", "taken back long before its 75 s lease ran out");
        assert.equal(back.runs[0].error, "hookd stopped while the hook ran");
      },
    );

    await t.step("the purge runs in one instance at a time", async () => {
      const url = await cluster.createDatabase();
      await using stores = await instances(url, 2);
      const old = Date.now() - 60_000;
      for (let i = 0; i < 3; i++) await stores[0].insert(delivery({ receivedAt: old, hook: null }));
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(${PURGE_LOCK.toString()}::bigint)`;
          assert.equal(await stores[1].purge(Date.now()), 0, "another purge holds the lock");
        });
      } finally {
        await sql.end();
      }
      assert.equal(await stores[1].purge(Date.now()), 3);
      assert.equal((await stores[0].counts()).byState.ignored, 0);
    });

    await t.step("activity() counts deliveries and run durations per minute", async () => {
      const url = await cluster.createDatabase();
      await using store = await openPostgresStore(url, { instanceId: "chart" });
      const minute = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
      const durations = [10, 20, 30, 40, 1000];
      for (const [i, durationMs] of durations.entries()) {
        const { id } = await store.insert(delivery({ receivedAt: minute + i }));
        const end = { ...runEnd("succeeded", 0), endedAt: minute + 60_000 + i, durationMs };
        await store.finishRun((await store.claim(id))!, end, { state: "done" });
      }
      await store.insert(delivery({ receivedAt: minute + 10, hook: null }));
      const chart = await store.activity(minute + 30_000, minute + 180_000);
      assert.deepEqual(chart.map((m) => m.minute), [minute, minute + 60_000, minute + 120_000]);
      assert.deepEqual(chart[0].received, { done: 5, ignored: 1 });
      assert.equal(chart[0].runs, 0);
      assert.equal(chart[1].runs, 5);
      const { p50, p95, p99 } = chart[1].durationMs!;
      assert.ok(p50 >= 30 && p50 <= 33, `p50 ${p50} is the bucket of 30 ms`);
      assert.ok(p95 >= 1000 && p99 >= 1000 && p99 <= 1100, `p95 ${p95}, p99 ${p99}`);
      assert.deepEqual(chart[2], {
        minute: minute + 120_000,
        received: {},
        runs: 0,
        durationMs: null,
      });
    });

    await t.step("LISTEN/NOTIFY tells every instance of queued work", async () => {
      const url = await cluster.createDatabase();
      await using stores = await instances(url, 2);
      const [a, b] = stores;
      let heard = Promise.withResolvers<void>();
      const listener = await b.listen(() => heard.resolve());
      try {
        await a.insert(delivery());
        await heard.promise;
        heard = Promise.withResolvers<void>();
        const { id } = await a.insert(delivery({ hook: null }));
        const failed = await a.insert(delivery());
        await heard.promise;
        await a.finishRun((await a.claim(failed.id))!, runEnd("failed", 1), { state: "failed" });
        heard = Promise.withResolvers<void>();
        assert.deepEqual((await a.requeue([failed.id, id])).requeued, [failed.id]);
        await heard.promise;
      } finally {
        await listener.unlisten();
      }
    });
  },
});
