/**
 * Tests for signalling hooks' process groups with `Deno.kill(-pgid, …)`:
 * every member is reached, an empty group is told apart, nothing is spawned.
 *
 * @module
 */

import assert from "node:assert/strict";
import { groupExists, signalGroup, terminateGroup } from "../../lib/dispatch/group_signaller.ts";
import { isRunning, statFields, waitUntil } from "../_proc.ts";

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
  assert.equal(Number(statFields(member)?.[2]), child.pid, "the member is in the new group");
  return { child, member };
}

/** Kills are asynchronous: wait until `pid` has stopped. */
async function waitUntilStopped(pid: number): Promise<void> {
  await waitUntil(`${pid} stops`, () => !isRunning(pid));
}

/**
 * A grace no test waits out: a terminateGroup() that waited for it instead of
 * for the group would not return within waitUntil's deadline.
 */
const HOUR_MS = 3_600_000;

/** Whether `promise` has settled, looked at later: `settled()`. */
function watch(promise: Promise<unknown>): () => boolean {
  let settled = false;
  promise.finally(() => settled = true);
  return () => settled;
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
      await waitUntil(
        "the group is empty once its members are gone",
        () => !groupExists(child.pid),
      );
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
  await t.step(
    "a group that obeys SIGTERM: it returns once the group is gone, not after the grace",
    async () => {
      const { child, member } = await sleeperGroup();
      const returned = watch(terminateGroup(child.pid, HOUR_MS));
      assert.equal((await child.status).signal, "SIGTERM");
      await waitUntilStopped(member);
      await waitUntil("terminateGroup() returns once the group is gone", returned);
    },
  );
  await t.step("a leader that ignores SIGTERM gets SIGKILL", async () => {
    const { child, member } = await sleeperGroup("while :; do sleep 1; done", "trap '' TERM");
    await terminateGroup(child.pid, 200);
    assert.equal((await child.status).signal, "SIGKILL");
    await waitUntilStopped(member);
  });
  await t.step("an empty group: nothing to wait for", async () => {
    const returned = watch(terminateGroup(2 ** 22 + 3, HOUR_MS));
    await waitUntil("terminateGroup() returns for an empty group", returned);
  });
});

Deno.test("a group id that would reach hookd's own group or every process throws", async () => {
  for (const pgid of [0, 1, -5, 1.5, Number.NaN]) {
    assert.throws(() => signalGroup(pgid, "SIGTERM"), RangeError);
    assert.throws(() => groupExists(pgid), RangeError);
    await assert.rejects(terminateGroup(pgid, 0), RangeError);
  }
});
