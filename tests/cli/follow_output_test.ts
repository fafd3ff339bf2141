/**
 * `hookd show ID --follow` end to end: a real daemon runs shell hooks that
 * wait on gate files the test creates, so "while it runs" is a fact; the
 * command runs as a subprocess reading the admin listener's stream.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hookScript, integrationTest, runHookd, startDaemon, tempDir } from "../harness.ts";
import { exitCodeOf } from "../../lib/cli/follow_output.ts";
import { spawnHookd } from "./_hookd_child.ts";

Deno.test("exitCodeOf() gives the hook's code, 124 for a time-out, 128+N for a signal", () => {
  const end = {
    outcome: "failed",
    exitCode: 3,
    signal: null,
    timedOut: false,
    durationMs: 5,
    state: "failed",
  };
  assert.equal(exitCodeOf(end), 3);
  assert.equal(exitCodeOf({ ...end, exitCode: null, signal: "SIGTERM" }), 143);
  assert.equal(exitCodeOf({ ...end, exitCode: null, signal: "SIGKILL", timedOut: true }), 124);
  assert.equal(exitCodeOf({ ...end, exitCode: null, outcome: null, state: "skipped" }), 1);
});

integrationTest(
  "hookd show ID --follow prints a running hook's output as it is written",
  async (t) => {
    await using dir = await tempDir();
    const gate = `${dir.path}/gate`;
    const gated = await hookScript(
      dir.path,
      "gated",
      `echo first; echo warming >&2\nwhile [ ! -e ${gate} ]; do sleep 0.05; done\necho second\nexit 3`,
    );
    const sleepy = await hookScript(dir.path, "sleepy", "echo started; exec sleep 30");
    const token = "a-token-for-the-admin-listener-0123456789";
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "deploy,slow",
      HOOKD_DEPLOY_PROVIDER: "none",
      HOOKD_DEPLOY_HOOK_DEFAULT: gated,
      HOOKD_SLOW_PROVIDER: "none",
      HOOKD_SLOW_HOOK_DEFAULT: sleepy,
      HOOKD_SLOW_TIMEOUT: "1s",
      HOOKD_ADMIN_TOKEN: token,
    });
    // The daemon listens on port 0; the command needs the port it got, so it gets its own env file.
    const daemonEnv = await Deno.readTextFile(daemon.envFile);
    const cliEnv = async (name: string, listen: string, extra = "") => {
      const path = `${dir.path}/${name}.env`;
      const text = daemonEnv.replace(/^HOOKD_ADMIN_LISTEN=.*$/m, `HOOKD_ADMIN_LISTEN=${listen}`);
      await Deno.writeTextFile(path, text + extra, { mode: 0o600 });
      return path;
    };
    const envFile = await cliEnv("cli", new URL(daemon.adminUrl!).host);
    const deliver = async (endpoint: string) => {
      const res = await daemon.post(endpoint, "{}", { "Content-Type": "application/json" });
      assert.equal(res.status, 202);
      return (await res.json()).id as string;
    };
    const id = await deliver("deploy");

    await t.step(
      "the first line shows before the gate opens; the exit code is the hook's",
      async (s) => {
        await using follower = spawnHookd(["show", id, "--follow", "--env-file", envFile]);
        await follower.waitFor((out) => out === "first\n");
        await follower.waitFor((_, err) => err === "warming\n");
        assert.ok(!follower.stdout().includes("second"));

        await s.step("with HOOKD_ADMIN_LISTEN=off it says so", async () => {
          const off = await runHookd([
            "show",
            id,
            "--follow",
            "--env-file",
            await cliEnv("off", "off"),
          ]);
          assert.equal(off.code, 1);
          assert.equal(off.stdout, "");
          assert.match(off.stderr, /^hookd: the admin listener is off \(HOOKD_ADMIN_LISTEN=off\)/);
        });

        await Deno.writeTextFile(gate, "");
        const status = await follower.status;
        assert.equal(status.code, 3);
        assert.equal(follower.stdout(), "first\nsecond\n");
        assert.equal(follower.stderr(), "warming\nhookd: exit 3\n");
      },
    );

    await t.step("a run that times out: a non-zero code and a last line that says so", async () => {
      const slow = await deliver("slow");
      const result = await runHookd(["show", slow, "--follow", "--env-file", envFile]);
      assert.equal(result.stdout, "started\n");
      assert.match(result.stderr, /^hookd: timed out, ended by SIG[A-Z]+\n$/);
      assert.equal(result.code, 124);
    });

    await t.step(
      "a finished delivery: the stored excerpt, even with the daemon stopped",
      async () => {
        await daemon.stop();
        const result = await runHookd(["show", id, "--follow", "--env-file", envFile]);
        assert.equal(result.stdout, "first\nsecond\n");
        assert.equal(result.stderr, "warming\nhookd: exit 3\n");
        assert.equal(result.code, 3);
      },
    );
  },
);
