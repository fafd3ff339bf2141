/**
 * Per-endpoint options of issue 13 through the real daemon: the success
 * status (`_SUCCESS_STATUS`), a token in the query string (`_TOKEN_QUERY`)
 * that reaches no log line, stored delivery or hook environment, and
 * `hookd check` printing every new setting back and naming a malformed filter.
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
  tempDir,
  waitForFile,
} from "./harness.ts";

const GH_SECRET = "endpoint-options-github-secret-0123456789";
const TOKEN = "query-token-Zq8xW3vN7pL2kR5tY9mB4cH6";

integrationTest("_SUCCESS_STATUS answers accepted deliveries; duplicates stay 200", async (t) => {
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "ok200,ok204",
    HOOKD_OK200_PROVIDER: "github",
    HOOKD_OK200_SECRET: GH_SECRET,
    HOOKD_OK200_SUCCESS_STATUS: "200",
    HOOKD_OK200_HOOK_PUSH: "true",
    HOOKD_OK200_HOOK_PING: "true",
    HOOKD_OK200_MATCH_PING: "zen=never",
    HOOKD_OK204_PROVIDER: "github",
    HOOKD_OK204_SECRET: GH_SECRET,
    HOOKD_OK204_SUCCESS_STATUS: "204",
    HOOKD_OK204_HOOK_PUSH: "true",
  });
  const send = async (endpoint: string, event: string, body: string) =>
    await daemon.post(endpoint, body, {
      "Content-Type": "application/json",
      "X-GitHub-Event": event,
      "X-GitHub-Delivery": crypto.randomUUID(),
      "X-Hub-Signature-256": await githubSignature(body, GH_SECRET),
    });

  await t.step(
    "200: accepted, ignored and filtered deliveries all get 200 with the answer",
    async () => {
      const accepted = await send("ok200", "push", '{"n":1}');
      assert.equal(accepted.status, 200);
      assert.equal((await accepted.json()).hook, "HOOKD_OK200_HOOK_PUSH");
      const ignored = await send("ok200", "issues", '{"n":2}');
      assert.equal(ignored.status, 200);
      assert.equal((await ignored.json()).hook, null);
      const filtered = await send("ok200", "ping", '{"zen":"hi"}');
      assert.equal(filtered.status, 200);
      assert.equal((await filtered.json()).filtered, "HOOKD_OK200_MATCH_PING: zen=never");
      for (const outcome of ["accepted", "ignored", "filtered"]) {
        assert.equal((await daemon.waitForRecord((r) => r.outcome === outcome)).status, 200);
      }
    },
  );
  await t.step("204: no body", async () => {
    const response = await send("ok204", "push", '{"n":3}');
    assert.equal(response.status, 204);
    assert.equal(await response.text(), "");
  });
  await t.step("a duplicate still gets 200 with duplicate: true", async () => {
    const first = await send("ok204", "push", '{"n":4}');
    assert.equal(first.status, 204);
    await first.body?.cancel();
    const again = await send("ok204", "push", '{"n":4}');
    assert.equal(again.status, 200);
    assert.equal((await again.json()).duplicate, true);
  });
});

integrationTest(
  "_TOKEN_QUERY checks a token in the query string and keeps it out of logs, store and hooks",
  async (t) => {
    await using out = await tempDir();
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "q",
      HOOKD_Q_PROVIDER: "token",
      HOOKD_Q_SECRET: TOKEN,
      HOOKD_Q_TOKEN_QUERY: "key",
      HOOKD_Q_HOOK_DEFAULT: `env > "${out.path}/env"; cat > "${out.path}/stdin"`,
    });
    const post = (query: string, headers: HeadersInit = {}) =>
      fetch(`${daemon.url}/hooks/q${query}`, {
        method: "POST",
        body: '{"status":"firing"}',
        headers: { "Content-Type": "application/json", ...headers },
      });

    await t.step("refuses a missing, wrong, repeated or header-borne token with 401", async () => {
      for (
        const [query, headers, reason] of [
          ["", {}, /missing query parameter key/i],
          ["?key=wrong", {}, /invalid token/i],
          [`?key=${TOKEN}x`, {}, /invalid token/i],
          [`?key=${TOKEN}&key=${TOKEN}`, {}, /more than once/],
          ["", { "X-Token": TOKEN, Authorization: `Bearer ${TOKEN}` }, /missing query parameter/i],
        ] as const
      ) {
        const response = await post(query, headers);
        assert.equal(response.status, 401);
        assert.match((await response.json()).error, reason);
      }
    });
    let id = "";
    await t.step("accepts the right token, among other parameters", async () => {
      const response = await post(`?source=alertmanager&key=${encodeURIComponent(TOKEN)}`);
      assert.equal(response.status, 202);
      id = (await response.json()).id;
      assert.equal(await waitForFile(`${out.path}/stdin`), '{"status":"firing"}');
    });
    await t.step("the token is in no log line, stored delivery or hook environment", async () => {
      const record = await daemon.waitForRecord((r) => r.id === id);
      assert.equal(record.path, "/hooks/q");
      await daemon.waitForRecords((r) => r.status === 401, 5);
      const log = await Deno.readTextFile(daemon.logFile);
      assert.equal(log.includes(TOKEN), false);
      const env = await waitForFile(`${out.path}/env`);
      assert.match(env, /HOOKD_DELIVERY_ID=/);
      assert.equal(env.includes(TOKEN), false);
      const shown = await runHookd(["show", id, "--json", "--env-file", daemon.envFile]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /"state": "(running|done)"/);
      assert.equal(shown.stdout.includes(TOKEN), false);
    });
  },
);

integrationTest(
  "hookd check prints every new setting back and names a malformed filter",
  async (t) => {
    await using dir = await tempDir();
    const file = `${dir.path}/hookd.env`;
    const settings = {
      HOOKD_ENDPOINTS: "gh,alerts",
      HOOKD_STATE_DIR: `${dir.path}/state`,
      HOOKD_LOG_FILE: `${dir.path}/hookd.log`,
      HOOKD_GH_PROVIDER: "github",
      HOOKD_GH_SECRET: GH_SECRET,
      HOOKD_GH_HOOK_PUSH: "/usr/local/bin/deploy",
      HOOKD_GH_MATCH_PUSH: "ref=refs/heads/main  repository.full_name=acme/site",
      HOOKD_GH_MATCH_PULL_REQUEST_CLOSED:
        'pull_request.merged=true header.X-GitHub-Hook-Installation-Target-Type="repository"',
      HOOKD_GH_HOOK_FIELDS: "ref, repository.full_name,head_commit.id",
      HOOKD_GH_SUCCESS_STATUS: "200",
      HOOKD_ALERTS_PROVIDER: "token",
      HOOKD_ALERTS_SECRET: TOKEN,
      HOOKD_ALERTS_TOKEN_QUERY: "key",
      HOOKD_ALERTS_SUCCESS_STATUS: "204",
      HOOKD_ALERTS_MATCH_DEFAULT: "status!=resolved commonLabels.team=*ops*",
    };
    await t.step("every setting is printed back, secrets as ***", async () => {
      await Deno.writeTextFile(file, envFileText(settings), { mode: 0o600 });
      const result = await runHookd(["check", "--env-file", file]);
      assert.equal(result.code, 0, result.stderr);
      const text = result.stdout;
      for (
        const line of [
          "HOOKD_GH_MATCH_PUSH = ref=refs/heads/main repository.full_name=acme/site",
          "HOOKD_GH_MATCH_PULL_REQUEST_CLOSED = pull_request.merged=true header.x-github-hook-installation-target-type=repository",
          "fields    ref as HOOKD_FIELD_REF, repository.full_name as HOOKD_FIELD_REPOSITORY_FULL_NAME, head_commit.id as HOOKD_FIELD_HEAD_COMMIT_ID",
          "answers   200 when accepted, 200 for a duplicate",
          "answers   204 when accepted, 200 for a duplicate",
          "token_query key",
          "HOOKD_ALERTS_MATCH_DEFAULT = status!=resolved commonLabels.team=*ops*",
        ]
      ) {
        assert.ok(text.includes(line), `missing "${line}" in:\n${text}`);
      }
      assert.match(text, /secret {4}\*\*\*/);
      assert.equal(text.includes(GH_SECRET) || text.includes(TOKEN), false);
    });
    await t.step("a malformed filter fails check with its variable named", async () => {
      await Deno.writeTextFile(
        file,
        envFileText({ ...settings, HOOKD_GH_MATCH_PUSH: 'ref="refs/heads/main' }),
        { mode: 0o600 },
      );
      const result = await runHookd(["check", "--env-file", file]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /hookd: HOOKD_GH_MATCH_PUSH is not a valid filter: a value opened with " at character 5 is never closed/,
      );
    });
    await t.step("TOKEN_QUERY with TOKEN_HEADER, or neither, fails check", async () => {
      await Deno.writeTextFile(
        file,
        envFileText({ ...settings, HOOKD_ALERTS_TOKEN_HEADER: "X-Token" }),
        { mode: 0o600 },
      );
      const both = await runHookd(["check", "--env-file", file]);
      assert.equal(both.code, 1);
      assert.match(
        both.stderr,
        /HOOKD_ALERTS_TOKEN_HEADER and HOOKD_ALERTS_TOKEN_QUERY: set exactly one/,
      );
      const { HOOKD_ALERTS_TOKEN_QUERY: _, ...neither } = settings;
      await Deno.writeTextFile(file, envFileText(neither), { mode: 0o600 });
      assert.match(
        (await runHookd(["check", "--env-file", file])).stderr,
        /set exactly one/,
      );
    });
  },
);
