/**
 * Tests for signalling hooks' process groups with `Deno.kill(-pgid, …)`:
 * every member is reached, an empty group is told apart, nothing is spawned.
 *
 * @module
 */

import assert from "node:assert/strict";
import { groupExists, signalGroup, terminateGroup } from "../../lib/dispatch/group_signaller.ts";

/**
 * A new process group led by a shell that runs `prelude`, starts `sleep 300` in
 * the background and writes its pid to stdout, then runs `leader`; returns once
 * both exist (and the prelude has run).
 */
async function sleeperGroup(
  leader = "exec sleep 300",
  prelude = ":",
): Promise<{ child: Deno.ChildProcess; member: number }> {
  const child = new Deno.Command("/usr/bin/setsid", {
    args: ["/bin/sh", "-c", `${prelude}; sleep 300 >/dev/null 2>&1 & echo $!; ${leader}`],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  const member = Number(text.trim());
  assert.ok(member > 1, `member pid ${text}`);
  assert.equal(processGroupOf(member), child.pid);
  return { child, member };
}

/** The process group of `pid` from `/proc/<pid>/stat`, or null once it is gone or a zombie. */
function processGroupOf(pid: number): number | null {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return state === "Z" ? null : Number(pgrp);
}

/** Kills are asynchronous: poll, bounded, until `pid` has stopped. */
async function waitUntilStopped(pid: number): Promise<void> {
  const deadline = performance.now() + 5000;
  while (processGroupOf(pid) !== null) {
    if (performance.now() > deadline) throw new Error(`${pid} still runs`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("signalGroup() reaches every member of the group and tells an empty one apart", async (t) => {
  const { child, member } = await sleeperGroup();
  await t.step("a live group exists, and SIGTERM reaches its leader and its member", async () => {
    assert.equal(groupExists(child.pid), true);
    assert.equal(signalGroup(child.pid, "SIGTERM"), true);
    assert.equal((await child.status).signal, "SIGTERM");
    await waitUntilStopped(member);
  });
  await t.step(
    "once every member is gone, the group does not exist and a signal meets none",
    async () => {
      // The member was the test's grandchild: init reaps it, then the group is empty.
      const deadline = performance.now() + 5000;
      while (groupExists(child.pid)) {
        assert.ok(performance.now() < deadline, "the group outlived its members");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(signalGroup(child.pid, "SIGKILL"), false);
    },
  );
});

Deno.test("signalGroup() kills a member left behind by a leader that already exited", async () => {
  const { child, member } = await sleeperGroup("exit 0");
  assert.equal((await child.status).code, 0);
  assert.equal(groupExists(child.pid), true, "the member keeps the group");
  assert.equal(signalGroup(child.pid, "SIGKILL"), true);
  await waitUntilStopped(member);
});

Deno.test("terminateGroup() sends SIGKILL after the grace when SIGTERM is ignored", async (t) => {
  await t.step("a group that obeys SIGTERM ends before the grace", async () => {
    const { child, member } = await sleeperGroup();
    const started = performance.now();
    await terminateGroup(child.pid, 20_000);
    assert.ok(performance.now() - started < 10_000);
    assert.equal((await child.status).signal, "SIGTERM");
    await waitUntilStopped(member);
  });
  await t.step("a leader that ignores SIGTERM gets SIGKILL", async () => {
    const { child, member } = await sleeperGroup("while :; do sleep 1; done", "trap '' TERM");
    await terminateGroup(child.pid, 200);
    assert.equal((await child.status).signal, "SIGKILL");
    await waitUntilStopped(member);
  });
  await t.step("an empty group: nothing to wait for", async () => {
    const started = performance.now();
    await terminateGroup(2 ** 22 + 3, 20_000);
    assert.ok(performance.now() - started < 10_000);
  });
});

Deno.test("a group id that would reach hookd's own group or every process throws", async () => {
  for (const pgid of [0, 1, -5, 1.5, Number.NaN]) {
    assert.throws(() => signalGroup(pgid, "SIGTERM"), RangeError);
    assert.throws(() => groupExists(pgid), RangeError);
    await assert.rejects(terminateGroup(pgid, 0), RangeError);
  }
});
