import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { parseConfig } from "../lib/config/mod.ts";
import { createDaemon, runLoggedHook } from "../lib/daemon.ts";
import { githubSignature, tempDir, waitForFile } from "./harness.ts";

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
  const id = crypto.randomUUID();
  // A distinct body each: GitHub signs the body only, so a repeated one is a duplicate.
  const body = JSON.stringify({ ref: "refs/heads/main", after: id });
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
      assert.equal((await daemon.store.list({ endpoint: "github" })).length, 1);
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
        const { response, id } = await push(fetch, "second");
        assert.equal(response.status, 202);
        // Its hook ran: no run is left to log into the next test's records.
        assert.equal((await waitForFile(`${dir.path}/${id}`)).trim(), "second");
      },
    );
  } finally {
    await daemon.close(5_000);
  }
});

async function withRecords(fn: (records: LogRecord[]) => Promise<void>) {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      // Only hook records: a daemon an earlier test in this process started may still log.
      { category: ["hookd", "hook"], sinks: ["memory"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
  try {
    await fn(records);
  } finally {
    await reset();
  }
}

Deno.test("runLoggedHook() writes one hook record naming the delivery and the command's first word, not the command line", async (t) => {
  await using dir = await tempDir();
  await withRecords(async (records) => {
    const env = {
      PATH: "/usr/bin:/bin",
      HOOKD_DELIVERY_ID: "01TEST",
      HOOKD_ENDPOINT: "github",
      HOOKD_EVENT: "push",
    };
    await t.step("a hook that succeeds is an info record with its output", async () => {
      const result = await runLoggedHook("  echo deployed; true --secret-flag", {
        env,
        stdin: new TextEncoder().encode("{}"),
        timeoutMs: 10_000,
        payloadDir: dir.path,
      });
      assert.equal(result.success, true);
      assert.equal(records.length, 1);
      const [record] = records;
      assert.equal(record.level, "info");
      assert.equal(record.properties.id, "01TEST");
      assert.equal(record.properties.endpoint, "github");
      assert.equal(record.properties.event, "push");
      assert.equal(record.properties.command, "echo");
      assert.equal(record.properties.exitCode, 0);
      assert.equal(record.properties.stdout, "deployed\n");
      assert.ok(!JSON.stringify(record.properties).includes("--secret-flag"));
    });
    await t.step("a hook that fails is a warning record with its exit code", async () => {
      await runLoggedHook("exit 3", {
        env,
        stdin: new Uint8Array(),
        timeoutMs: 10_000,
        payloadDir: dir.path,
      });
      assert.equal(records.length, 2);
      assert.equal(records[1].level, "warning");
      assert.equal(records[1].properties.exitCode, 3);
    });
  });
});
