/**
 * A hook that cannot start: `hookd check` warns about an absolute hook path
 * that is missing or not executable, and the daemon's stderr line for the
 * failed run carries the first line of the hook's stderr (what the shell
 * said), not just `exit=127`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitUntil } from "./_proc.ts";
import {
  DAEMON_FLAGS,
  envFileText,
  githubSignature,
  integrationTest,
  runHookd,
  startDaemon,
  tempDir,
} from "./harness.ts";

const SECRET = "hook-start-test-secret-0123456789";

Deno.test("hookd check warns about a hook path that is missing or not executable, and passes", async () => {
  await using dir = await tempDir();
  const missing = `${dir.path}/opt/missing.sh`;
  const notExecutable = `${dir.path}/not-executable.sh`;
  const executable = `${dir.path}/deploy.sh`;
  await Deno.writeTextFile(notExecutable, "#!/bin/sh\n", { mode: 0o644 });
  await Deno.writeTextFile(executable, "#!/bin/sh\n", { mode: 0o755 });
  const envFile = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(
    envFile,
    envFileText({
      HOOKD_STATE_DIR: `${dir.path}/state`,
      HOOKD_LOG_FILE: `${dir.path}/hookd.log`,
      HOOKD_ENDPOINTS: "x",
      HOOKD_X_PROVIDER: "github",
      HOOKD_X_SECRET: SECRET,
      HOOKD_X_HOOK_PUSH: `${missing} --fast`,
      HOOKD_X_HOOK_RELEASE: notExecutable,
      HOOKD_X_HOOK_ISSUES: `${executable} issues`,
      HOOKD_X_HOOK_PING: "echo pong",
      HOOKD_X_HOOK_STAR: "sh ./relative.sh",
    }),
    { mode: 0o600 },
  );
  const result = await runHookd(["check", "--env-file", envFile]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /endpoint x/, "the description is still printed");
  assert.deepEqual(result.stderr.trim().split("\n").sort(), [
    `warning: HOOKD_X_HOOK_PUSH runs ${missing}, which does not exist`,
    `warning: HOOKD_X_HOOK_RELEASE runs ${notExecutable}, which is not executable`,
  ]);
  assert.doesNotMatch(result.stderr, new RegExp(SECRET));
});

Deno.test("without the C library's posix_spawn, hookd check and serve say so and refuse", async () => {
  await using dir = await tempDir();
  const envFile = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(
    envFile,
    envFileText({
      HOOKD_STATE_DIR: `${dir.path}/state`,
      HOOKD_LOG_FILE: `${dir.path}/hookd.log`,
      HOOKD_LISTEN: "127.0.0.1:0",
      HOOKD_ENDPOINTS: "x",
      HOOKD_X_PROVIDER: "github",
      HOOKD_X_SECRET: SECRET,
      HOOKD_X_HOOK_PUSH: "echo pong",
    }),
    { mode: 0o600 },
  );
  // The daemon's flags but --allow-ffi: Deno refuses to load any library.
  const flags = DAEMON_FLAGS.filter((flag) => flag !== "--allow-ffi");
  assert.equal(flags.length, DAEMON_FLAGS.length - 1);
  for (const command of ["check", "serve"]) {
    const result = await runHookd([command, "--env-file", envFile], { flags });
    const stderr = result.stderr;
    assert.equal(result.code, 1, `${command}: ${stderr}`);
    assert.match(
      stderr,
      /Cannot load the C library's posix_spawn, which starts every hook/,
      command,
    );
  }
});

integrationTest(
  "a failed run's stderr line carries the first line of the hook's stderr",
  async () => {
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "x",
      HOOKD_X_PROVIDER: "github",
      HOOKD_X_SECRET: SECRET,
      HOOKD_X_HOOK_PUSH: "/nonexistent/x.sh",
      HOOKD_X_HOOK_RELEASE: "printf '\\n  line one\\033[2J%0300d\\nline two\\n' 0 >&2; exit 3",
      HOOKD_X_HOOK_ISSUES: "echo chatty >&2",
    });
    async function deliver(event: string): Promise<string> {
      const body = JSON.stringify({ event, nonce: crypto.randomUUID() });
      const response = await daemon.post("x", body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": crypto.randomUUID(),
        "X-Hub-Signature-256": await githubSignature(body, SECRET),
      });
      assert.equal(response.status, 202);
      return (await response.json()).id;
    }
    /** The hook record's human line on stderr, once the stderr sink wrote it. */
    async function hookLine(id: string): Promise<string> {
      await daemon.waitForRecord((r) => r.type === "hook" && r.id === id);
      return await waitUntil(
        () => `a hook line for ${id}:\n${daemon.stderr()}`,
        () =>
          daemon.stderr().split("\n").find((l) =>
            /^(WARNING )?hook /.test(l) && l.includes(`id=${id}`)
          ),
      );
    }

    const missing = await hookLine(await deliver("push"));
    assert.match(missing, /exit=127/);
    assert.match(
      missing,
      /stderr="[^"]*\/nonexistent\/x\.sh: (\d+: )?(not found|No such file or directory)"/,
    );

    const noisy = await hookLine(await deliver("release"));
    assert.match(noisy, /exit=3/);
    const quoted = /stderr=("(?:[^"\\]|\\.)*")/.exec(noisy)?.[1];
    assert.ok(quoted, noisy);
    const first = JSON.parse(quoted);
    assert.ok(first.startsWith("line one\u001b[2J000"), first);
    assert.ok(first.length <= 201, `cut to about 200 characters, not ${first.length}`);
    assert.ok(!noisy.includes("\u001b"), "control characters are escaped");
    assert.doesNotMatch(noisy, /line two/);

    const succeeded = await hookLine(await deliver("issues"));
    assert.doesNotMatch(succeeded, /stderr=/, "only failed runs carry it");
  },
);
