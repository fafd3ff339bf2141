/**
 * Tests for the test harness's own promise to CI: a test that cannot run
 * here is skipped on a developer's machine and fails under
 * `HOOKD_TEST_STRICT=1`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childEnv, tempDir } from "./harness.ts";

const HARNESS = new URL("./harness.ts", import.meta.url).href;

/** Run `deno test` on `source` with `env` added; the summary line and exit code. */
async function denoTest(
  dir: string,
  source: string,
  env: Record<string, string>,
): Promise<{ code: number; summary: string; output: string }> {
  const file = `${dir}/probe_test.ts`;
  await Deno.writeTextFile(file, source);
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-env", "--allow-run=/bin/sh", "--no-check", file],
    ...childEnv({ ...env, NO_COLOR: "1" }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  const summary = /^(ok|FAILED) \|.*$/m.exec(output)?.[0] ?? "";
  return { code: result.code, summary, output };
}

const PROBE = `
import { requireOrSkip } from "${HARNESS}";
requireOrSkip("the frobnicator is not installed", { name: "needs a frobnicator", fn() {} });
requireOrSkip(null, { name: "needs nothing", fn() {} });
`;

Deno.test("requireOrSkip() skips a test that cannot run, unless HOOKD_TEST_STRICT=1", async (t) => {
  await using dir = await tempDir();

  await t.step("without it: skipped, with the reason on stderr", async () => {
    const { code, summary, output } = await denoTest(dir.path, PROBE, { HOOKD_TEST_STRICT: "" });
    assert.equal(code, 0, output);
    assert.match(summary, /^ok \| 1 passed \| 0 failed \| 1 ignored/);
    assert.match(output, /Skipping "needs a frobnicator": the frobnicator is not installed/);
  });

  await t.step("with it: failed, naming what is missing", async () => {
    const { code, summary, output } = await denoTest(dir.path, PROBE, { HOOKD_TEST_STRICT: "1" });
    assert.notEqual(code, 0);
    assert.match(summary, /^FAILED \| 1 passed \| 1 failed/);
    assert.match(output, /Cannot run here: the frobnicator is not installed/);
  });
});

Deno.test("childEnv() passes the test's environment on, minus HOOKD_* and the service variables", async (t) => {
  const probe = {
    HOOKD_PROBE_SECRET: "from the developer's shell",
    STATE_DIRECTORY: "/var/lib/someone-else",
    NOTIFY_SOCKET: "/run/systemd/notify",
    HOOKD_PROBE_PROXY: "",
    HTTPS_PROXY_PROBE: "http://proxy.example:3128",
  };
  const saved = Object.fromEntries(Object.keys(probe).map((name) => [name, Deno.env.get(name)]));
  for (const [name, value] of Object.entries(probe)) Deno.env.set(name, value);
  try {
    await t.step("a child sees the rest of the environment, not hookd's or systemd's", async () => {
      const { env } = childEnv();
      assert.equal(env.HTTPS_PROXY_PROBE, "http://proxy.example:3128");
      assert.equal(env.PATH, Deno.env.get("PATH"));
      for (
        const name of [
          "HOOKD_PROBE_SECRET",
          "HOOKD_PROBE_PROXY",
          "STATE_DIRECTORY",
          "NOTIFY_SOCKET",
        ]
      ) {
        assert.ok(!(name in env), `${name} reaches the child`);
      }
      const child = await new Deno.Command("/bin/sh", {
        args: ["-c", "env"],
        ...childEnv(),
        stdout: "piped",
      }).output();
      const seen = new TextDecoder().decode(child.stdout);
      assert.match(seen, /^HTTPS_PROXY_PROBE=http:\/\/proxy\.example:3128$/m);
      assert.doesNotMatch(seen, /^(HOOKD_PROBE_SECRET|STATE_DIRECTORY|NOTIFY_SOCKET)=/m);
    });

    await t.step("unless the test sets them", () => {
      const { env } = childEnv({ STATE_DIRECTORY: "/tmp/state", HOOKD_X: "1" });
      assert.equal(env.STATE_DIRECTORY, "/tmp/state");
      assert.equal(env.HOOKD_X, "1");
    });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});
