/**
 * Tests for the process-group signaller: one helper shell for many requests,
 * replaced when it dies, one-off shells once it is closed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createGroupSignaller } from "../../lib/dispatch/mod.ts";
import { processStartTime } from "../../lib/dispatch/group_signaller.ts";

/** The pids of this process's children whose command line contains `marker`. */
async function childrenMatching(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const task of Deno.readDir(`/proc/${Deno.pid}/task`)) {
    let list: string;
    try {
      list = await Deno.readTextFile(`/proc/${Deno.pid}/task/${task.name}/children`);
    } catch (err) {
      // A thread (Deno starts and ends them) may be gone by now.
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    for (const pid of list.split(" ").filter((p) => p !== "").map(Number)) {
      try {
        const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
        if (cmdline.includes(marker)) pids.push(pid);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  }
  return pids;
}

/**
 * Start `sleep 300` as the leader of a new process group; returns once the
 * group exists (setsid calls setsid() a moment after the spawn), so its pid
 * is the group id.
 */
async function sleeperGroup(): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("/usr/bin/setsid", {
    args: ["/bin/sh", "-c", "exec sleep 300"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  while (processGroupOf(child.pid) !== child.pid) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return child;
}

/** The process group of `pid`, from `/proc/<pid>/stat` (the fifth field, after the command). */
function processGroupOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

Deno.test("createGroupSignaller() signals and inspects process groups through one shell", async (t) => {
  await using groups = createGroupSignaller();
  const marker = "group_alive";

  await t.step("nothing is spawned before the first request", async () => {
    assert.deepEqual(await childrenMatching(marker), []);
  });

  await t.step("a live group: alive, then SIGTERM reaches it", async () => {
    const sleeper = await sleeperGroup();
    assert.equal(await groups.alive(sleeper.pid), true);
    assert.equal(await groups.signal(sleeper.pid, "TERM"), true);
    assert.equal((await sleeper.status).signal, "SIGTERM");
    assert.equal(await groups.alive(sleeper.pid), false);
    assert.equal(await groups.signal(sleeper.pid, "KILL"), false);
  });

  await t.step("many requests, concurrent or not, use the same shell", async () => {
    const before = await childrenMatching(marker);
    assert.equal(before.length, 1);
    const sleeper = await sleeperGroup();
    const answers = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => i % 2 ? groups.alive(sleeper.pid) : groups.alive(2 ** 22 + i),
      ),
    );
    assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => i % 2 === 1));
    assert.equal(await groups.signal(sleeper.pid, "KILL"), true);
    assert.equal((await sleeper.status).signal, "SIGKILL");
    assert.deepEqual(await childrenMatching(marker), before);
  });

  await t.step("a shell that died is replaced, and no request is lost", async () => {
    const [shell] = await childrenMatching(marker);
    const sleeper = await sleeperGroup();
    Deno.kill(shell, "SIGKILL");
    // Whichever request meets the dead shell, every answer is still right.
    assert.equal(await groups.alive(sleeper.pid), true);
    assert.equal(await groups.signal(sleeper.pid, "TERM"), true);
    assert.equal((await sleeper.status).signal, "SIGTERM");
    assert.equal(await groups.alive(sleeper.pid), false);
    const now = await childrenMatching(marker);
    assert.equal(now.length, 1);
    assert.notEqual(now[0], shell);
  });

  await t.step("a pgid that would reach hookd's own group or every process throws", () => {
    for (const pgid of [0, 1, -5, 1.5, Number.NaN]) {
      assert.throws(() => groups.signal(pgid, "TERM"), RangeError);
      assert.throws(() => groups.alive(pgid), RangeError);
    }
  });

  await t.step("closed: the shell is gone and requests still get answers", async () => {
    await groups.close();
    assert.deepEqual(await childrenMatching(marker), []);
    const sleeper = await sleeperGroup();
    assert.equal(await groups.alive(sleeper.pid), true);
    assert.equal(await groups.signal(sleeper.pid, "KILL"), true);
    assert.equal((await sleeper.status).signal, "SIGKILL");
    assert.deepEqual(await childrenMatching(marker), []);
  });
});

Deno.test("startTime() reads field 22 of /proc/<pid>/stat, through the shell or a one-off one", async (t) => {
  const sleeper = await sleeperGroup();
  try {
    const stat = Deno.readTextFileSync(`/proc/${sleeper.pid}/stat`);
    const expected = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    assert.ok(expected > 0);
    await t.step("from the signaller's shell", async () => {
      await using groups = createGroupSignaller();
      assert.equal(await groups.startTime(sleeper.pid), expected);
      assert.equal(await processStartTime(sleeper.pid, groups), expected);
    });
    await t.step("from a one-off shell", async () => {
      assert.equal(await processStartTime(sleeper.pid, undefined), expected);
    });
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
  await t.step("a process that is gone has none", async () => {
    await using groups = createGroupSignaller();
    // Reaped above, and pids are not reused this soon.
    assert.equal(await groups.startTime(sleeper.pid), null);
    assert.equal(await processStartTime(sleeper.pid, undefined), null);
  });
});
