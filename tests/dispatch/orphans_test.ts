/**
 * Tests for ending what a crashed daemon left running: a recorded hook group
 * is terminated only while its leader is the process recorded (same pid,
 * started when recorded, within two seconds), and every payload file is swept.
 *
 * @module
 */

import assert from "node:assert/strict";
import { statFields } from "../_proc.ts";
import { endOrphanedRuns } from "../../lib/dispatch/orphans.ts";
import { openStore, type Store } from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import { tempDir } from "../harness.ts";

/** `sleep 300` leading a new process group; returns once the group exists. */
async function sleeperGroup(): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("/usr/bin/setsid", {
    args: ["/bin/sh", "-c", "exec sleep 300"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  while (statFields(child.pid)?.[2] !== String(child.pid)) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return child;
}

/** When a process started, epoch ms, as this test (which may read /proc) computes it. */
async function startedAt(pid: number): Promise<number> {
  const btime = Number((await Deno.readTextFile("/proc/stat")).match(/^btime (\d+)$/m)![1]);
  return (btime + Number(statFields(pid)![19]) / 100) * 1000;
}

/** A delivery claimed by a daemon that then died: its run is still `running`. */
async function claimedRun(store: Store): Promise<number> {
  const { id } = await store.insert(delivery());
  const claimed = await store.claim(id);
  assert.ok(claimed);
  return claimed.runId;
}

Deno.test("endOrphanedRuns() leaves alone a group whose leader's start time does not match", async () => {
  await using dir = await tempDir();
  await using store = openStore(`${dir.path}/hookd.db`);
  const sleeper = await sleeperGroup();
  try {
    const runId = await claimedRun(store);
    const startTime = Number(statFields(sleeper.pid)![19]);
    // The pid as recorded, but a process started 10 s earlier: the pid was reused.
    const leaderStartTime = await startedAt(sleeper.pid) - 10_000;
    await store.recordProcessGroup({ runId }, { pgid: sleeper.pid, leaderStartTime });
    const ended = await endOrphanedRuns(store, {
      payloadDir: dir.path,
      killGraceMs: 100,
    });
    assert.deepEqual(ended.terminated, []);
    assert.deepEqual(ended.leftAlone.map((g) => [g.runId, g.pgid, g.reason]), [
      [runId, sleeper.pid, "started at another time"],
    ]);
    assert.equal(await store.recover(), 1);
    // Still running, with the same start time: the same process, untouched.
    const fields = statFields(sleeper.pid);
    assert.ok(fields !== null && fields[0] !== "Z", `state ${fields?.[0]}`);
    assert.equal(Number(fields[19]), startTime);
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
});

Deno.test("endOrphanedRuns() terminates a group still led by the recorded process", async (t) => {
  await using dir = await tempDir();
  await using store = openStore(`${dir.path}/hookd.db`);
  const sleeper = await sleeperGroup();
  try {
    const runId = await claimedRun(store);
    // As the runner records it: the time just before the spawn.
    const leaderStartTime = await startedAt(sleeper.pid) - 300;
    await store.recordProcessGroup({ runId }, { pgid: sleeper.pid, leaderStartTime });
    assert.deepEqual(
      (await store.runningGroups()).map((g) => [g.runId, g.pgid, g.leaderStartTime]),
      [
        [runId, sleeper.pid, leaderStartTime],
      ],
    );
    const orphan = `${dir.path}/hookd-payload-${"ab".repeat(16)}`;
    const leftovers = [orphan];
    const other = `${dir.path}/notes.txt`;
    const almost = `${dir.path}/hookd-payload-${"cd".repeat(16)}.log`;
    for (const path of leftovers) await Deno.writeTextFile(path, "{}");
    await Deno.writeTextFile(other, "kept");
    await Deno.writeTextFile(almost, "kept");

    const ended = await endOrphanedRuns(store, {
      payloadDir: dir.path,
      killGraceMs: 5000,
    });

    await t.step("the group gets SIGTERM", async () => {
      assert.deepEqual(ended.terminated.map((g) => g.runId), [runId]);
      assert.deepEqual(ended.leftAlone, []);
      assert.equal((await sleeper.status).signal, "SIGTERM");
    });
    await t.step("payload files are swept, nothing else", async () => {
      assert.deepEqual([...ended.payloadFiles].sort(), [...leftovers].sort());
      for (const path of leftovers) await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
      assert.equal(await Deno.readTextFile(other), "kept");
      assert.equal(await Deno.readTextFile(almost), "kept");
    });
    await t.step("recovery then requeues the delivery; its run no longer counts", async () => {
      assert.equal(await store.recover(), 1);
      assert.deepEqual(await store.runningGroups(), []);
    });
  } finally {
    try {
      sleeper.kill("SIGKILL");
    } catch { /* already gone */ }
    await sleeper.status;
  }
});

Deno.test("recordProcessGroup() ignores a run that already ended", async () => {
  await using dir = await tempDir();
  await using store = openStore(`${dir.path}/hookd.db`);
  const { id } = await store.insert(delivery());
  const claimed = (await store.claim(id))!;
  await store.finishRun(claimed, {
    outcome: "succeeded",
    endedAt: Date.now(),
    durationMs: 1,
    exitCode: 0,
    signal: null,
    stdout: "",
    stderr: "",
    stdoutTruncated: false,
    stderrTruncated: false,
  }, { state: "done" });
  await store.recordProcessGroup(claimed, { pgid: 12345, leaderStartTime: 1 });
  assert.deepEqual(await store.runningGroups(), []);
});
