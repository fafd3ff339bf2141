/**
 * Filters and payload fields through the real daemon, with real GitHub
 * deliveries: a filtered delivery is answered 2xx, stored as `filtered`
 * with the failed condition and logged, and its hook never runs; a hook
 * that runs gets its payload fields; `hookd replay` applies the filter
 * configured now.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  envFileText,
  githubSignature,
  integrationTest,
  runHookd,
  startDaemon,
  waitForFile,
  waitForState,
} from "./harness.ts";
import {
  PULL_REQUEST_CLOSED,
  PULL_REQUEST_MERGED,
  PUSH_OF_TAG,
  PUSH_TO_DEFAULT_BRANCH,
  PUSH_TO_FEATURE_BRANCH,
} from "./_github_examples.ts";

const SECRET = "filter-daemon-test-secret-0123456789";

integrationTest("a filter decides which GitHub deliveries run their hook", async (t) => {
  const out = await Deno.makeTempDir({ prefix: "hookd_filter_out_" });
  // Each run writes its fields to a file named by GitHub's delivery id.
  const hook =
    `printf '%s|%s|%s|%s' "$HOOKD_FIELD_REF" "$HOOKD_FIELD_REPOSITORY_FULL_NAME" "$HOOKD_FIELD_HEAD_COMMIT_ID" "\${HOOKD_FIELD_PULL_REQUEST_MERGED-unset}" > "${out}/$HOOKD_SOURCE_DELIVERY_ID"`;
  const vars: Record<string, string> = {
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: SECRET,
    HOOKD_GH_HOOK_PUSH: hook,
    HOOKD_GH_HOOK_PULL_REQUEST: hook,
    HOOKD_GH_HOOK_FIELDS: "ref,repository.full_name,head_commit.id,pull_request.merged",
    HOOKD_GH_MATCH_PUSH: "ref=refs/heads/master repository.full_name=Codertocat/Hello-World",
    HOOKD_GH_MATCH_PULL_REQUEST: "action=closed pull_request.merged=true",
  };
  await using daemon = await startDaemon(vars);
  const cli = (...args: string[]) => runHookd([...args, "--env-file", daemon.envFile]);
  const show = async (id: string) => {
    const result = await cli("show", id, "--json");
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout);
  };
  async function send(event: string, payload: unknown) {
    const sourceId = crypto.randomUUID();
    const body = JSON.stringify(payload);
    const response = await daemon.post("gh", body, {
      "Content-Type": "application/json",
      "X-GitHub-Event": event,
      "X-GitHub-Delivery": sourceId,
      "X-Hub-Signature-256": await githubSignature(body, SECRET),
    });
    return { response, answer: await response.json(), sourceId };
  }

  try {
    let filteredPush = "";
    await t.step(
      "a push to a feature branch is answered 202, stored as filtered and logged",
      async () => {
        const { response, answer } = await send("push", PUSH_TO_FEATURE_BRANCH);
        assert.equal(response.status, 202);
        assert.equal(answer.filtered, "HOOKD_GH_MATCH_PUSH: ref=refs/heads/master");
        assert.equal(answer.hook, "HOOKD_GH_HOOK_PUSH");
        filteredPush = answer.id;
        const stored = await show(filteredPush);
        assert.equal(stored.state, "filtered");
        assert.equal(stored.filteredBy, "HOOKD_GH_MATCH_PUSH: ref=refs/heads/master");
        assert.deepEqual(stored.runs, []);
        assert.equal(stored.attempts, 0);
        const record = await daemon.waitForRecord((r) => r.id === filteredPush);
        assert.equal(record.outcome, "filtered");
        assert.equal(record.filtered, "HOOKD_GH_MATCH_PUSH: ref=refs/heads/master");
        assert.equal(record.status, 202);
      },
    );

    await t.step("a tag push is filtered too", async () => {
      const { answer } = await send("push", PUSH_OF_TAG);
      assert.equal(answer.filtered, "HOOKD_GH_MATCH_PUSH: ref=refs/heads/master");
    });

    await t.step("a push to the default branch runs its hook with the payload fields", async () => {
      const { response, sourceId } = await send("push", PUSH_TO_DEFAULT_BRANCH);
      assert.equal(response.status, 202);
      const commit = (PUSH_TO_DEFAULT_BRANCH.head_commit as { id: string }).id;
      assert.equal(
        await waitForFile(`${out}/${sourceId}`),
        `refs/heads/master|Codertocat/Hello-World|${commit}|unset`,
      );
    });

    await t.step("a merged pull request runs; one closed unmerged is filtered", async () => {
      const closed = await send("pull_request", PULL_REQUEST_CLOSED);
      assert.equal(closed.response.status, 202);
      assert.equal(
        closed.answer.filtered,
        "HOOKD_GH_MATCH_PULL_REQUEST: pull_request.merged=true",
      );
      const merged = await send("pull_request", PULL_REQUEST_MERGED);
      assert.equal(merged.answer.filtered, undefined);
      // A pull request has no ref and no head commit: those variables are unset.
      assert.equal(await waitForFile(`${out}/${merged.sourceId}`), "|Codertocat/Hello-World||true");
      assert.equal((await show(closed.answer.id)).state, "filtered");
      // The hook wrote its file before its run was recorded: wait for the record.
      await waitForState(daemon, merged.answer.id, "done");
    });

    await t.step("hookd deliveries lists filtered deliveries by state", async () => {
      const result = await cli("deliveries", "--state", "filtered", "--json");
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim().split("\n").length, 3);
    });

    await t.step(
      "replay skips a filtered delivery the filter still refuses, naming it",
      async () => {
        const result = await cli("replay", filteredPush);
        assert.equal(result.code, 1);
        assert.match(
          result.stderr,
          new RegExp(
            `${filteredPush} skipped: the filter configured now refuses it \\(HOOKD_GH_MATCH_PUSH: ref=refs/heads/master\\)`,
          ),
        );
        assert.equal((await show(filteredPush)).state, "filtered");
      },
    );

    await t.step("replay runs it once the filter configured now lets it through", async () => {
      const text = await Deno.readTextFile(daemon.envFile);
      const changed = text.replace(
        /^HOOKD_GH_MATCH_PUSH=.*$/m,
        envFileText({ HOOKD_GH_MATCH_PUSH: "ref=refs/heads/*" }).trim(),
      );
      assert.notEqual(changed, text);
      await Deno.writeTextFile(daemon.envFile, changed);
      // The daemon runs what it is configured with when the run starts: reload it first.
      daemon.process.kill("SIGHUP");
      await daemon.waitForRecord((r) => r.message === "reloaded");
      const result = await cli("replay", "--state", "filtered", "--endpoint", "gh");
      assert.equal(result.code, 0, result.stderr);
      // The branch push passes now; the tag push and the closed pull request do not.
      assert.match(result.stdout, new RegExp(`${filteredPush} queued`));
      assert.match(
        result.stdout,
        /skipped: the filter configured now refuses it \(HOOKD_GH_MATCH_PUSH: ref=refs\/heads\/\*\)/,
      );
      assert.match(
        result.stdout,
        /skipped: the filter configured now refuses it \(HOOKD_GH_MATCH_PULL_REQUEST: pull_request.merged=true\)/,
      );
      const stored = await show(filteredPush);
      const sourceId = stored.sourceId as string;
      assert.match(await waitForFile(`${out}/${sourceId}`), /^refs\/heads\/feature\/login\|/);
      const after = await show(filteredPush);
      assert.equal(after.filteredBy, null);
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
