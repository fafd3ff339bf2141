/**
 * `hookd replay` end to end: a real daemon, the real CLI as a subprocess.
 * A replay runs the hook configured now for the delivery's event, so that
 * fixing a hook and replaying its failures works, and an `ignored`
 * delivery runs once its event has a hook.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  githubSignature,
  integrationTest,
  runHookd,
  startDaemon,
  tempDir,
  waitForFile,
  waitForState,
} from "../harness.ts";

const SECRET = "replay-current-hook-secret";

interface Shown {
  state: string;
  hook: string | null;
  runs: { outcome: string; exitCode: number | null }[];
}

async function show(envFile: string, id: string): Promise<Shown> {
  const { code, stdout, stderr } = await runHookd(["show", id, "--json", "--env-file", envFile]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout);
}

integrationTest(
  "hookd replay runs the hook configured now, and says so when it changed",
  async (t) => {
    await using dir = await tempDir("hookd_replay_hook_");
    const ran = `${dir.path}/ran.txt`;
    const script = `${dir.path}/deploy.sh`;
    await Deno.writeTextFile(script, `echo "$HOOKD_EVENT $HOOKD_SOURCE_DELIVERY_ID" >> ${ran}\n`);
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "fix",
      HOOKD_FIX_PROVIDER: "github",
      HOOKD_FIX_SECRET: SECRET,
      HOOKD_FIX_RETRIES: "0",
      // The operator's mistake: a path that does not exist.
      HOOKD_FIX_HOOK_PUSH: `/nonexistent-${crypto.randomUUID()}/deploy.sh`,
    }, { dir: dir.path });

    async function deliver(event: string, sourceId: string): Promise<string> {
      const body = JSON.stringify({ event, sourceId });
      const response = await daemon.post("fix", body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": sourceId,
        "X-Hub-Signature-256": await githubSignature(body, SECRET),
      });
      assert.equal(response.status, 202);
      return (await response.json()).id;
    }

    const push = await deliver("push", "p-1");
    const release = await deliver("release", "r-1");
    const issue = await deliver("issues", "i-1");
    const release2 = await deliver("release", "r-2");
    await waitForState(daemon.stateDir, push, "failed");
    assert.equal((await show(daemon.envFile, release)).state, "ignored");

    // The fix: a working push hook and a new release hook. The CLI reads the
    // env file; the daemon runs what the replay stored.
    const fixed = `sh ${script}`;
    const text = await Deno.readTextFile(daemon.envFile);
    await Deno.writeTextFile(
      daemon.envFile,
      text.replace(/^HOOKD_FIX_HOOK_PUSH=.*$/m, `HOOKD_FIX_HOOK_PUSH='${fixed}'`) +
        `HOOKD_FIX_HOOK_RELEASE='${fixed}'\n`,
    );

    await t.step(
      "a failed delivery runs the fixed hook, and the output says it changed",
      async () => {
        const replay = await runHookd(["replay", push, "--env-file", daemon.envFile]);
        assert.equal(replay.code, 0, replay.stderr);
        assert.equal(
          replay.stdout.trim(),
          `${push} queued (hook changed: HOOKD_FIX_HOOK_PUSH is now "${fixed}")`,
        );
        assert.doesNotMatch(replay.stdout, new RegExp(SECRET));
        await waitForFile(ran, (t) => t.includes("push p-1"));
        await waitForState(daemon.stateDir, push, "done");
        const shown = await show(daemon.envFile, push);
        assert.deepEqual(shown.runs.map((r) => [r.outcome, r.exitCode]), [
          ["failed", 127],
          ["succeeded", 0],
        ]);
        assert.equal(shown.hook, fixed);
      },
    );

    await t.step("an ignored delivery whose event now has a hook runs it", async () => {
      const replay = await runHookd(["replay", release, "--env-file", daemon.envFile]);
      assert.equal(replay.code, 0, replay.stderr);
      assert.equal(
        replay.stdout.trim(),
        `${release} queued (hook changed: HOOKD_FIX_HOOK_RELEASE is now "${fixed}")`,
      );
      await waitForFile(ran, (t) => t.includes("release r-1"));
      await waitForState(daemon.stateDir, release, "done");
    });

    await t.step("an unchanged hook is replayed without a note", async () => {
      const replay = await runHookd(["replay", push, "--env-file", daemon.envFile]);
      assert.equal(replay.code, 0, replay.stderr);
      assert.equal(replay.stdout.trim(), `${push} queued`);
      await waitForFile(ran, (t) => t.split("push p-1").length === 3);
    });

    await t.step("an ignored delivery whose event still has no hook is skipped", async () => {
      const replay = await runHookd(["replay", issue, "--env-file", daemon.envFile]);
      assert.equal(replay.code, 1);
      assert.equal(replay.stderr.trim(), `${issue} skipped: no hook to run`);
      assert.equal((await show(daemon.envFile, issue)).state, "ignored");
    });

    await t.step(
      "replay --state ignored queues those that now have a hook, skips the rest",
      async () => {
        const replay = await runHookd([
          "replay",
          "--state",
          "ignored",
          "--endpoint",
          "fix",
          "--env-file",
          daemon.envFile,
        ]);
        assert.equal(replay.code, 0, replay.stderr);
        assert.deepEqual(replay.stdout.trim().split("\n"), [
          `${release2} queued (hook changed: HOOKD_FIX_HOOK_RELEASE is now "${fixed}")`,
          `${issue} skipped: no hook to run`,
        ]);
        await waitForFile(ran, (t) => t.includes("release r-2"));
        await waitForState(daemon.stateDir, release2, "done");
      },
    );
  },
);
