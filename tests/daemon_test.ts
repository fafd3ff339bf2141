import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { createDaemon } from "../lib/daemon.ts";
import { githubSignature, tempDir, waitForFile } from "./_daemon.ts";

const SECRET = "daemon-test-secret-0123456789";

function env(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOOKD_ENDPOINTS: "github",
    HOOKD_STATE_DIR: `${dir}/state`,
    HOOKD_LOG_FILE: `${dir}/hookd.log`,
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: SECRET,
    HOOKD_GITHUB_HOOK_PUSH: `echo first > "${dir}/$HOOKD_SOURCE_DELIVERY_ID"`,
    ...extra,
  };
}

async function push(fetch: (request: Request) => Response | Promise<Response>, endpoint: string) {
  const body = JSON.stringify({ ref: "refs/heads/main" });
  const id = crypto.randomUUID();
  const response = await fetch(
    new Request(`http://hookd.test/hooks/${endpoint}`, {
      method: "POST",
      body,
      headers: {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": id,
        "X-Hub-Signature-256": await githubSignature(body, SECRET),
      },
    }),
  );
  return { response, id };
}

Deno.test("createDaemon() stores, runs, reloads and closes without a socket", async (t) => {
  await using dir = await tempDir();
  const vars = env(dir.path);
  const daemon = await createDaemon(parseConfig(vars), { env: vars });
  const fetch = (request: Request) => daemon.fetch(request, undefined as never);
  try {
    await t.step("a signed push is stored and its hook runs", async () => {
      const { response, id } = await push(fetch, "github");
      assert.equal(response.status, 202);
      assert.equal((await waitForFile(`${dir.path}/${id}`)).trim(), "first");
      assert.equal(daemon.store.list({ endpoint: "github" }).length, 1);
    });

    await t.step("reload() serves a new endpoint and names what needs a restart", async () => {
      const next = env(dir.path, {
        HOOKD_ENDPOINTS: "github,second",
        HOOKD_MAX_CONCURRENT_HOOKS: "2",
        HOOKD_SECOND_PROVIDER: "github",
        HOOKD_SECOND_SECRET: SECRET,
        HOOKD_SECOND_HOOK_PUSH: `echo second > "${dir.path}/$HOOKD_SOURCE_DELIVERY_ID"`,
      });
      const restart = await daemon.reload(parseConfig(next), next);
      assert.deepEqual(restart, ["HOOKD_MAX_CONCURRENT_HOOKS"]);
      assert.deepEqual([...daemon.config.endpoints.keys()], ["github", "second"]);
      const { response, id } = await push(fetch, "second");
      assert.equal(response.status, 202);
      assert.equal((await waitForFile(`${dir.path}/${id}`)).trim(), "second");
    });

    await t.step(
      "a reload whose keys cannot be imported is refused and changes nothing",
      async () => {
        const broken = env(dir.path, {
          HOOKD_ENDPOINTS: "github,sg",
          HOOKD_SG_PROVIDER: "sendgrid",
          // Valid base64, parses as a setting, but is no P-256 key: only the import finds out.
          HOOKD_SG_PUBLIC_KEY: btoa("x".repeat(40)),
        });
        await assert.rejects(
          () => daemon.reload(parseConfig(broken), broken),
          (error: Error & { problems?: string[] }) =>
            error.problems?.some((p) => p.startsWith("HOOKD_SG_PUBLIC_KEY ")) === true,
        );
        assert.deepEqual([...daemon.config.endpoints.keys()], ["github", "second"]);
        const { response } = await push(fetch, "second");
        assert.equal(response.status, 202);
        await response.body?.cancel();
      },
    );
  } finally {
    await daemon.close(5_000);
  }
});
