/**
 * End-to-end proof of the durable store and queue through the real daemon
 * (`main.ts serve` as a subprocess) and the real CLI (`hookd deliveries`,
 * `show`, `replay` as subprocesses): nothing acknowledged is lost to
 * SIGKILL, refusals are precise (503, 429), duplicates run nothing, and
 * retries, serialisation, `latest`, purge, replay and `_RESPOND=output`
 * behave as configured. Hooks are shell scripts whose effects are read back.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  type Daemon,
  githubSignature,
  hookScript,
  integrationTest,
  runHookd,
  startDaemon,
  tempDir,
  waitForFile,
  waitForState,
  waitForStore,
} from "./harness.ts";

const SECRET = "durability-test-secret";

// ---------------------------------------------------------------------------
// Helpers

/**
 * The env of a daemon with GitHub endpoints (so that `X-GitHub-Delivery`
 * gives each delivery a sender id), each with its own settings.
 */
function daemonEnv(
  endpoints: Record<string, Record<string, string>>,
  globals: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    HOOKD_ENDPOINTS: Object.keys(endpoints).join(","),
    ...globals,
  };
  for (const [name, settings] of Object.entries(endpoints)) {
    const prefix = `HOOKD_${name.toUpperCase().replaceAll("-", "_")}_`;
    env[`${prefix}PROVIDER`] = "github";
    env[`${prefix}SECRET`] = SECRET;
    for (const [key, value] of Object.entries(settings)) env[prefix + key] = value;
  }
  return env;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POST a GitHub-signed `push` with sender id `sourceId`. */
async function deliver(url: string, endpoint: string, sourceId: string): Promise<Answer> {
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
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

/** Run the hookd CLI as a subprocess, as an admin would, with the daemon's env file. */
function hookd(
  envFile: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runHookd([...args, "--env-file", envFile]);
}

interface Listed {
  id: string;
  sourceId: string | null;
  state: string;
  attempts: number;
  supersededBy: string | null;
  lastRun: { startedAt: number; endedAt: number | null; outcome: string } | null;
}

/** `hookd deliveries --json`: one JSON object a line. */
async function listDeliveries(envFile: string, flags: string[] = []): Promise<Listed[]> {
  const { code, stdout, stderr } = await hookd(envFile, [
    "deliveries",
    "--json",
    "--limit",
    "10000",
    ...flags,
  ]);
  assert.equal(code, 0, `hookd deliveries failed: ${stderr}`);
  return stdout.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

interface Shown extends Listed {
  runs: {
    attempt: number;
    startedAt: number;
    endedAt: number | null;
    outcome: string;
    exitCode: number | null;
    stdout: string;
  }[];
}

/** `hookd show ID --json`. */
async function showDelivery(envFile: string, id: string): Promise<Shown> {
  const { code, stdout, stderr } = await hookd(envFile, ["show", id, "--json"]);
  assert.equal(code, 0, `hookd show ${id} failed: ${stderr}`);
  return JSON.parse(stdout);
}

/** Wait until a delivery is in `state` in the daemon's store, then read it as `hookd show` does. */
async function waitForShown(daemon: Daemon, id: string, state: string): Promise<Shown> {
  await waitForState(daemon, id, state);
  return await showDelivery(daemon.envFile, id);
}

/** The lines of a file the hooks append to; none when it does not exist yet. */
async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((line) => line !== "");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** What a failed crash run left: the missing ids' states and runs, and the daemon's complaints. */
async function diagnosis(
  daemon: Daemon,
  hooked: string,
  acked: Map<string, number>,
): Promise<string> {
  const seen = new Set(await lines(hooked));
  const missing = [...acked.keys()].filter((id) => !seen.has(id));
  const listed = await listDeliveries(daemon.envFile, ["--endpoint", "load"]).catch(() => []);
  const states = new Map<string, number>();
  for (const d of listed) states.set(d.state, (states.get(d.state) ?? 0) + 1);
  const ofMissing = listed.filter((d) => d.sourceId !== null && missing.includes(d.sourceId))
    .slice(0, 5).map((d) =>
      `${d.sourceId}: ${d.state}, ${d.attempts} attempts, last ${JSON.stringify(d.lastRun)}`
    );
  const complaints = (await daemon.records().catch(() => []))
    .filter((r) => r.level === "error" || r.level === "warning").slice(-8)
    .map((r) => JSON.stringify(r).slice(0, 400));
  return [
    `missing from the hook's file: ${missing.length} (${missing.slice(0, 10).join(", ")})`,
    `states: ${JSON.stringify(Object.fromEntries(states))}`,
    ...ofMissing,
    "last warnings and errors of the running daemon:",
    ...complaints,
  ].join("\n");
}

/** A gate a hook waits at (bounded, so a failed test cannot hang the daemon's shutdown). */
function gateWait(path: string): string {
  return `i=0; while [ ! -e ${path} ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done`;
}

/** A small seeded PRNG (mulberry32), so that a failing crash run can be replayed by its seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function random() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------
// Crash safety

integrationTest(
  "every delivery acknowledged with a 2xx reaches its hook and the store across repeated SIGKILLs",
  async () => {
    const TOTAL = 300;
    const CLIENTS = 6;
    const KILLS = 4;
    const seed = Number(
      Deno.env.get("HOOKD_CRASH_SEED") ?? crypto.getRandomValues(new Uint32Array(1))[0],
    );
    const random = seededRandom(seed);
    const context = `(seed ${seed}; rerun with HOOKD_CRASH_SEED=${seed})`;

    await using dir = await tempDir("hookd_crash_");
    const hooked = `${dir.path}/hooked.txt`;
    // A short sleep first keeps runs in flight, so that kills also land mid-run.
    const hook = await hookScript(
      dir.path,
      "append",
      `sleep 0.05\necho "$HOOKD_SOURCE_DELIVERY_ID" >> ${hooked}`,
    );
    const env = daemonEnv({ load: { HOOK_PUSH: hook, TIMEOUT: "20s" } }, {
      HOOKD_MAX_CONCURRENT_HOOKS: "4",
    });

    // Kill when the acknowledged count passes a random point in each of the first KILLS
    // of KILLS + 1 equal stretches of the load, so that the last stretch runs undisturbed.
    const stretch = TOTAL / (KILLS + 1);
    const thresholds = Array.from(
      { length: KILLS },
      (_, k) => Math.floor(k * stretch + 5 + random() * (stretch - 5)),
    );
    let current: Daemon = await startDaemon(env, { dir: dir.path });
    const replacements = new Map<Daemon, Promise<Daemon>>();
    const inFlightAtKill: number[] = [];
    const acked = new Map<string, number>();
    const unexpected: string[] = [];
    let kills = 0;
    let inFlight = 0;
    let next = 0;

    function killAndRestart(): void {
      const victim = current;
      const delayMs = Math.floor(random() * 10);
      kills++;
      replacements.set(
        victim,
        (async () => {
          // A random pause after the threshold varies where in the commit/run cycle the kill lands.
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          inFlightAtKill.push(inFlight);
          await victim.stop("SIGKILL");
          current = await startDaemon(env, { dir: dir.path });
          return current;
        })(),
      );
    }

    function acknowledged(sourceId: string, status: number): void {
      acked.set(sourceId, status);
      const restarting = replacements.has(current);
      if (!restarting && kills < KILLS && acked.size >= thresholds[kills]) killAndRestart();
    }

    // Each client sends deliveries one after another and, like a sender, retries
    // one that got no answer (same sender id) once the daemon is back.
    async function client(): Promise<void> {
      while (next < TOTAL) {
        const sourceId = `load-${String(next++).padStart(3, "0")}`;
        while (true) {
          const daemon = current;
          inFlight++;
          let answer: Answer;
          try {
            answer = await deliver(daemon.url, "load", sourceId);
          } catch (error) {
            const replacement = replacements.get(daemon);
            if (!replacement) throw error;
            await replacement;
            continue;
          } finally {
            inFlight--;
          }
          if (answer.status === 202 || (answer.status === 200 && answer.body.duplicate === true)) {
            acknowledged(sourceId, answer.status);
          } else {
            unexpected.push(`${sourceId}: ${answer.status} ${JSON.stringify(answer.body)}`);
          }
          break;
        }
      }
    }

    try {
      // Let every client and restart finish before judging, so a failure leaks no daemon.
      const clients = await Promise.allSettled(Array.from({ length: CLIENTS }, client));
      await Promise.all(replacements.values());
      for (const result of clients) if (result.status === "rejected") throw result.reason;

      assert.deepEqual(unexpected, [], `only 202 or 200 duplicate answers ${context}`);
      assert.equal(kills, KILLS, `the daemon was killed ${KILLS} times during the load ${context}`);
      assert.ok(
        inFlightAtKill.every((n) => n > 0),
        `every kill hit requests in flight: ${inFlightAtKill} ${context}`,
      );
      assert.equal(acked.size, TOTAL, `every delivery was acknowledged in the end ${context}`);

      // At least once: every acknowledged sender id is in the hook's file.
      const text = await waitForFile(
        hooked,
        (text) => {
          const seen = new Set(text.split("\n"));
          return [...acked.keys()].every((id) => seen.has(id));
        },
        40_000,
      ).catch(async (error) => {
        throw new Error(`${error.message} ${context}\n${await diagnosis(current, hooked, acked)}`);
      });
      const seen = new Set(text.split("\n").filter((line) => line !== ""));
      for (const id of acked.keys()) assert.ok(seen.has(id), `${id} reached its hook ${context}`);

      // And none is missing from `hookd deliveries`: each stored once, each run to done.
      await waitForStore(current, "every stored delivery is done", async (store) => {
        const list = await store.list({ endpoint: "load", limit: 10_000 });
        return list.length >= TOTAL && list.every((d) => d.state === "done");
      }, 30_000);
      const listed = await listDeliveries(current.envFile, ["--endpoint", "load"]);
      const bySource = new Map<string, Listed[]>();
      for (const d of listed) bySource.set(d.sourceId!, [...(bySource.get(d.sourceId!) ?? []), d]);
      for (const id of acked.keys()) {
        assert.equal(bySource.get(id)?.length, 1, `${id} is stored exactly once ${context}`);
      }
      assert.equal(listed.length, TOTAL, `no delivery stored twice ${context}`);
      // Kills landed mid-run too: such a run is recorded as interrupted and run again.
      const rerun = listed.find((d) => d.attempts > 1);
      assert.ok(rerun, `some hook run was interrupted by a kill ${context}`);
      const shown = await showDelivery(current.envFile, rerun.id);
      assert.equal(shown.runs[0].outcome, "interrupted");
      assert.equal(shown.runs.at(-1)!.outcome, "succeeded");
    } finally {
      await current.stop("SIGTERM");
    }
  },
);

// ---------------------------------------------------------------------------
// Refusals

integrationTest(
  "a delivery the store cannot commit is refused with 503 and Retry-After, and accepted after",
  async () => {
    await using dir = await tempDir("hookd_locked_");
    const out = `${dir.path}/ran.txt`;
    const hook = await hookScript(dir.path, "ran", `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${out}`);
    await using daemon = await startDaemon(daemonEnv({ store: { HOOK_PUSH: hook } }), {
      dir: dir.path,
    });
    // Another connection holds the write lock: the daemon's insert waits its busy timeout (1 s).
    const lock = new DatabaseSync(`${daemon.stateDir}/hookd.db`, { timeout: 5_000 });
    try {
      lock.exec("BEGIN IMMEDIATE");
      const refused = await deliver(daemon.url, "store", "locked-1");
      assert.equal(refused.status, 503);
      assert.match(refused.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
      await daemon.waitForRecord((r) =>
        r.type === "request" && r.outcome === "rejected.store_unavailable"
      );
      lock.exec("ROLLBACK");
    } finally {
      lock.close();
    }
    // The same sender id again: not a duplicate, because nothing was stored.
    const accepted = await deliver(daemon.url, "store", "locked-1");
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.duplicate, undefined);
    assert.deepEqual((await waitForFile(out)).split("\n"), ["locked-1", ""]);
  },
);

integrationTest(
  "at HOOKD_MAX_QUEUE waiting deliveries the next one is refused with 429 and Retry-After",
  async () => {
    await using dir = await tempDir("hookd_cap_");
    const release = `${dir.path}/release`;
    const hook = await hookScript(
      dir.path,
      "slow",
      `touch ${dir.path}/started.$HOOKD_SOURCE_DELIVERY_ID\n${gateWait(release)}\n` +
        `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${dir.path}/ran.txt`,
    );
    await using daemon = await startDaemon(
      daemonEnv({ cap: { HOOK_PUSH: hook, TIMEOUT: "30s" } }, {
        HOOKD_MAX_QUEUE: "2",
        HOOKD_MAX_CONCURRENT_HOOKS: "1",
      }),
      { dir: dir.path },
    );
    try {
      assert.equal((await deliver(daemon.url, "cap", "cap-1")).status, 202);
      // cap-1 runs (out of the queue); the next two fill it.
      await waitForFile(`${dir.path}/started.cap-1`, () => true);
      assert.equal((await deliver(daemon.url, "cap", "cap-2")).status, 202);
      assert.equal((await deliver(daemon.url, "cap", "cap-3")).status, 202);
      const full = await deliver(daemon.url, "cap", "cap-4");
      assert.equal(full.status, 429);
      assert.match(full.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
      await daemon.waitForRecord((r) =>
        r.type === "request" && r.outcome === "rejected.queue_full"
      );
    } finally {
      await Deno.writeTextFile(release, "");
    }
    await waitForFile(`${dir.path}/ran.txt`, (text) => text.split("\n").length === 4);
    assert.deepEqual(await lines(`${dir.path}/ran.txt`), ["cap-1", "cap-2", "cap-3"]);
    // The refused one was not stored: sent again once the queue drained, it is new.
    const retried = await deliver(daemon.url, "cap", "cap-4");
    assert.equal(retried.status, 202);
    assert.equal(retried.body.duplicate, undefined);
  },
);

// ---------------------------------------------------------------------------
// Duplicates, retries, serialisation, latest

integrationTest(
  "a repeated sender delivery id is answered 200 duplicate and its hook runs once",
  async () => {
    await using dir = await tempDir("hookd_dup_");
    const out = `${dir.path}/ran.txt`;
    const hook = await hookScript(dir.path, "ran", `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${out}`);
    await using daemon = await startDaemon(
      daemonEnv({ dup: { HOOK_PUSH: hook, CONCURRENCY: "1" } }),
      { dir: dir.path },
    );
    const first = await deliver(daemon.url, "dup", "same-id");
    assert.equal(first.status, 202);
    const again = await deliver(daemon.url, "dup", "same-id");
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.id, first.body.id, "the duplicate names the first delivery");
    await waitForFile(out);
    // Once the first has run, send it a third time, then a new one behind it (concurrency 1,
    // in order): had either copy been queued it would have run before the new one.
    const third = await deliver(daemon.url, "dup", "same-id");
    assert.equal(third.status, 200);
    assert.equal(third.body.duplicate, true);
    assert.equal((await deliver(daemon.url, "dup", "other-id")).status, 202);
    await waitForFile(out, (text) => text.includes("other-id"));
    assert.deepEqual(await lines(out), ["same-id", "other-id"]);
    const stored = await listDeliveries(daemon.envFile, ["--endpoint", "dup"]);
    assert.deepEqual(stored.map((d) => d.sourceId).sort(), ["other-id", "same-id"]);
    await daemon.waitForRecord((r) => r.type === "request" && r.outcome === "duplicate");
  },
);

integrationTest(
  "a failing hook is retried with growing backoff until it succeeds, every attempt recorded",
  async () => {
    await using dir = await tempDir("hookd_retry_");
    const attempts = `${dir.path}/attempts.txt`;
    // Fails on the first and second attempt, succeeds on the third.
    const hook = await hookScript(
      dir.path,
      "flaky",
      `echo attempt >> ${attempts}\n[ "$(wc -l < ${attempts})" -ge 3 ]`,
    );
    await using daemon = await startDaemon(
      daemonEnv({ flaky: { HOOK_PUSH: hook, RETRIES: "2", RETRY_BACKOFF: "300ms" } }),
      { dir: dir.path },
    );
    const answer = await deliver(daemon.url, "flaky", "retry-1");
    assert.equal(answer.status, 202);
    const shown = await waitForShown(daemon, answer.body.id as string, "done");
    assert.deepEqual(await lines(attempts), ["attempt", "attempt", "attempt"]);
    assert.deepEqual(shown.runs.map((r) => [r.attempt, r.outcome, r.exitCode]), [
      [1, "failed", 1],
      [2, "failed", 1],
      [3, "succeeded", 0],
    ]);
    assert.equal(shown.attempts, 3);
    // Equal jitter: the first retry waits 150-300 ms, the second 300-600 ms.
    const [one, two, three] = shown.runs;
    const firstWait = two.startedAt - one.endedAt!;
    const secondWait = three.startedAt - two.endedAt!;
    assert.ok(firstWait >= 150, `first retry waited ${firstWait} ms`);
    assert.ok(secondWait >= 300, `second retry waited ${secondWait} ms`);
    const retries = (await daemon.records()).filter((r) => r.message === "retry scheduled");
    assert.deepEqual(retries.map((r) => r.attempt), [1, 2]);
  },
);

integrationTest("an endpoint with CONCURRENCY=1 never runs two hooks at once", async (t) => {
  await using dir = await tempDir("hookd_serial_");
  // The lock directory: mkdir fails when another run of the same endpoint holds it.
  function lockedHook(name: string): Promise<string> {
    const base = `${dir.path}/${name}`;
    return hookScript(
      dir.path,
      name,
      [
        `if ! mkdir ${base}.lock 2>/dev/null; then echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${base}.overlaps; fi`,
        `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${base}.started`,
        // Hold the run until a second one started or 0.4 s passed, whichever first.
        `i=0; while [ "$(wc -l < ${base}.started)" -lt 2 ] && [ $i -lt 8 ]; do sleep 0.05; i=$((i+1)); done`,
        `rmdir ${base}.lock 2>/dev/null`,
        `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${base}.done`,
      ].join("\n"),
    );
  }
  await using daemon = await startDaemon(
    daemonEnv({
      serial: { HOOK_PUSH: await lockedHook("serial"), CONCURRENCY: "1" },
      parallel: { HOOK_PUSH: await lockedHook("parallel"), CONCURRENCY: "3" },
    }, { HOOKD_MAX_CONCURRENT_HOOKS: "4" }),
    { dir: dir.path },
  );
  const ids = ["s-1", "s-2", "s-3", "s-4"];

  await t.step("CONCURRENCY=1: runs one at a time, in the order received", async () => {
    const answers = [];
    for (const id of ids) answers.push(await deliver(daemon.url, "serial", id));
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 202, 202]);
    await waitForFile(`${dir.path}/serial.done`, (text) => text.split("\n").length === 5);
    assert.deepEqual(await lines(`${dir.path}/serial.overlaps`), []);
    assert.deepEqual(await lines(`${dir.path}/serial.started`), ids);
    await waitForStore(daemon, "serial runs recorded", async (store) => {
      const list = await store.list({ endpoint: "serial" });
      return list.length === 4 && list.every((d) => d.state === "done");
    });
    const stored = await listDeliveries(daemon.envFile, ["--endpoint", "serial"]);
    const runs = stored.map((d) => d.lastRun!).sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < runs.length; i++) {
      assert.ok(runs[i].startedAt >= runs[i - 1].endedAt!, `run ${i} started after run ${i - 1}`);
    }
  });

  await t.step("the same hook at CONCURRENCY=3 does overlap (the check can fail)", async () => {
    await Promise.all(["p-1", "p-2", "p-3"].map((id) => deliver(daemon.url, "parallel", id)));
    await waitForFile(`${dir.path}/parallel.done`, (text) => text.split("\n").length === 4);
    assert.ok((await lines(`${dir.path}/parallel.overlaps`)).length > 0);
  });
});

integrationTest(
  "ON_BUSY=latest: newer deliveries supersede the older waiting ones while a run goes",
  async () => {
    await using dir = await tempDir("hookd_latest_");
    const out = `${dir.path}/ran.txt`;
    const release = `${dir.path}/release`;
    const hook = await hookScript(
      dir.path,
      "deploy",
      [
        `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${out}`,
        `if [ "$HOOKD_SOURCE_DELIVERY_ID" = push-1 ]; then ${gateWait(release)}; fi`,
      ].join("\n"),
    );
    await using daemon = await startDaemon(
      daemonEnv({ deploy: { HOOK_PUSH: hook, CONCURRENCY: "1", ON_BUSY: "latest" } }),
      { dir: dir.path },
    );
    const ids: Record<string, string> = {};
    try {
      ids["push-1"] = (await deliver(daemon.url, "deploy", "push-1")).body.id as string;
      await waitForFile(out);
      for (const source of ["push-2", "push-3", "push-4"]) {
        const answer = await deliver(daemon.url, "deploy", source);
        assert.equal(answer.status, 202);
        ids[source] = answer.body.id as string;
      }
    } finally {
      await Deno.writeTextFile(release, "");
    }
    await waitForFile(out, (text) => text.includes("push-4"));
    await waitForShown(daemon, ids["push-4"], "done");
    assert.deepEqual(await lines(out), ["push-1", "push-4"]);
    const stored = await listDeliveries(daemon.envFile, ["--endpoint", "deploy"]);
    const state = Object.fromEntries(stored.map((d) => [d.sourceId, d]));
    assert.deepEqual(
      Object.fromEntries(stored.map((d) => [d.sourceId, d.state])),
      { "push-1": "done", "push-2": "superseded", "push-3": "superseded", "push-4": "done" },
    );
    // Each is superseded by a newer one: push-3 may have replaced push-2 before push-4 came.
    assert.ok([ids["push-3"], ids["push-4"]].includes(state["push-2"].supersededBy!));
    assert.equal(state["push-3"].supersededBy, ids["push-4"]);
  },
);

// ---------------------------------------------------------------------------
// Retention, replay, synchronous answers

integrationTest(
  "a restart purges finished deliveries older than HOOKD_RETENTION and keeps unfinished ones",
  async () => {
    await using dir = await tempDir("hookd_purge_");
    const out = `${dir.path}/ran.txt`;
    const release = `${dir.path}/release`;
    const hook = await hookScript(
      dir.path,
      "keep",
      [
        `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${out}`,
        `if [ "$HOOKD_SOURCE_DELIVERY_ID" = slow ]; then ${gateWait(release)}; fi`,
      ].join("\n"),
    );
    const endpoints = { keep: { HOOK_PUSH: hook, CONCURRENCY: "1" } };
    let old: string;
    let slow: string;
    {
      const daemon = await startDaemon(daemonEnv(endpoints), { dir: dir.path });
      try {
        old = (await deliver(daemon.url, "keep", "old")).body.id as string;
        await waitForShown(daemon, old, "done");
        slow = (await deliver(daemon.url, "keep", "slow")).body.id as string;
        await waitForFile(out, (text) => text.includes("slow"));
      } finally {
        // Killed while `slow` runs: it stays unfinished in the store.
        await daemon.stop("SIGKILL");
      }
    }
    await Deno.writeTextFile(release, "");
    // The purge runs at start (then hourly); a retention of 1 ms makes `old` old.
    await using daemon = await startDaemon(
      daemonEnv(endpoints, { HOOKD_RETENTION: "1ms" }),
      { dir: dir.path },
    );
    const purged = await daemon.waitForRecord((r) => r.message === "purged old deliveries");
    assert.equal(purged.count, 1);
    const shown = await waitForShown(daemon, slow, "done");
    assert.deepEqual(shown.runs.map((r) => r.outcome), ["interrupted", "succeeded"]);
    const gone = await hookd(daemon.envFile, ["show", old, "--json"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no delivery/);
    const stored = await listDeliveries(daemon.envFile);
    assert.deepEqual(stored.map((d) => d.sourceId), ["slow"]);
  },
);

integrationTest("a failed delivery replayed with hookd replay runs again", async (t) => {
  await using dir = await tempDir("hookd_replay_");
  const out = `${dir.path}/ran.txt`;
  const fixed = `${dir.path}/fixed`;
  // Fails until the `fixed` file exists.
  const hook = await hookScript(
    dir.path,
    "fragile",
    `echo "$HOOKD_SOURCE_DELIVERY_ID" >> ${out}\n[ -e ${fixed} ]`,
  );
  await using daemon = await startDaemon(
    daemonEnv({ fragile: { HOOK_PUSH: hook, RETRIES: "0", CONCURRENCY: "1" } }),
    { dir: dir.path },
  );

  await t.step("hookd replay ID: the daemon picks it up and runs it", async () => {
    const id = (await deliver(daemon.url, "fragile", "r-1")).body.id as string;
    await waitForShown(daemon, id, "failed");
    await Deno.writeTextFile(fixed, "");
    const replay = await hookd(daemon.envFile, ["replay", id]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(replay.stdout.trim(), `${id} queued`);
    await waitForFile(out, (text) => text.split("\n").length === 3);
    const shown = await waitForShown(daemon, id, "done");
    assert.deepEqual(shown.runs.map((r) => r.outcome), ["failed", "succeeded"]);
  });

  await t.step("hookd replay --state failed --since 1h: only the failed ones", async () => {
    await Deno.remove(fixed);
    const failed = [];
    for (const source of ["r-2", "r-3"]) {
      const id = (await deliver(daemon.url, "fragile", source)).body.id as string;
      await waitForShown(daemon, id, "failed");
      failed.push(id);
    }
    await Deno.writeTextFile(fixed, "");
    const replay = await hookd(daemon.envFile, ["replay", "--state", "failed", "--since", "1h"]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.deepEqual(replay.stdout.trim().split("\n"), failed.map((id) => `${id} queued`));
    for (const id of failed) await waitForShown(daemon, id, "done");
    assert.deepEqual(await lines(out), ["r-1", "r-1", "r-2", "r-3", "r-2", "r-3"]);
  });
});

integrationTest(
  "RESPOND=output answers with the hook's result: 200 on exit 0, 502 otherwise",
  async () => {
    await using dir = await tempDir("hookd_sync_");
    const hook = await hookScript(
      dir.path,
      "build",
      [
        `echo "built $HOOKD_SOURCE_DELIVERY_ID"`,
        `case "$HOOKD_SOURCE_DELIVERY_ID" in fail-*) echo broke >&2; exit 3;; esac`,
      ].join("\n"),
    );
    await using daemon = await startDaemon(
      daemonEnv({ sync: { HOOK_PUSH: hook, RESPOND: "output" } }),
      { dir: dir.path },
    );
    const ok = await deliver(daemon.url, "sync", "ok-1");
    assert.equal(ok.status, 200);
    assert.equal(ok.body.exitCode, 0);
    assert.equal(ok.body.success, true);
    assert.equal(ok.body.stdout, "built ok-1\n");

    const bad = await deliver(daemon.url, "sync", "fail-1");
    assert.equal(bad.status, 502);
    assert.equal(bad.body.exitCode, 3);
    assert.equal(bad.body.success, false);
    assert.equal(bad.body.stderr, "broke\n");

    // Stored first, like any delivery.
    const stored = await listDeliveries(daemon.envFile, ["--endpoint", "sync"]);
    assert.deepEqual(
      Object.fromEntries(stored.map((d) => [d.sourceId, d.state])),
      { "ok-1": "done", "fail-1": "failed" },
    );
  },
);
