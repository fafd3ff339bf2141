/**
 * Running hookd as a service: reload on SIGHUP without dropping requests,
 * a broken reload keeps the running configuration, and SIGTERM lets a
 * running hook finish before the daemon exits 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitUntil } from "./_proc.ts";
import { parseExposition, valueOf } from "./_prometheus.ts";
import {
  childEnv,
  envFileText,
  githubSignature,
  integrationTest,
  runHookd,
  startDaemon,
  tempDir,
  waitForFile,
} from "./harness.ts";

const SECRET = "service-secret-0123456789";

function baseEnv(out: string, daemonDir?: string): Record<string, string> {
  return {
    HOOKD_ENDPOINTS: "github",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: SECRET,
    HOOKD_GITHUB_HOOK_PUSH: `echo old > "${out}/$HOOKD_SOURCE_DELIVERY_ID"`,
    ...(daemonDir
      ? {
        HOOKD_LISTEN: "127.0.0.1:0",
        HOOKD_LOG_FILE: `${daemonDir}/log/hookd.log`,
        HOOKD_STATE_DIR: `${daemonDir}/state`,
      }
      : {}),
  };
}

async function push(url: string, endpoint: string, secret: string, id: string) {
  const body = JSON.stringify({ ref: "refs/heads/main", id });
  return await fetch(`${url}/hooks/${endpoint}`, {
    method: "POST",
    body,
    headers: {
      "Content-Type": "application/json",
      "X-GitHub-Event": "push",
      "X-GitHub-Delivery": id,
      "X-Hub-Signature-256": await githubSignature(body, secret),
    },
  });
}

integrationTest("SIGHUP applies a new hook and endpoint without dropping a request", async () => {
  await using out = await tempDir();
  await using daemon = await startDaemon(baseEnv(out.path));

  let sending = true;
  const statuses: number[] = [];
  const clients = Array.from({ length: 4 }, async () => {
    while (sending) {
      const response = await push(daemon.url, "github", SECRET, crypto.randomUUID());
      statuses.push(response.status);
      await response.body?.cancel();
    }
  });

  await Deno.writeTextFile(
    daemon.envFile,
    envFileText({
      ...baseEnv(out.path, daemon.dir),
      HOOKD_ENDPOINTS: "github,second",
      HOOKD_GITHUB_HOOK_PUSH: `echo new > "${out.path}/$HOOKD_SOURCE_DELIVERY_ID"`,
      HOOKD_SECOND_PROVIDER: "github",
      HOOKD_SECOND_SECRET: "second-secret-0123456789",
      HOOKD_SECOND_HOOK_PUSH: `echo second > "${out.path}/$HOOKD_SOURCE_DELIVERY_ID"`,
    }),
  );
  daemon.process.kill("SIGHUP");
  await daemon.waitForRecord((r) => r.type === "daemon" && r.message === "reloaded");
  // Keep the load on across the switch for a few more round trips.
  const after = statuses.length + 20;
  await waitUntil("20 more requests are answered", () => statuses.length >= after);
  sending = false;
  await Promise.all(clients);

  assert.ok(statuses.length > 20);
  assert.deepEqual([...new Set(statuses)], [202], "every request during the reload was accepted");

  const id = crypto.randomUUID();
  const response = await push(daemon.url, "github", SECRET, id);
  assert.equal(response.status, 202);
  await response.body?.cancel();
  assert.equal((await waitForFile(`${out.path}/${id}`)).trim(), "new");

  const secondId = crypto.randomUUID();
  const second = await push(daemon.url, "second", "second-secret-0123456789", secondId);
  assert.equal(second.status, 202);
  await second.body?.cancel();
  assert.equal((await waitForFile(`${out.path}/${secondId}`)).trim(), "second");
});

integrationTest(
  "a broken env file on SIGHUP is refused and the running configuration stays",
  async () => {
    await using out = await tempDir();
    await using daemon = await startDaemon(baseEnv(out.path));
    await Deno.writeTextFile(
      daemon.envFile,
      envFileText({ ...baseEnv(out.path, daemon.dir), HOOKD_GITHUB_SECRET: "", HOOKD_TYPO: "1" }),
    );
    daemon.process.kill("SIGHUP");
    const refused = await daemon.waitForRecord((r) =>
      r.type === "daemon" && r.message.startsWith("reload refused")
    );
    const problems = (refused.problems as string[]).join("\n");
    assert.match(problems, /HOOKD_GITHUB_SECRET is empty/);
    assert.match(problems, /HOOKD_TYPO is not a hookd variable/);

    const id = crypto.randomUUID();
    const response = await push(daemon.url, "github", SECRET, id);
    assert.equal(response.status, 202, "the old secret still verifies");
    await response.body?.cancel();
    assert.equal((await waitForFile(`${out.path}/${id}`)).trim(), "old");
  },
);

integrationTest("SIGTERM lets a running hook finish, then the daemon exits 0", async () => {
  await using out = await tempDir();
  await using daemon = await startDaemon({
    ...baseEnv(out.path),
    // The hook runs until the test opens its gate, once the daemon is stopping.
    HOOKD_GITHUB_HOOK_PUSH: `touch "${out.path}/started"; ` +
      `until [ -e "${out.path}/gate" ]; do sleep 0.02; done; echo finished > "${out.path}/done"`,
  });
  const response = await push(daemon.url, "github", SECRET, crypto.randomUUID());
  assert.equal(response.status, 202);
  await response.body?.cancel();
  await waitForFile(`${out.path}/started`, () => true);

  const stopped = daemon.stop("SIGTERM");
  const stopping = await daemon.waitForRecord((r) =>
    r.message === "stopping: waiting for running hooks"
  );
  assert.equal(stopping.running, 1);
  await Deno.writeTextFile(`${out.path}/gate`, "");
  const status = await stopped;
  assert.equal(status.code, 0);
  assert.equal(await Deno.readTextFile(`${out.path}/done`), "finished\n");
  const records = await daemon.records();
  const hook = records.find((r) => r.type === "hook");
  assert.equal(hook?.exitCode, 0, "the hook was not cut short");
  assert.ok(records.some((r) => r.type === "daemon" && r.message === "stopped"));
});

integrationTest(
  "with HOOKD_TLS_CERT and HOOKD_TLS_KEY the public listener speaks HTTPS",
  async () => {
    await using dir = await tempDir();
    // A throwaway CA and a leaf for 127.0.0.1: rustls refuses a CA as a server certificate.
    const script = `
    set -e
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \\
      -keyout ca.key -out ca.pem -subj /CN=hookd-test-ca
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \\
      -keyout key.pem -out leaf.csr -subj /CN=localhost
    printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > leaf.ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \\
      -extfile leaf.ext -out cert.pem
  `;
    const made = await new Deno.Command("/bin/sh", {
      args: ["-c", script],
      cwd: dir.path,
      ...childEnv(),
      stdout: "null",
      stderr: "null",
    }).output();
    assert.ok(made.success, "openssl made a certificate");
    await using daemon = await startDaemon({
      ...baseEnv(dir.path),
      HOOKD_TLS_CERT: `${dir.path}/cert.pem`,
      HOOKD_TLS_KEY: `${dir.path}/key.pem`,
    });
    assert.match(daemon.stderr(), /listening on https:\/\/127\.0\.0\.1:/);
    using client = Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(`${dir.path}/ca.pem`)],
    });
    const body = JSON.stringify({ ref: "refs/heads/main" });
    const response = await fetch(`https://127.0.0.1:${daemon.port}/hooks/github`, {
      method: "POST",
      body,
      client,
      headers: {
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": await githubSignature(body, SECRET),
      },
    });
    assert.equal(response.status, 202);
    await response.body?.cancel();
  },
);

integrationTest(
  "/healthz turns 503 when the state directory can no longer be written",
  async () => {
    await using out = await tempDir();
    await using daemon = await startDaemon(baseEnv(out.path));
    const ok = await fetch(`${daemon.adminUrl}/healthz`);
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).status, "ok");

    // Root ignores chmod, so take the directory away: put a file where it was.
    await Deno.rename(daemon.stateDir, `${daemon.dir}/state.moved`);
    await Deno.writeTextFile(daemon.stateDir, "not a directory");
    const bad = await fetch(`${daemon.adminUrl}/healthz`);
    assert.equal(bad.status, 503);
    const report = await bad.json();
    assert.equal(report.status, "unavailable");
    assert.equal(typeof report.reason, "string");
    await Deno.remove(daemon.stateDir);
    await Deno.rename(`${daemon.dir}/state.moved`, daemon.stateDir);
  },
);

integrationTest("/metrics is Prometheus text whose counters move with traffic", async () => {
  await using out = await tempDir();
  await using daemon = await startDaemon(baseEnv(out.path));
  async function scrape() {
    const response = await fetch(`${daemon.adminUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    return parseExposition(await response.text());
  }
  const before = await scrape();
  const accepted = { endpoint: "github", outcome: "accepted" };
  const startCount = valueOf(before, "hookd_requests_total", accepted) ?? 0;

  const id = crypto.randomUUID();
  const good = await push(daemon.url, "github", SECRET, id);
  assert.equal(good.status, 202);
  await good.body?.cancel();
  const bad = await push(daemon.url, "github", "wrong-secret-0123456789", crypto.randomUUID());
  assert.equal(bad.status, 401);
  await bad.body?.cancel();
  await waitForFile(`${out.path}/${id}`);
  await daemon.waitForRecord((r) => r.type === "hook");

  const after = await scrape();
  assert.equal(valueOf(after, "hookd_requests_total", accepted), startCount + 1);
  assert.equal(valueOf(after, "hookd_signature_failures_total", { endpoint: "github" }), 1);
  assert.ok((valueOf(after, "hookd_body_bytes_total", { endpoint: "github" }) ?? 0) > 0);
  // The queue records the run's end just after the hook record is written.
  await waitUntil(
    "hookd_hook_runs_total counts the run",
    async () =>
      valueOf(await scrape(), "hookd_hook_runs_total", {
        endpoint: "github",
        outcome: "succeeded",
      }) === 1,
  );
  assert.equal(valueOf(after, "hookd_queue_depth", {}) !== undefined, true);
});

integrationTest(
  "an address outside _ALLOW_FROM gets 403; a trusted proxy's X-Forwarded-For counts",
  async () => {
    await using out = await tempDir();
    await using daemon = await startDaemon({
      ...baseEnv(out.path),
      HOOKD_GITHUB_ALLOW_FROM: "192.0.2.0/24",
      HOOKD_TRUSTED_PROXIES: "127.0.0.1/32",
    });
    const body = JSON.stringify({ ref: "refs/heads/main" });
    const headers = {
      "X-GitHub-Event": "push",
      "X-Hub-Signature-256": await githubSignature(body, SECRET),
    };
    const direct = await daemon.post("github", body, headers);
    assert.equal(direct.status, 403);
    await direct.body?.cancel();
    const outside = await daemon.post("github", body, {
      ...headers,
      "X-Forwarded-For": "198.51.100.9",
    });
    assert.equal(outside.status, 403);
    await outside.body?.cancel();
    const inside = await daemon.post("github", body, {
      ...headers,
      "X-Forwarded-For": "192.0.2.10",
    });
    assert.equal(inside.status, 202);
    await inside.body?.cancel();
    const record = await daemon.waitForRecord((r) => r.type === "request" && r.status === 202);
    assert.equal(record.remote, "192.0.2.10");
  },
);

integrationTest("HOOKD_RATE_LIMIT answers 429 with Retry-After past the budget", async () => {
  await using out = await tempDir();
  await using daemon = await startDaemon({ ...baseEnv(out.path), HOOKD_RATE_LIMIT: "1/m burst=3" });
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 5; i++) {
    const response = await fetch(`${daemon.url}/hooks/nowhere`, { method: "POST" });
    statuses.push(response.status);
    if (response.status === 429) retryAfter = response.headers.get("retry-after");
    await response.body?.cancel();
  }
  assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
  assert.ok(Number(retryAfter) > 0);
});

Deno.test("an env file other users may read is refused, naming the fix", async () => {
  await using dir = await tempDir();
  const envFile = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(
    envFile,
    envFileText({ ...baseEnv(dir.path), HOOKD_LOG_FILE: `${dir.path}/hookd.log` }),
  );
  await Deno.chmod(envFile, 0o644);
  const result = await runHookd(["serve", "--env-file", envFile]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /chmod/);
  assert.match(result.stderr, new RegExp(envFile));
});

Deno.test("a placeholder or short secret is refused on a public address", async () => {
  await using dir = await tempDir();
  const envFile = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(
    envFile,
    envFileText({
      ...baseEnv(dir.path),
      HOOKD_LISTEN: "0.0.0.0:0",
      HOOKD_GITHUB_SECRET: "change-me-this-is-the-example-secret",
    }),
    { mode: 0o600 },
  );
  const result = await runHookd(["check", "--env-file", envFile]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /HOOKD_GITHUB_SECRET/);
});

integrationTest(
  "/metrics carries the process metrics with real values under the daemon's permissions",
  async () => {
    await using out = await tempDir();
    await using daemon = await startDaemon(baseEnv(out.path));
    const response = await fetch(`${daemon.adminUrl}/metrics`);
    assert.equal(response.status, 200);
    const parsed = parseExposition(await response.text());
    // The daemon may not read /proc; a resident size of 0 would be a lie.
    const rss = valueOf(parsed, "process_resident_memory_bytes") ?? 0;
    assert.ok(rss > 10_000_000, `process_resident_memory_bytes ${rss}`);
    assert.ok((valueOf(parsed, "process_cpu_seconds_total") ?? 0) > 0);
    assert.ok((valueOf(parsed, "process_start_time_seconds") ?? 0) > 0);
    assert.ok((valueOf(parsed, "nodejs_heap_size_used_bytes") ?? 0) > 0);
  },
);
