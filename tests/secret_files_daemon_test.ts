/**
 * End to end: secrets kept out of the env file. The real daemon
 * (`main.ts serve`) verifies deliveries with a secret read from a file or
 * from `$CREDENTIALS_DIRECTORY`, refuses at start a file it must not use,
 * takes a rewritten file on SIGHUP; `hookd check` says where each secret
 * came from and never prints one.
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

const SECRET = "file-secret-0123456789abcdef";
const ROTATED = "rotated-secret-fedcba9876543210";

function githubEnv(out: string, extra: Record<string, string>): Record<string, string> {
  return {
    HOOKD_ENDPOINTS: "github",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_HOOK_PUSH: `cat > "${out}/$HOOKD_SOURCE_DELIVERY_ID"`,
    ...extra,
  };
}

async function push(
  daemon: { post: (e: string, b: string, h: HeadersInit) => Promise<Response> },
  secret: string,
  id = crypto.randomUUID(),
): Promise<number> {
  const body = JSON.stringify({ id });
  const response = await daemon.post("github", body, {
    "Content-Type": "application/json",
    "X-GitHub-Event": "push",
    "X-GitHub-Delivery": id,
    "X-Hub-Signature-256": await githubSignature(body, secret),
  });
  await response.body?.cancel();
  return response.status;
}

async function writeSecret(path: string, secret: string, mode = 0o640): Promise<void> {
  await Deno.writeTextFile(path, `${secret}\n`);
  await Deno.chmod(path, mode);
}

integrationTest("a delivery verifies with a secret read from a file", async () => {
  await using out = await tempDir();
  const file = `${out.path}/github.secret`;
  await writeSecret(file, SECRET);
  await using daemon = await startDaemon(githubEnv(out.path, { HOOKD_GITHUB_SECRET_FILE: file }));
  const id = crypto.randomUUID();
  assert.equal(await push(daemon, SECRET, id), 202);
  assert.match(await waitForFile(`${out.path}/${id}`), new RegExp(id));
  assert.equal(await push(daemon, "some-other-secret-0123456789"), 401);
});

integrationTest("a delivery verifies with a secret from $CREDENTIALS_DIRECTORY", async () => {
  await using out = await tempDir();
  await using credentials = await tempDir();
  // systemd's copy: hookd judges no mode inside the credentials directory.
  await writeSecret(`${credentials.path}/github`, SECRET, 0o644);
  await using daemon = await startDaemon(
    githubEnv(out.path, { HOOKD_GITHUB_SECRET_FILE: "github" }),
    { processEnv: { CREDENTIALS_DIRECTORY: credentials.path } },
  );
  const id = crypto.randomUUID();
  assert.equal(await push(daemon, SECRET, id), 202);
  assert.match(await waitForFile(`${out.path}/${id}`), new RegExp(id));
  assert.equal(await push(daemon, "some-other-secret-0123456789"), 401);
});

integrationTest(
  "serve refuses at start a secret file it must not use, in one line naming the variable and the fix",
  async (t) => {
    await using dir = await tempDir();
    const file = `${dir.path}/github.secret`;
    const envFile = `${dir.path}/hookd.env`;
    async function refusal(extra: Record<string, string>): Promise<string> {
      await Deno.writeTextFile(
        envFile,
        envFileText({
          ...githubEnv(dir.path, extra),
          HOOKD_LISTEN: "127.0.0.1:0",
          HOOKD_ADMIN_LISTEN: "off",
          HOOKD_LOG_FILE: `${dir.path}/hookd.log`,
          HOOKD_STATE_DIR: `${dir.path}/state`,
        }),
      );
      await Deno.chmod(envFile, 0o600);
      const result = await runHookd(["serve", "--env-file", envFile]);
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      return lines[0];
    }

    await t.step("a file others can read", async () => {
      await writeSecret(file, SECRET, 0o644);
      const line = await refusal({ HOOKD_GITHUB_SECRET_FILE: file });
      assert.match(line, /^hookd: The secret file .* \(HOOKD_GITHUB_SECRET_FILE\) is readable/);
      assert.ok(line.includes(`chmod 600 ${file}`), line);
    });

    await t.step("a missing file", async () => {
      const line = await refusal({ HOOKD_GITHUB_SECRET_FILE: `${dir.path}/missing` });
      assert.match(
        line,
        /^hookd: HOOKD_GITHUB_SECRET_FILE names .*\/missing, which cannot be read \(no such file\): create it/,
      );
    });

    await t.step("both _SECRET and _SECRET_FILE", async () => {
      await writeSecret(file, SECRET);
      const line = await refusal({ HOOKD_GITHUB_SECRET: SECRET, HOOKD_GITHUB_SECRET_FILE: file });
      assert.equal(
        line,
        "hookd: HOOKD_GITHUB_SECRET and HOOKD_GITHUB_SECRET_FILE are both set: keep one (HOOKD_GITHUB_SECRET_FILE keeps the secret out of the env file)",
      );
    });

    await t.step("a relative name without $CREDENTIALS_DIRECTORY", async () => {
      const line = await refusal({ HOOKD_GITHUB_SECRET_FILE: "github" });
      assert.match(
        line,
        /^hookd: HOOKD_GITHUB_SECRET_FILE is "github", a credential's name, but \$CREDENTIALS_DIRECTORY is not set: load it in the unit \(LoadCredential=github:/,
      );
    });
  },
);

integrationTest("a rewritten secret file takes effect on SIGHUP", async () => {
  await using out = await tempDir();
  const file = `${out.path}/github.secret`;
  await writeSecret(file, SECRET);
  await using daemon = await startDaemon(githubEnv(out.path, { HOOKD_GITHUB_SECRET_FILE: file }));
  assert.equal(await push(daemon, SECRET), 202);

  await writeSecret(file, ROTATED);
  assert.equal(await push(daemon, SECRET), 202, "read at load, not per request");
  daemon.process.kill("SIGHUP");
  await daemon.waitForRecord((r) => r.type === "daemon" && r.message === "reloaded");
  assert.equal(await push(daemon, SECRET), 401, "the old secret no longer verifies");
  const id = crypto.randomUUID();
  assert.equal(await push(daemon, ROTATED, id), 202);
  assert.match(await waitForFile(`${out.path}/${id}`), new RegExp(id));
  const log = await Deno.readTextFile(daemon.logFile);
  for (const secret of [SECRET, ROTATED]) assert.ok(!log.includes(secret), "a secret in the log");
});

integrationTest("hookd check says where each secret came from and never prints one", async () => {
  await using dir = await tempDir();
  await using credentials = await tempDir();
  const secrets = {
    envFile: "env-file-secret-0123456789",
    file: "plain-file-secret-0123456789",
    credential: "credential-secret-0123456789",
    admin: "admin-token-credential-0123456789",
  };
  await writeSecret(`${dir.path}/previous.secret`, secrets.file);
  await writeSecret(`${credentials.path}/github`, secrets.credential, 0o400);
  await writeSecret(`${credentials.path}/admin`, secrets.admin, 0o400);
  const envFile = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(
    envFile,
    envFileText({
      HOOKD_ENDPOINTS: "github,netbox",
      HOOKD_GITHUB_PROVIDER: "github",
      HOOKD_GITHUB_SECRET_FILE: "github",
      HOOKD_GITHUB_SECRET_PREVIOUS_FILE: `${dir.path}/previous.secret`,
      HOOKD_NETBOX_PROVIDER: "netbox",
      HOOKD_NETBOX_SECRET: secrets.envFile,
      HOOKD_ADMIN_TOKEN_FILE: `${credentials.path}/admin`,
      HOOKD_GITHUB_HOOK_PUSH: `echo ${secrets.credential}`,
    }),
  );
  await Deno.chmod(envFile, 0o600);
  const result = await runHookd(["check", "--env-file", envFile], {
    env: { CREDENTIALS_DIRECTORY: credentials.path },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    new RegExp(
      `^ +secret +\\*\\*\\* from credential github \\+ previous \\*\\*\\* from file ${dir.path}/previous\\.secret$`,
      "m",
    ),
  );
  assert.match(result.stdout, /^ +secret +\*\*\* from env file$/m);
  assert.match(result.stdout, /^token +admin listener: \*\*\* from credential admin$/m);
  for (const secret of Object.values(secrets)) {
    assert.ok(!result.stdout.includes(secret), `check printed ${secret}`);
    assert.ok(!result.stderr.includes(secret), `check printed ${secret} on stderr`);
  }
});
