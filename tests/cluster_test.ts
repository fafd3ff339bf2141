/**
 * Several real daemons (`main.ts serve`) sharing one PostgreSQL store
 * (`HOOKD_STORE=postgres://…`), on a throwaway cluster started once for the
 * file: every acknowledged delivery is stored once and reaches its hook
 * while instances are SIGKILLed and restarted under load; per-endpoint
 * concurrency holds across instances (the hooks check it with a lock
 * directory); the same redelivery sent to two instances at once is stored
 * and run once; `latest` supersedes across instances; an accept-only
 * instance leaves its deliveries to the others.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitUntil } from "./_proc.ts";
import {
  type Daemon,
  githubSignature,
  hookScript,
  runHookd,
  startDaemon,
  tempDir,
} from "./harness.ts";
import { type PostgresCluster, SKIP_POSTGRES, startPostgres } from "./postgres_cluster.ts";

const SECRET = "cluster-test-secret-0123456789";

/** The env of an instance: GitHub endpoints on the shared store, with its own id. */
function instanceEnv(
  store: string,
  instance: string,
  endpoints: Record<string, Record<string, string>>,
  globals: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    HOOKD_ENDPOINTS: Object.keys(endpoints).join(","),
    HOOKD_STORE: store,
    HOOKD_INSTANCE_ID: instance,
    ...globals,
  };
  for (const [name, settings] of Object.entries(endpoints)) {
    const prefix = `HOOKD_${name.toUpperCase()}_`;
    env[`${prefix}PROVIDER`] = "github";
    env[`${prefix}SECRET`] = SECRET;
    for (const [key, value] of Object.entries(settings)) env[prefix + key] = value;
  }
  return env;
}

/**
 * A hook that notes each run's sender id in `<name>.ran`, and in
 * `<name>.overlaps` when another run of the endpoint held the lock
 * directory: what CONCURRENCY=1 across instances must never allow. Ended by
 * SIGTERM (a restarted instance ending what it left running), it gives the
 * lock back.
 */
function lockedHook(dir: string, name: string, holdSeconds: string): Promise<string> {
  const base = `${dir}/${name}`;
  return hookScript(
    dir,
    name,
    [
      `if ! mkdir ${base}.lock 2>/dev/null; then echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${base}.overlaps; fi`,
      `trap 'rmdir ${base}.lock 2>/dev/null; exit 143' TERM INT`,
      `sleep ${holdSeconds}`,
      `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${base}.ran`,
      `rmdir ${base}.lock 2>/dev/null`,
      "exit 0",
    ].join("\n"),
  );
}

/** POST a GitHub-signed push with sender id `sourceId`; the status, or the error. */
async function deliver(url: string, endpoint: string, sourceId: string): Promise<number> {
  const body = JSON.stringify({ delivery: sourceId });
  const response = await fetch(`${url}/hooks/${endpoint}`, {
    method: "POST",
    body,
    headers: {
      "Content-Type": "application/json",
      "X-GitHub-Event": "push",
      "X-GitHub-Delivery": sourceId,
      "X-Hub-Signature-256": await githubSignature(body, SECRET),
    },
  });
  await response.body?.cancel();
  return response.status;
}

/** The lines of a file, none when it does not exist. */
async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((line) => line !== "");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** A fresh database on the cluster: its URL and a psql that answers rows as `a|b` lines. */
async function database(
  cluster: PostgresCluster,
): Promise<{ url: string; query: (sql: string) => Promise<string[]> }> {
  const url = await cluster.createDatabase();
  const name = new URL(url).pathname.slice(1);
  return {
    url,
    query: async (sql) => (await cluster.psql(name, sql)).split("\n").filter((l) => l !== ""),
  };
}

Deno.test({
  name: "several daemons share one PostgreSQL store",
  ignore: SKIP_POSTGRES,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using cluster = await startPostgres();

    for (const size of [2, 3]) {
      await t.step(
        `${size} instances under load, two of them SIGKILLed and restarted mid-run: every ` +
          "acknowledged delivery stored once and run, CONCURRENCY=1 never exceeded",
        async () => {
          const { url, query } = await database(cluster);
          await using dir = await tempDir("hookd_cluster_");
          const hook = await lockedHook(dir.path, "serial", "0.02");
          const env = (i: number) =>
            instanceEnv(url, `node-${i}`, {
              serial: { HOOK_PUSH: hook, CONCURRENCY: "1", TIMEOUT: "20s" },
            }, { HOOKD_MAX_CONCURRENT_HOOKS: "4" });
          const dirs = await Promise.all(
            Array.from({ length: size }, async (_, i) => {
              const path = `${dir.path}/node-${i}`;
              await Deno.mkdir(path);
              return path;
            }),
          );
          const nodes: (Daemon | undefined)[] = await Promise.all(
            dirs.map((path, i) => startDaemon(env(i), { dir: path })),
          );
          const TOTAL = 90;
          const acked = new Set<string>();
          const restarts: Promise<void>[] = [];
          let next = 0;
          let kills = 0;

          // Kill node k when a third (then two thirds) of the load is acknowledged, one
          // restart at a time.
          let restarting = false;
          function maybeKill(): void {
            if (restarting || kills >= 2 || acked.size < ((kills + 1) * TOTAL) / 4) return;
            restarting = true;
            const k = kills++;
            const victim = nodes[k]!;
            nodes[k] = undefined;
            restarts.push((async () => {
              await victim.stop("SIGKILL");
              nodes[k] = await startDaemon(env(k), { dir: dirs[k] });
              restarting = false;
            })());
          }

          // Each client sends to the live instances in turn and, like a sender, sends a
          // delivery again (same sender id) until one acknowledges it.
          async function client(c: number): Promise<void> {
            let turn = c;
            for (;;) {
              if (next >= TOTAL) {
                // The load is sent: until both kills and restarts are done, one client
                // trickles more (so that a kill still lands mid-run), the others wait.
                if (kills >= 2 && !restarting) return;
                await new Promise((resolve) => setTimeout(resolve, c === 0 ? 100 : 50));
                if (c !== 0) continue;
              }
              const sourceId = `load-${String(next++).padStart(3, "0")}`;
              for (;;) {
                const live = nodes.filter((n): n is Daemon => n !== undefined);
                const node = live[turn++ % live.length];
                let status: number;
                try {
                  status = await deliver(node.url, "serial", sourceId);
                } catch {
                  // It was killed while answering: try another, as a sender would, a little later.
                  await new Promise((resolve) => setTimeout(resolve, 20));
                  continue;
                }
                if (status === 202 || status === 200) {
                  acked.add(sourceId);
                  maybeKill();
                  break;
                }
                assert.equal(status, 503, `${sourceId}: unexpected ${status}`);
              }
            }
          }
          try {
            await Promise.all(Array.from({ length: 6 }, (_, c) => client(c)));
            await Promise.all(restarts);
            assert.equal(kills, 2);
            await waitUntil(
              () => `runs of ${[...acked].length} acknowledged deliveries`,
              async () => {
                const ran = new Set(await lines(`${dir.path}/serial.ran`));
                return [...acked].every((id) => ran.has(id));
              },
              90_000,
            );
            const stored = await query(
              "SELECT source_id, count(*) FROM deliveries GROUP BY 1 ORDER BY 1",
            );
            assert.deepEqual(
              stored,
              [...acked].sort().map((id) => `${id}|1`),
              "each acknowledged delivery stored exactly once",
            );
            assert.deepEqual(await lines(`${dir.path}/serial.overlaps`), [], "never two at once");
            // Exactly once, unless its instance died while it ran (the run is then `interrupted`).
            const ran = await lines(`${dir.path}/serial.ran`);
            const twice = [...new Set(ran.filter((id, i) => ran.indexOf(id) !== i))];
            const interrupted = new Set(
              await query(
                `SELECT DISTINCT d.source_id FROM deliveries d JOIN runs r ON r.delivery_id = d.id
                 WHERE r.outcome = 'interrupted'`,
              ),
            );
            for (const id of twice) assert.ok(interrupted.has(id), `${id} ran twice`);
            await waitUntil(
              () => "every delivery done",
              async () =>
                (await query("SELECT count(*) FROM deliveries WHERE state <> 'done'"))[0] === "0",
            );
          } finally {
            await Promise.all(restarts.map((r) => r.catch(() => {})));
            await Promise.all(nodes.map((n) => n?.stop("SIGTERM")));
          }
        },
      );
    }

    await t.step(
      "the same signed delivery sent to two instances at once is stored once and run once",
      async () => {
        const { url, query } = await database(cluster);
        await using dir = await tempDir("hookd_cluster_");
        const hook = await hookScript(
          dir.path,
          "race",
          `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${dir.path}/race.ran`,
        );
        const endpoints = { race: { HOOK_PUSH: hook } };
        await using a = await startDaemon(instanceEnv(url, "a", endpoints));
        await using b = await startDaemon(instanceEnv(url, "b", endpoints));
        const ids = Array.from({ length: 20 }, (_, i) => `same-${i}`);
        for (const id of ids) {
          const statuses = await Promise.all([
            deliver(a.url, "race", id),
            deliver(b.url, "race", id),
          ]);
          assert.deepEqual(statuses.sort(), [200, 202], `${id}: one stores, one is a duplicate`);
        }
        await waitUntil(
          () => "every delivery run",
          async () => new Set(await lines(`${dir.path}/race.ran`)).size === ids.length,
        );
        assert.deepEqual(
          await query("SELECT count(*), count(DISTINCT source_id) FROM deliveries"),
          ["20|20"],
        );
        let states: string[] = [];
        await waitUntil(
          () => `every delivery done: ${states.join(", ")}`,
          async () => {
            states = await query("SELECT state, count(*) FROM deliveries GROUP BY 1");
            return states.join() === "done|20";
          },
        );
        assert.deepEqual((await lines(`${dir.path}/race.ran`)).sort(), [...ids].sort(), "once");
      },
    );

    await t.step("ON_BUSY=latest supersedes what waits, whichever instance took it", async () => {
      const { url, query } = await database(cluster);
      await using dir = await tempDir("hookd_cluster_");
      const gate = `${dir.path}/open`;
      const hook = await hookScript(
        dir.path,
        "deploy",
        [
          `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${dir.path}/started`,
          `while [ ! -e ${gate} ]; do sleep 0.02; done`,
          `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${dir.path}/ran`,
        ].join("\n"),
      );
      const endpoints = {
        deploy: { HOOK_PUSH: hook, CONCURRENCY: "1", ON_BUSY: "latest", TIMEOUT: "30s" },
      };
      await using a = await startDaemon(instanceEnv(url, "a", endpoints));
      await using b = await startDaemon(instanceEnv(url, "b", endpoints));
      assert.equal(await deliver(a.url, "deploy", "v1"), 202);
      await waitUntil(
        () => "v1 started",
        async () => (await lines(`${dir.path}/started`)).length > 0,
      );
      for (const [node, id] of [[b, "v2"], [a, "v3"], [b, "v4"]] as const) {
        assert.equal(await deliver(node.url, "deploy", id), 202);
      }
      await Deno.writeTextFile(gate, "");
      // The hook writes its line before it exits; the run's end is recorded after.
      const states = () => query("SELECT source_id, state FROM deliveries ORDER BY source_id");
      await waitUntil(
        () => "v4 recorded done",
        async () => (await states()).includes("v4|done"),
      );
      assert.deepEqual(await lines(`${dir.path}/ran`), ["v1", "v4"]);
      assert.deepEqual(await states(), ["v1|done", "v2|superseded", "v3|superseded", "v4|done"]);
    });

    await t.step(
      "an idle instance runs other endpoints' work at once, not a delivery whose endpoint is busy elsewhere",
      async () => {
        const { url } = await database(cluster);
        await using dir = await tempDir("hookd_cluster_");
        const gate = `${dir.path}/open`;
        const slow = await hookScript(
          dir.path,
          "slow",
          [
            `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${dir.path}/slow.started`,
            `while [ ! -e ${gate} ]; do sleep 0.02; done`,
          ].join("\n"),
        );
        const fast = await hookScript(
          dir.path,
          "fast",
          `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${dir.path}/fast.ran`,
        );
        const endpoints = {
          slow: { HOOK_PUSH: slow, CONCURRENCY: "1", TIMEOUT: "60s" },
          fast: { HOOK_PUSH: fast },
        };
        const globals = { HOOKD_MAX_CONCURRENT_HOOKS: "1" };
        await using a = await startDaemon(instanceEnv(url, "a", endpoints, globals));
        await using b = await startDaemon(instanceEnv(url, "b", endpoints, globals));
        try {
          assert.equal(await deliver(a.url, "slow", "s1"), 202);
          await waitUntil(
            () => "s1 started",
            async () => (await lines(`${dir.path}/slow.started`)).length > 0,
          );
          // s2 cannot run anywhere while s1 runs (CONCURRENCY=1 across the cluster); b is idle.
          assert.equal(await deliver(b.url, "slow", "s2"), 202);
          assert.equal(await deliver(b.url, "fast", "f1"), 202);
          await waitUntil(
            () => "f1 ran on the idle instance while s1 still ran",
            async () => (await lines(`${dir.path}/fast.ran`)).includes("f1"),
            3000,
          );
          assert.deepEqual(await lines(`${dir.path}/slow.started`), ["s1"]);
        } finally {
          await Deno.writeTextFile(gate, "");
        }
        await waitUntil(
          () => "s2 ran after s1",
          async () => (await lines(`${dir.path}/slow.started`)).includes("s2"),
        );
      },
    );

    await t.step(
      "a second daemon with a running one's HOOKD_INSTANCE_ID refuses to start and harms none of its hooks",
      async () => {
        const { url, query } = await database(cluster);
        await using dir = await tempDir("hookd_cluster_");
        const gate = `${dir.path}/open`;
        const hook = await hookScript(
          dir.path,
          "held",
          [
            `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${dir.path}/started`,
            `while [ ! -e ${gate} ]; do sleep 0.02; done`,
            `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${dir.path}/ran`,
          ].join("\n"),
        );
        const endpoints = { held: { HOOK_PUSH: hook, TIMEOUT: "60s" } };
        await using first = await startDaemon(instanceEnv(url, "same", endpoints));
        assert.equal(await deliver(first.url, "held", "h1"), 202);
        await waitUntil(
          () => "h1 started",
          async () => (await lines(`${dir.path}/started`)).length > 0,
        );
        // The same settings: what a copied env file or a second unit does.
        const twin = await startDaemon(instanceEnv(url, "same", endpoints)).then(
          async (started) => {
            await started[Symbol.asyncDispose]();
            return "it started";
          },
          (error) => String(error),
        );
        assert.match(twin, /did not start \(exited[^]*HOOKD_INSTANCE_ID/);
        assert.deepEqual(await query("SELECT source_id, state FROM deliveries"), ["h1|running"]);
        await Deno.writeTextFile(gate, "");
        await waitUntil(
          () => "h1 ran to its end on the first daemon",
          async () => (await lines(`${dir.path}/ran`)).includes("h1"),
        );
        await waitUntil(
          () => "h1 done",
          async () => (await query("SELECT state FROM deliveries")).join() === "done",
        );
        assert.deepEqual(await lines(`${dir.path}/started`), ["h1"], "run once, never killed");
        assert.deepEqual(
          await query("SELECT outcome FROM runs"),
          ["succeeded"],
          "no interrupted run",
        );
      },
    );

    await t.step("/healthz answers 503 while PostgreSQL is down, 200 once it is back", async () => {
      const { url } = await database(cluster);
      await using node = await startDaemon(instanceEnv(url, "health", { h: {} }));
      const health = async () => {
        const response = await fetch(`${node.adminUrl}/healthz`).catch((error) => {
          throw new Error(`GET /healthz failed; the daemon said:\n${node.stderr()}`, {
            cause: error,
          });
        });
        return { status: response.status, body: await response.json() };
      };
      assert.equal((await health()).status, 200);
      await cluster.stop();
      try {
        const down = await health();
        assert.equal(down.status, 503);
        assert.equal(down.body.store, false);
        assert.equal(await deliver(node.url, "h", "while-down"), 503, "nothing stored, no 2xx");
      } finally {
        await cluster.start();
      }
      await waitUntil(() => "healthy again", async () => (await health()).status === 200);
      assert.equal(await deliver(node.url, "h", "after"), 202);
    });

    await t.step(
      "an accept-only instance (HOOKD_RUN_HOOKS=false) stores; another runs; the CLI reads both",
      async () => {
        const { url } = await database(cluster);
        await using dir = await tempDir("hookd_cluster_");
        const hook = await lockedHook(dir.path, "split", "0");
        const endpoints = { split: { HOOK_PUSH: hook } };
        await using receiver = await startDaemon(
          instanceEnv(url, "receiver", endpoints, { HOOKD_RUN_HOOKS: "false" }),
        );
        assert.equal(await deliver(receiver.url, "split", "r-1"), 202);
        const shown = await runHookd(["deliveries", "--env-file", receiver.envFile, "--json"]);
        assert.equal(shown.code, 0, shown.stderr);
        assert.equal(JSON.parse(shown.stdout).state, "queued", "nobody runs it yet");
        await using worker = await startDaemon(instanceEnv(url, "worker", endpoints));
        await waitUntil(
          () => "r-1 ran on the worker",
          async () => (await lines(`${dir.path}/split.ran`)).includes("r-1"),
        );
        await worker.waitForRecord((r) => r.type === "hook" || r.message === "hook");
        const listed = await runHookd(["deliveries", "--env-file", worker.envFile, "--json"]);
        assert.equal(JSON.parse(listed.stdout).state, "done");
        const check = await runHookd(["check", "--env-file", receiver.envFile]);
        assert.match(check.stdout + check.stderr, /accepts only, runs no hook/);
      },
    );
  },
});
