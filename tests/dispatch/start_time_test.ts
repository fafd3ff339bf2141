/**
 * Tests for reading processes' start times: one helper shell for many reads,
 * replaced when it dies, one-off shells once it is closed or without one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createStartTimeReader, processStartTime } from "../../lib/dispatch/start_time.ts";

/**
 * Whether a process is alive and a child of this one. Test files share one
 * process under `deno test --parallel`, so this test looks only at the shell
 * its own reader names, never at every child that looks like one.
 */
function isOurChild(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] !== "Z" && Number(fields[1]) === Deno.pid;
  } catch {
    return false;
  }
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
  const sleepers = [sleeper(), sleeper()];
  try {
    await t.step("nothing is spawned before the first read", () => {
      assert.equal(reader.pid, undefined);
    });

    await t.step(
      "many reads, concurrent or not, use the same shell and get the right answers",
      async () => {
        const expected = sleepers.map((s) => startTimeOf(s.pid));
        assert.ok(expected.every((ticks) => ticks > 0));
        assert.equal(await reader.read(sleepers[0].pid), expected[0]);
        const shell = reader.pid;
        assert.ok(isOurChild(shell), "the helper shell runs");
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => reader.read(i % 2 ? sleepers[1].pid : 2 ** 22 + i)),
        );
        assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => i % 2 ? expected[1] : null));
        assert.equal(reader.pid, shell, "the same shell answered them all");
        assert.ok(isOurChild(shell));
      },
    );

    await t.step("a shell that died is replaced, and no read is lost", async () => {
      const shell = reader.pid!;
      Deno.kill(shell, "SIGKILL");
      // Whichever read meets the dead shell, every answer is still right.
      assert.equal(await reader.read(sleepers[0].pid), startTimeOf(sleepers[0].pid));
      assert.equal(await reader.read(sleepers[1].pid), startTimeOf(sleepers[1].pid));
      assert.ok(isOurChild(reader.pid), "a new shell runs");
      assert.notEqual(reader.pid, shell);
    });

    await t.step("a pid of 0, 1 or less throws", async () => {
      for (const pid of [0, 1, -5, 1.5, Number.NaN]) {
        await assert.rejects(reader.read(pid), RangeError);
        await assert.rejects(processStartTime(pid), RangeError);
      }
    });

    await t.step("closed: the shell is gone and reads still get answers", async () => {
      const shell = reader.pid;
      await reader.close();
      assert.equal(reader.pid, undefined);
      assert.ok(!isOurChild(shell), "the shell is gone");
      assert.equal(await reader.read(sleepers[0].pid), startTimeOf(sleepers[0].pid));
      assert.equal(reader.pid, undefined, "no shell starts after close");
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
