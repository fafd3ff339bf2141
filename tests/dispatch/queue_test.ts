/**
 * Tests for the durable dispatcher.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  createQueue,
  type HookRunner,
  type HookRunResult,
  QueueClosedError,
  type QueueOptions,
  runHook,
  type RunHookOptions,
} from "../../lib/dispatch/mod.ts";
import { openStore } from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import {
  EventLog,
  failure,
  firstRunWaits,
  gate,
  harness,
  insertAll,
  outcome,
  planWith,
} from "./_queue_harness.ts";

const encoder = new TextEncoder();

Deno.test("createQueue() rejects invalid limits and policies when built", async () => {
  await using h = await harness({ start: false });
  const build = (options: Partial<QueueOptions>) => () =>
    createQueue(h.store, {
      run: () => Promise.resolve(outcome()),
      plan: planWith(() => ({})),
      maxConcurrent: 1,
      endpoints: new Map(),
      payloadDir: h.dir,
      ...options,
    });
  assert.throws(build({ maxConcurrent: 0 }), /maxConcurrent must be a positive integer: got 0/);
  const policy = (p: object) => ({
    endpoints: new Map([["deploy", {
      concurrency: 1,
      retries: 0,
      onBusy: "queue" as const,
      ...p,
    }]]),
  });
  assert.throws(build(policy({ concurrency: 1.5 })), /endpoint deploy: concurrency/);
  assert.throws(build(policy({ retries: -1 })), /endpoint deploy: retries/);
  assert.throws(build(policy({ onBusy: "drop" })), /onBusy must be "queue" or "latest"/);
});

Deno.test("a failing hook is retried with exponential backoff until it succeeds", async (t) => {
  await t.step("counted attempts, growing delays, then done", async () => {
    let calls = 0;
    await using h = await harness({
      run: () => Promise.resolve(++calls < 3 ? failure() : outcome({ stdout: "deployed" })),
      endpoints: new Map([["deploy", {
        concurrency: 1,
        retries: 3,
        backoffMs: 40,
        onBusy: "queue",
      }]]),
      random: () => 0,
    });
    const [id] = await insertAll(h, [delivery()]);
    await h.events.ended(id, "done");
    assert.equal(calls, 3);
    const detail = (await h.store.get(id))!;
    assert.equal(detail.state, "done");
    assert.equal(detail.attempts, 3);
    assert.deepEqual(detail.runs.map((r) => [r.attempt, r.outcome]), [
      [1, "failed"],
      [2, "failed"],
      [3, "succeeded"],
    ]);
    assert.equal(detail.runs[2].stdout, "deployed");
    // With no jitter the delays are half of 40 and of 80 ms.
    assert.ok(detail.runs[1].startedAt - detail.runs[0].endedAt! >= 20, "first backoff");
    assert.ok(detail.runs[2].startedAt - detail.runs[1].endedAt! >= 40, "second backoff");
    const retries = h.events.events.filter((e) => e.type === "run-end" && e.retryAt !== null);
    assert.equal(retries.length, 2);
  });

  await t.step("retries spent: the delivery ends failed", async () => {
    let calls = 0;
    await using h = await harness({
      run: () =>
        Promise.resolve(
          ++calls === 2 ? outcome({ success: false, exitCode: null, timedOut: true }) : failure(7),
        ),
      endpoints: new Map([["deploy", {
        concurrency: 1,
        retries: 2,
        backoffMs: 1,
        onBusy: "queue",
      }]]),
    });
    const [id] = await insertAll(h, [delivery()]);
    await h.events.ended(id, "failed");
    assert.equal(calls, 3);
    const detail = (await h.store.get(id))!;
    assert.equal(detail.failures, 3);
    assert.deepEqual(detail.runs.map((r) => r.outcome), ["failed", "timed_out", "failed"]);
    assert.equal(detail.runs[2].exitCode, 7);
  });

  await t.step("a runner that throws counts as a failed run", async () => {
    await using h = await harness({ run: () => Promise.reject(new Error("spawn failed")) });
    const [id] = await insertAll(h, [delivery()]);
    await h.events.ended(id, "failed");
    assert.equal((await h.store.get(id))!.runs[0].error, "spawn failed");
  });
});

Deno.test("no more than maxConcurrent hooks run at once", async () => {
  let active = 0;
  let peak = 0;
  const run: HookRunner = async () => {
    peak = Math.max(peak, ++active);
    // Long enough for runs to overlap if the cap let them.
    await new Promise((resolve) => setTimeout(resolve, 5));
    active--;
    return outcome();
  };
  const policy = { concurrency: 10, retries: 0, onBusy: "queue" as const };
  await using h = await harness({
    run,
    maxConcurrent: 2,
    endpoints: new Map([["a", policy], ["b", policy], ["c", policy]]),
  });
  const ids = await insertAll(
    h,
    Array.from({ length: 12 }, (_, i) => delivery({ endpoint: ["a", "b", "c"][i % 3] })),
  );
  await Promise.all(ids.map((id) => h.events.ended(id, "done")));
  assert.equal(peak, 2);
});

Deno.test("with every slot taken, what arrives waits, then runs at once in order", async () => {
  const { first, ran, run } = firstRunWaits();
  await using h = await harness({
    run,
    maxConcurrent: 1,
    endpoints: new Map([["deploy", { concurrency: 4, retries: 0, onBusy: "queue" }]]),
    // No poll during the test: every start below comes from notify() or a finished run.
    pollIntervalMs: 3_600_000,
  });
  const [d1] = await insertAll(h, [delivery()]);
  await h.events.started(d1);
  const waiting: string[] = [];
  for (let i = 0; i < 5; i++) waiting.push(...await insertAll(h, [delivery()]));
  assert.deepEqual(ran, [d1], "nothing else starts while the one slot is taken");
  first.open();
  await Promise.all(waiting.map((id) => h.events.ended(id, "done")));
  assert.deepEqual(ran, [d1, ...waiting]);
});

Deno.test("onBusy latest with every slot taken: the poll supersedes waiting deliveries", async () => {
  const { first, ran, run } = firstRunWaits();
  await using h = await harness({
    run,
    maxConcurrent: 1,
    pollIntervalMs: 20,
    endpoints: new Map([["deploy", { concurrency: 1, retries: 0, onBusy: "latest" }]]),
  });
  const [d1] = await insertAll(h, [delivery()]);
  await h.events.started(d1);
  const [d2, d3] = await insertAll(h, [delivery(), delivery()]);
  const settled = await h.queue.waitForRun(d2);
  assert.equal(settled.state, "superseded");
  assert.equal(settled.supersededBy, d3);
  assert.deepEqual(ran, [d1], "superseded while the first run still holds the only slot");
  first.open();
  await h.events.ended(d3, "done");
  assert.deepEqual(ran, [d1, d3]);
});

Deno.test("an endpoint with concurrency 1 runs one hook at a time, in order", async () => {
  const order: string[] = [];
  const active = new Map<string, number>();
  let deployPeak = 0;
  let globalPeak = 0;
  let total = 0;
  const run: HookRunner = async (_command, options) => {
    const endpoint = options.env.ENDPOINT;
    active.set(endpoint, (active.get(endpoint) ?? 0) + 1);
    globalPeak = Math.max(globalPeak, ++total);
    if (endpoint === "deploy") {
      deployPeak = Math.max(deployPeak, active.get(endpoint)!);
      order.push(options.env.HOOKD_DELIVERY_ID);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    active.set(endpoint, active.get(endpoint)! - 1);
    total--;
    return outcome();
  };
  await using h = await harness({
    run,
    plan: planWith((d) => ({ HOOKD_DELIVERY_ID: d.id, ENDPOINT: d.endpoint })),
    maxConcurrent: 4,
    endpoints: new Map([
      ["deploy", { concurrency: 1, retries: 0, onBusy: "queue" }],
      ["ci", { concurrency: 3, retries: 0, onBusy: "queue" }],
    ]),
  });
  const deploys = await insertAll(h, Array.from({ length: 6 }, () => delivery()));
  const ci = await insertAll(h, Array.from({ length: 6 }, () => delivery({ endpoint: "ci" })));
  await Promise.all([...deploys, ...ci].map((id) => h.events.ended(id, "done")));
  assert.equal(deployPeak, 1);
  assert.deepEqual(order, deploys);
  assert.equal(globalPeak, 4, "other endpoints use the remaining slots meanwhile");
});

Deno.test("onBusy latest: newer deliveries supersede older waiting ones while a run is going", async () => {
  const { first, ran, run } = firstRunWaits();
  await using h = await harness({
    run,
    endpoints: new Map([["deploy", { concurrency: 1, retries: 0, onBusy: "latest" }]]),
  });
  const [d1] = await insertAll(h, [delivery()]);
  await h.events.started(d1);
  const [d2] = await insertAll(h, [delivery()]);
  const d2Settled = h.queue.waitForRun(d2);
  const [d3, d4] = await insertAll(h, [delivery(), delivery()]);
  const settled = await d2Settled;
  assert.equal(settled.state, "superseded");
  assert.equal(settled.run, null);
  first.open();
  await h.events.ended(d4, "done");
  assert.deepEqual(ran, [d1, d4]);
  assert.equal((await h.store.get(d1))?.state, "done");
  for (const id of [d2, d3]) {
    const detail = (await h.store.get(id))!;
    assert.equal(detail.state, "superseded");
    assert.equal(detail.supersededBy, d4);
    assert.equal(detail.runs.length, 0);
  }
});

Deno.test("waitForRun() reports the run's exit status and output", async (t) => {
  const runs = [{ ...failure(3), stdout: "bad" }, outcome({ stdout: "fine" })];
  await using h = await harness({
    run: () => Promise.resolve(runs.shift() ?? outcome()),
    endpoints: new Map([["deploy", { concurrency: 1, retries: 1, backoffMs: 1, onBusy: "queue" }]]),
    start: false,
  });
  const { id } = await h.store.insert(delivery());

  await t.step("the next run's result, even when a retry follows", async () => {
    const waiting = h.queue.waitForRun(id);
    await h.queue.start();
    const settled = await waiting;
    assert.equal(settled.state, "queued");
    assert.equal(settled.run?.exitCode, 3);
    assert.equal(settled.run?.stdout, "bad");
  });

  await t.step("a finished delivery answers at once with its last run", async () => {
    await h.events.ended(id, "done");
    const settled = await h.queue.waitForRun(id);
    assert.equal(settled.state, "done");
    assert.equal(settled.run?.exitCode, 0);
    assert.equal(settled.run?.attempt, 2);
  });

  await t.step("an unknown id and an aborted wait reject", async () => {
    await assert.rejects(h.queue.waitForRun("nope"), RangeError);
    const { id: other } = await h.store.insert(delivery({ endpoint: "parked" }));
    const controller = new AbortController();
    const waiting = h.queue.waitForRun(other, { signal: controller.signal });
    controller.abort(new Error("client went away"));
    await assert.rejects(waiting, /client went away/);
  });
});

Deno.test("a delivery replayed by another process runs within the poll interval", async () => {
  let calls = 0;
  await using h = await harness({
    run: () => Promise.resolve(++calls === 1 ? failure() : outcome()),
    pollIntervalMs: 50,
  });
  const [id] = await insertAll(h, [delivery()]);
  await h.events.ended(id, "failed");
  {
    await using cli = openStore(h.store.path);
    assert.deepEqual((await cli.requeue([id])).requeued, [id]);
  }
  await h.events.ended(id, "done");
  const detail = (await h.store.get(id))!;
  assert.deepEqual(detail.runs.map((r) => r.outcome), ["failed", "succeeded"]);
});

Deno.test("start() reruns a delivery a crashed daemon left running", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd_queue_" });
  try {
    let id: string;
    {
      // The "crashed" daemon: it claimed the delivery and never recorded the end.
      await using crashed = openStore(`${dir}/hookd.db`);
      id = (await crashed.insert(delivery())).id;
      assert.ok(await crashed.claim(id));
    }
    await using store = openStore(`${dir}/hookd.db`);
    const events = new EventLog();
    await using queue = createQueue(store, {
      run: () => Promise.resolve(outcome()),
      plan: planWith(() => ({})),
      maxConcurrent: 1,
      endpoints: new Map(),
      payloadDir: dir,
      purgeIntervalMs: 0,
      onEvent: events.push,
    });
    await queue.start();
    assert.deepEqual(events.events[0], { type: "recovered", count: 1 });
    await events.ended(id, "done");
    assert.deepEqual((await store.get(id))!.runs.map((r) => r.outcome), [
      "interrupted",
      "succeeded",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close() aborts hooks still running after its timeout and leaves work queued", async () => {
  const aborted: string[] = [];
  const run = (_command: string, options: RunHookOptions): Promise<HookRunResult> => {
    const { promise, resolve } = Promise.withResolvers<HookRunResult>();
    options.signal!.addEventListener("abort", () => {
      aborted.push(options.env.HOOKD_DELIVERY_ID);
      resolve(outcome({ success: false, aborted: true, exitCode: null, signal: "SIGTERM" }));
    });
    return promise;
  };
  await using h = await harness({ run, maxConcurrent: 1 });
  const [running, waiting] = await insertAll(h, [delivery(), delivery({ endpoint: "other" })]);
  await h.events.started(running);
  const settled = h.queue.waitForRun(waiting);
  assert.deepEqual(h.queue.runningIds(), [running]);
  await h.queue.close({ timeoutMs: 20 });
  await assert.rejects(settled, QueueClosedError);
  assert.deepEqual(aborted, [running]);
  const detail = (await h.store.get(running))!;
  assert.equal(detail.state, "queued", "it runs again at the next start");
  assert.equal(detail.failures, 0, "a shutdown is not the hook's failure");
  assert.deepEqual(detail.runs.map((r) => [r.outcome, r.signal]), [["aborted", "SIGTERM"]]);
  assert.equal((await h.store.get(waiting))?.state, "queued");
  assert.equal((await h.store.get(waiting))?.attempts, 0);
  h.queue.notify();
  assert.deepEqual(h.queue.runningIds(), []);
});

Deno.test("a run that cannot be recorded keeps its slot and is recorded once the store is back", async () => {
  const release = gate();
  await using h = await harness({
    run: async () => {
      await release.wait();
      return outcome();
    },
    pollIntervalMs: 20,
    storeOptions: { busyTimeoutMs: 5 },
  });
  const [id] = await insertAll(h, [delivery()]);
  await h.events.started(id);
  using lock = new DatabaseSync(h.store.path);
  lock.exec("BEGIN IMMEDIATE");
  release.open();
  await h.events.waitFor((e) => e.type === "error" && e.during === "record" && e.id === id);
  assert.deepEqual(h.queue.runningIds(), [id]);
  lock.exec("ROLLBACK");
  await h.events.ended(id, "done");
  assert.equal((await h.store.get(id))?.state, "done");
});

Deno.test("the queue purges deliveries older than the retention in the background", async () => {
  const now = Date.now();
  await using h = await harness({
    purgeIntervalMs: 60_000,
    storeOptions: { retentionMs: 1000 },
    start: false,
  });
  const old = await h.store.insert(delivery({ receivedAt: now - 5000, hook: null }));
  const recent = await h.store.insert(delivery({ receivedAt: now, hook: null }));
  await h.queue.start();
  await h.events.waitFor((e) => e.type === "purged" && e.count === 1);
  assert.equal(await h.store.get(old.id), null);
  assert.equal((await h.store.get(recent.id))?.state, "ignored");
});

Deno.test("a delivery its plan gives nothing to run is recorded as a skipped run, in the plan's state", async () => {
  const commands: string[] = [];
  await using h = await harness({
    run: (command) => {
      commands.push(command);
      return Promise.resolve(outcome());
    },
    plan: (d) =>
      d.event === "push"
        ? { skip: { state: "ignored" }, reason: "no hook is configured for push now" }
        : {
          skip: { state: "filtered", filteredBy: "HOOKD_X_MATCH_PR: ref=main" },
          reason: "filtered",
        },
  });
  const [ignored, filtered] = await insertAll(h, [
    delivery({ event: "push" }),
    delivery({ event: "pull_request" }),
  ]);
  await h.events.ended(ignored, "ignored");
  await h.events.ended(filtered, "filtered");
  assert.deepEqual(commands, []);
  const detail = (await h.store.get(ignored))!;
  assert.deepEqual(detail.runs.map((r) => [r.outcome, r.error]), [
    ["skipped", "no hook is configured for push now"],
  ]);
  assert.equal((await h.store.get(filtered))?.filteredBy, "HOOKD_X_MATCH_PR: ref=main");
});

Deno.test("hooks run by the real runner receive the body on stdin and their environment", async () => {
  await using h = await harness({
    run: runHook,
    start: false,
    plan: planWith((d) => ({
      PATH: "/usr/bin:/bin",
      HOOKD_DELIVERY_ID: d.id,
      LOG: `${h.dir}/ids`,
    })),
  });
  const ids = await insertAll(h, [
    delivery({
      body: encoder.encode("one"),
      hook: 'cat > "$LOG.$HOOKD_DELIVERY_ID"; echo "$HOOKD_DELIVERY_ID" >> "$LOG"',
    }),
    delivery({
      body: encoder.encode("two"),
      hook: 'echo "$HOOKD_DELIVERY_ID" >> "$LOG"; echo nope >&2; exit 4',
    }),
  ]);
  await h.queue.start();
  await h.events.ended(ids[0], "done");
  await h.events.ended(ids[1], "failed");
  assert.equal(await Deno.readTextFile(`${h.dir}/ids`), `${ids[0]}\n${ids[1]}\n`);
  assert.equal(await Deno.readTextFile(`${h.dir}/ids.${ids[0]}`), "one");
  const failed = (await h.store.get(ids[1]))!.runs[0];
  assert.equal(failed.exitCode, 4);
  assert.equal(failed.stderr, "nope\n");
});

Deno.test("the queue's runs kill what each hook left in its group, and record the group", async () => {
  const seen: number[] = [];
  await using h = await harness({
    run: (command, options) => {
      const onSpawn = options.onSpawn;
      return runHook(command, {
        ...options,
        killGraceMs: 300,
        onSpawn: (group) => {
          seen.push(group.pgid);
          onSpawn?.(group);
        },
      });
    },
    start: false,
    plan: planWith((d) => ({ PATH: "/usr/bin:/bin", HOOKD_DELIVERY_ID: d.id, OUT: h.dir })),
  });
  // Each hook leaves a child behind that holds no pipe of its own and ignores SIGTERM; only
  // if nothing kills it does it live to leave its mark.
  const hook =
    '(trap "" TERM; sleep 300; : > "$OUT/$HOOKD_DELIVERY_ID.outlived") >/dev/null 2>&1 & ' +
    'echo $! > "$OUT/$HOOKD_DELIVERY_ID"';
  const ids = await insertAll(h, [delivery({ hook }), delivery({ hook })]);
  await h.queue.start();
  for (const id of ids) {
    await h.events.ended(id, "done");
    const pid = Number((await Deno.readTextFile(`${h.dir}/${id}`)).trim());
    assert.ok(pid > 1);
    await stopped(pid);
    assert.equal(
      await exists(`${h.dir}/${id}.outlived`),
      false,
      `the child ${pid} of ${id} outlived its hook`,
    );
  }
  assert.equal(seen.length, 2, "the queue asks for every run's group");
});

/**
 * Resolves once `pid` has stopped (gone, or a zombie). No deadline: the child's own end is
 * the bound, and the test then asks how it ended.
 */
async function stopped(pid: number): Promise<void> {
  for (;;) {
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("an idle queue polls thirty times slower than a busy one, and sets no shorter timer", async (t) => {
  const original = globalThis.setTimeout;
  const delays: number[] = [];
  let onSchedule = () => {};
  const originalInterval = globalThis.setInterval;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    onSchedule();
    return original(fn, ms);
  }) as typeof setTimeout;
  globalThis.setInterval = ((fn: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    onSchedule();
    return originalInterval(fn, ms);
  }) as typeof setInterval;
  const polls = () => delays.filter((d) => d > 0 && d < 3_600_000);
  /**
   * Resolves once a timer of `ms` has been set `times` times since `from`; rejects once 20 more
   * timers than that were set without it (the poll keeps setting timers, so a wrong interval fails
   * the step instead of hanging the test).
   */
  const scheduled = (ms: number, times: number, from = 0) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        const since = delays.slice(from);
        if (since.filter((d) => d === ms).length >= times) {
          onSchedule = () => {};
          resolve();
        } else if (since.length > times + 20) {
          onSchedule = () => {};
          reject(new Error(`no ${times} timers of ${ms} ms among ${since.join(", ")}`));
        }
      };
      onSchedule = check;
      check();
    });
  try {
    const { first, run } = firstRunWaits();
    await using h = await harness({ run, maxConcurrent: 1, pollIntervalMs: 10 });

    await t.step("idle: polls every 300 ms, and no timer is shorter", async () => {
      // The first poll's timer (the purge's is an hour), then the one it sets again after it ran.
      await new Promise<void>((resolve) => {
        onSchedule = () => polls().length > 0 && resolve();
        onSchedule();
      });
      assert.deepEqual(polls(), [300]);
      await scheduled(300, 2);
      assert.deepEqual(delays.filter((d) => d > 0 && d < 300), []);
    });

    await t.step("a hook running: polls every 10 ms", async () => {
      const [d1] = await insertAll(h, [delivery()]);
      await h.events.started(d1);
      await scheduled(10, 2, delays.length);
      first.open();
      await h.events.ended(d1, "done");
    });

    await t.step("idle again: back to every 300 ms", async () => {
      await scheduled(300, 2, delays.length);
    });
  } finally {
    globalThis.setTimeout = original;
    globalThis.setInterval = originalInterval;
  }
});
