/**
 * Tests for reading processes' start times at start-up: one helper shell for
 * every pid asked, wall-clock times exact to the boot time's second, and a pid
 * that is gone left out.
 *
 * @module
 */

import assert from "node:assert/strict";
import { statFields } from "../_proc.ts";
import { startTimes } from "../../lib/dispatch/start_time.ts";

function sleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", { args: ["300"], stdin: "null", stdout: "null" }).spawn();
}

Deno.test("startTimes() gives each live pid's start as wall-clock time", async () => {
  const before = Date.now();
  const sleepers = [sleeper(), sleeper()];
  try {
    // Both exist once /proc lists them.
    while (sleepers.some((s) => statFields(s.pid) === null)) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    const started = await startTimes([...sleepers.map((s) => s.pid), gone.pid]);
    assert.deepEqual([...started.keys()], sleepers.map((s) => s.pid));
    for (const at of started.values()) {
      // The boot time is whole seconds: up to one second early.
      assert.ok(at >= before - 1100 && at <= Date.now(), `${at} vs ${before}`);
    }
  } finally {
    for (const s of sleepers) {
      s.kill("SIGKILL");
      await s.status;
    }
  }
});

Deno.test("startTimes() asks one helper process for all pids", async () => {
  const spawned: string[] = [];
  const original = Deno.Command;
  // deno-lint-ignore no-explicit-any
  (Deno as any).Command = class extends original {
    constructor(command: string | URL, options?: Deno.CommandOptions) {
      spawned.push(String(command));
      super(command, options);
    }
  };
  try {
    const started = await startTimes([Deno.pid, Deno.pid, 2 ** 22 + 7]);
    assert.deepEqual([...started.keys()], [Deno.pid]);
  } finally {
    // deno-lint-ignore no-explicit-any
    (Deno as any).Command = original;
  }
  assert.deepEqual(spawned, ["/bin/sh"]);
});

Deno.test("startTimes() refuses a pid that would name a group or every process", async () => {
  await assert.rejects(startTimes([1]), RangeError);
  await assert.rejects(startTimes([0.5]), RangeError);
});
