/**
 * `hookd replay` end to end: a real daemon, the real CLI as a subprocess.
 * A replay runs the hook configured (and reloaded) now for the delivery's event, so that
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
    await waitForState(daemon, push, "failed");
    assert.equal((await show(daemon.envFile, release)).state, "ignored");

    // The fix: a working push hook and a new release hook. The CLI reads the
    // env file; the daemon, reloaded, runs what is configured when each run starts.
    const fixed = `sh ${script}`;
    const text = await Deno.readTextFile(daemon.envFile);
    await Deno.writeTextFile(
      daemon.envFile,
      text.replace(/^HOOKD_FIX_HOOK_PUSH=.*$/m, `HOOKD_FIX_HOOK_PUSH='${fixed}'`) +
        `HOOKD_FIX_HOOK_RELEASE='${fixed}'\n`,
    );
    daemon.process.kill("SIGHUP");
    await daemon.waitForRecord((r) => r.message === "reloaded");

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
        await waitForState(daemon, push, "done");
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
      await waitForState(daemon, release, "done");
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
        await waitForState(daemon, release2, "done");
      },
    );
  },
);

/**
 * Replay from the deliveries page: GET the page for its form token, post the
 * form as the browser does, follow the redirect, and return what the page
 * then says about the replay (its notice, as text).
 */
async function replayOnPage(adminUrl: string, id: string): Promise<string> {
  const form = await fetch(`${adminUrl}/deliveries/${id}`);
  const html = await form.text();
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(token, "the page has a replay form");
  const cookie = form.headers.get("set-cookie")?.split(";")[0];
  const posted = await fetch(`${adminUrl}/deliveries/${id}/replay`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "Sec-Fetch-Site": "same-origin",
      Origin: adminUrl,
      ...(cookie ? { Cookie: cookie } : {}),
    },
    body: new URLSearchParams({ csrf: token }),
  });
  assert.equal(posted.status, 303, await posted.text());
  const back = await fetch(new URL(posted.headers.get("location")!, adminUrl), {
    headers: cookie ? { Cookie: cookie } : {},
  });
  const page = await back.text();
  const notice = /<p class="notice[^"]*" role="status">([\s\S]*?)<\/p>/.exec(page)?.[1] ?? "";
  return notice.replace(/<[^>]+>/g, "").replaceAll("&quot;", '"').replaceAll("&gt;", ">")
    .replaceAll("&lt;", "<").replaceAll("&#39;", "'").replaceAll("&amp;", "&").trim();
}

integrationTest(
  "the page's Replay is `hookd replay ID`: filter and hook configured now, the same words",
  async (t) => {
    await using dir = await tempDir("hookd_replay_page_");
    const ran = `${dir.path}/ran.txt`;
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "gh",
      HOOKD_GH_PROVIDER: "github",
      HOOKD_GH_SECRET: SECRET,
      HOOKD_GH_HOOK_PUSH: `echo "push-v1 $HOOKD_SOURCE_DELIVERY_ID" >> ${ran}`,
      HOOKD_GH_HOOK_RELEASE: `echo "release $HOOKD_SOURCE_DELIVERY_ID" >> ${ran}`,
      HOOKD_GH_HOOK_ISSUES: `echo "issues $HOOKD_SOURCE_DELIVERY_ID" >> ${ran}`,
    }, { dir: dir.path });
    assert.ok(daemon.adminUrl);

    async function deliver(event: string, sourceId: string, action: string): Promise<string> {
      const body = JSON.stringify({ action, sourceId });
      const response = await daemon.post("gh", body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": sourceId,
        "X-Hub-Signature-256": await githubSignature(body, SECRET),
      });
      assert.equal(response.status, 202);
      return (await response.json()).id;
    }
    const push = await deliver("push", "p-1", "none");
    const push2 = await deliver("push", "p-2", "none");
    const release = await deliver("release", "r-1", "published");
    const issue = await deliver("issues", "i-1", "opened");
    for (const id of [push, push2, release, issue]) {
      await waitForState(daemon, id, "done");
    }

    // The operator changes the push hook, removes the release hook and filters issues; the
    // daemon reloads, and the command line reads the same file.
    const pushV2 = `echo "push-v2 $HOOKD_SOURCE_DELIVERY_ID" >> ${ran}`;
    const text = await Deno.readTextFile(daemon.envFile);
    await Deno.writeTextFile(
      daemon.envFile,
      text.replace(/^HOOKD_GH_HOOK_PUSH=.*$/m, `HOOKD_GH_HOOK_PUSH='${pushV2}'`)
        .replace(/^HOOKD_GH_HOOK_RELEASE=.*\n/m, "") + "HOOKD_GH_MATCH_ISSUES='action=closed'\n",
    );
    daemon.process.kill("SIGHUP");
    await daemon.waitForRecord((r) => r.message === "reloaded");

    const cli = async (id: string) => {
      const result = await runHookd(["replay", id, "--env-file", daemon.envFile]);
      return (result.stdout + result.stderr).trim();
    };

    await t.step(
      "a delivery the filter configured now refuses is skipped, said alike",
      async () => {
        const page = await replayOnPage(daemon.adminUrl!, issue);
        assert.match(page, new RegExp(`^${issue} skipped: the filter configured now refuses it`));
        assert.equal(page, await cli(issue));
        assert.equal((await show(daemon.envFile, issue)).runs.length, 1, "not run again");
      },
    );

    await t.step("a removed hook: skipped, said alike", async () => {
      const page = await replayOnPage(daemon.adminUrl!, release);
      assert.equal(page, `${release} skipped: no hook to run`);
      assert.equal(page, await cli(release));
      assert.equal((await show(daemon.envFile, release)).runs.length, 1, "not run again");
    });

    await t.step("a changed hook: the new one runs, and both say it changed", async () => {
      const page = await replayOnPage(daemon.adminUrl!, push);
      assert.equal(page, `${push} queued (hook changed: HOOKD_GH_HOOK_PUSH is now "${pushV2}")`);
      await waitForFile(ran, (t) => t.includes("push-v2 p-1"));
      await waitForState(daemon, push, "done");
      // The same case on the command line: another push stored with the old hook.
      assert.equal(await cli(push2), page.replace(push, push2));
      await waitForFile(ran, (t) => t.includes("push-v2 p-2"));
      assert.ok(!(await Deno.readTextFile(ran)).includes("release r-1\nrelease r-1"));
    });
  },
);
