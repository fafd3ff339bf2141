/**
 * Tests for reading processes' start times: one helper shell for many reads,
 * replaced when it dies, one-off shells once it is closed or without one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createStartTimeReader, processStartTime } from "../../lib/dispatch/start_time.ts";

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

/** Field 22 of `/proc/<pid>/stat`, read by this test (which may). */
function startTimeOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

function sleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", { args: ["300"], stdin: "null", stdout: "null" }).spawn();
}

Deno.test("createStartTimeReader() reads start times through one shell", async (t) => {
  await using reader = createStartTimeReader();
  const marker = "start_time";
  const sleepers = [sleeper(), sleeper()];
  try {
    await t.step("nothing is spawned before the first read", async () => {
      assert.deepEqual(await childrenMatching(marker), []);
    });

    await t.step(
      "many reads, concurrent or not, use the same shell and get the right answers",
      async () => {
        const expected = sleepers.map((s) => startTimeOf(s.pid));
        assert.ok(expected.every((ticks) => ticks > 0));
        assert.equal(await reader.read(sleepers[0].pid), expected[0]);
        const shells = await childrenMatching(marker);
        assert.equal(shells.length, 1);
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => reader.read(i % 2 ? sleepers[1].pid : 2 ** 22 + i)),
        );
        assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => i % 2 ? expected[1] : null));
        assert.deepEqual(await childrenMatching(marker), shells);
      },
    );

    await t.step("a shell that died is replaced, and no read is lost", async () => {
      const [shell] = await childrenMatching(marker);
      Deno.kill(shell, "SIGKILL");
      // Whichever read meets the dead shell, every answer is still right.
      assert.equal(await reader.read(sleepers[0].pid), startTimeOf(sleepers[0].pid));
      assert.equal(await reader.read(sleepers[1].pid), startTimeOf(sleepers[1].pid));
      const now = await childrenMatching(marker);
      assert.equal(now.length, 1);
      assert.notEqual(now[0], shell);
    });

    await t.step("a pid of 0, 1 or less throws", async () => {
      for (const pid of [0, 1, -5, 1.5, Number.NaN]) {
        await assert.rejects(reader.read(pid), RangeError);
        await assert.rejects(processStartTime(pid), RangeError);
      }
    });

    await t.step("closed: the shell is gone and reads still get answers", async () => {
      await reader.close();
      assert.deepEqual(await childrenMatching(marker), []);
      assert.equal(await reader.read(sleepers[0].pid), startTimeOf(sleepers[0].pid));
      assert.deepEqual(await childrenMatching(marker), []);
    });

    await t.step("without a reader, a one-off shell", async () => {
      assert.equal(await processStartTime(sleepers[1].pid), startTimeOf(sleepers[1].pid));
    });
  } finally {
    for (const s of sleepers) {
      s.kill("SIGKILL");
      await s.status;
    }
  }
  await t.step("a process that is gone has none", async () => {
    // Reaped above, and pids are not reused this soon.
    assert.equal(await processStartTime(sleepers[0].pid), null);
    await using fresh = createStartTimeReader();
    assert.equal(await fresh.read(sleepers[0].pid), null);
  });
});
