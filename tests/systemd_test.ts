import assert from "node:assert/strict";
import { parseConfig } from "../lib/config/mod.ts";
import { loadEnv } from "../lib/config/env_file.ts";
import { childEnv, requireOrSkip, tempDir } from "./harness.ts";

const SYSTEMD = new URL("../systemd/", import.meta.url).pathname;
const INSTALL = `${SYSTEMD}install.sh`;
const VERIFY = `${SYSTEMD}verify.sh`;
const UNIT = `${SYSTEMD}hookd.service`;
const EXAMPLE = `${SYSTEMD}hookd.env`;

/**
 * The example env file as install.sh installs it: an admin's shell has no
 * STATE_DIRECTORY or LOGS_DIRECTORY, so the installed file names both
 * directories, and `hookd deliveries --env-file /etc/hookd/hookd.env` reads
 * the daemon's store. The example keeps them commented for the quick start.
 * Its throwaway secrets are commented out: the installed file holds none.
 */
function installedEnvText(example: string): string {
  return example
    .replace(/^#HOOKD_LOG_FILE=.*$/m, "HOOKD_LOG_FILE=/var/log/hookd/hookd.log")
    .replace(/^#HOOKD_STATE_DIR=.*$/m, "HOOKD_STATE_DIR=/var/lib/hookd")
    .replace(/^(HOOKD_[A-Z0-9_]*_SECRET(?:_PREVIOUS)?|HOOKD_ADMIN_TOKEN)=.*$/gm, "#$1=");
}

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("/bin/sh", {
    args,
    ...childEnv(env),
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o7777).toString(8).padStart(4, "0");
}

async function onPath(program: string): Promise<boolean> {
  return (await run(["-c", `command -v ${program}`])).code === 0;
}

const NO_ANALYZE = await onPath("systemd-analyze")
  ? null
  : "systemd-analyze is not installed (apt-get install systemd)";

Deno.test("install.sh with DESTDIR installs binary, unit and env file with their modes", async (t) => {
  await using dir = await tempDir();
  const root = `${dir.path}/root`;
  const binary = `${dir.path}/hookd-build`;
  await Deno.writeTextFile(binary, "#!/bin/sh\necho v1\n", { mode: 0o755 });
  const env = `${root}/etc/hookd/hookd.env`;

  await t.step("first run installs everything", async () => {
    const result = await run([INSTALL, binary], { DESTDIR: root });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await Deno.readTextFile(`${root}/usr/local/bin/hookd`), "#!/bin/sh\necho v1\n");
    assert.equal(await mode(`${root}/usr/local/bin/hookd`), "0755");
    assert.equal(
      await Deno.readTextFile(`${root}/etc/systemd/system/hookd.service`),
      await Deno.readTextFile(UNIT),
    );
    assert.equal(await mode(`${root}/etc/systemd/system/hookd.service`), "0644");
    assert.equal(await Deno.readTextFile(env), installedEnvText(await Deno.readTextFile(EXAMPLE)));
    assert.equal(await mode(env), "0640");
    assert.equal(await mode(`${root}/etc/hookd`), "0750");
    assert.match(result.stdout, /hookd check --env-file \/etc\/hookd\/hookd\.env/);
    assert.match(result.stdout, /systemctl enable --now hookd/);
  });

  await t.step("a second run upgrades the binary but keeps the edited env file", async () => {
    await Deno.writeTextFile(env, "HOOKD_ENDPOINTS=mine\n");
    await Deno.chmod(env, 0o600);
    await Deno.writeTextFile(binary, "#!/bin/sh\necho v2\n");
    const result = await run([INSTALL, binary], { DESTDIR: root });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await Deno.readTextFile(env), "HOOKD_ENDPOINTS=mine\n");
    assert.equal(await mode(env), "0600");
    assert.match(result.stdout, /kept .*hookd\.env \(never overwritten\)/);
    assert.equal(await Deno.readTextFile(`${root}/usr/local/bin/hookd`), "#!/bin/sh\necho v2\n");
  });
});

Deno.test("the installed env file points every command at the daemon's state and log", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/root`;
  const binary = `${dir.path}/hookd-build`;
  await Deno.writeTextFile(binary, "#!/bin/sh\n", { mode: 0o755 });
  const result = await run([INSTALL, binary], { DESTDIR: root });
  assert.equal(result.code, 0, result.stderr);
  const installed = await Deno.readTextFile(`${root}/etc/hookd/hookd.env`);
  assert.match(installed, /^HOOKD_STATE_DIR=\/var\/lib\/hookd$/m);
  assert.match(installed, /^HOOKD_LOG_FILE=\/var\/log\/hookd\/hookd\.log$/m);
  // install.sh writes no secret: each endpoint's comes from the admin.
  assert.doesNotMatch(installed, /^HOOKD_[A-Z0-9_]*(SECRET|TOKEN)[A-Z_]*=/m);
  assert.match(installed, /^#HOOKD_GITHUB_SECRET=$/m);
  const vars = await loadEnv(`${root}/etc/hookd/hookd.env`, {});
  assert.throws(
    () => parseConfig(vars),
    /HOOKD_GITHUB_SECRET is not set: .*HOOKD_GITHUB_SECRET_FILE/,
  );
  // Without systemd's variables (an admin's shell) the config still says so.
  const config = parseConfig({ ...vars, HOOKD_GITHUB_SECRET_FILE: "github" }, {
    secretFiles: new Map([["HOOKD_GITHUB_SECRET_FILE", {
      value: "a-real-secret-0123456789abcdef",
      origin: "credential github",
    }]]),
  });
  assert.equal(config.stateDir, "/var/lib/hookd");
  assert.equal(config.log.file, "/var/log/hookd/hookd.log");
  // The example stays usable from a checkout: its defaults are ./.hookd.
  const example = parseConfig(await loadEnv(EXAMPLE, {}));
  assert.equal(example.stateDir, ".hookd/state");
});

Deno.test("install.sh refuses a missing binary and says how to build it", async () => {
  await using dir = await tempDir();
  const result = await run([INSTALL, `${dir.path}/nope`], { DESTDIR: `${dir.path}/root` });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /nope not found: build it with 'deno task compile'/);
  assert.equal(
    await Deno.stat(`${dir.path}/root`).then(() => true, () => false),
    false,
    "nothing was installed",
  );
});

Deno.test("the unit keeps the settings hookd depends on", async () => {
  const unit = await Deno.readTextFile(UNIT);
  const settings = unit.split("\n").filter((line) => /^[A-Za-z]+=/.test(line));
  for (
    const expected of [
      "Type=notify",
      "NotifyAccess=all",
      "ExecStart=/usr/local/bin/hookd serve --env-file /etc/hookd/hookd.env",
      "ExecReload=/bin/kill -HUP $MAINPID",
      "KillMode=mixed",
      "User=hookd",
      "StateDirectory=hookd",
      "LogsDirectory=hookd",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "CapabilityBoundingSet=",
    ]
  ) {
    assert.ok(settings.includes(expected), `${expected} is set`);
  }
  // Credentials ship commented: the admin names the files they come from.
  assert.match(unit, /^#LoadCredentialEncrypted=github:\/etc\/hookd\/github\.cred$/m);
  assert.match(unit, /^#LoadCredential=github:\/etc\/hookd\/github\.secret$/m);
  assert.match(unit, /systemctl restart hookd/);
  assert.ok(
    !settings.some((line) => line.startsWith("MemoryDenyWriteExecute=")),
    "MemoryDenyWriteExecute breaks V8's JIT",
  );
});

requireOrSkip(NO_ANALYZE, {
  name: "systemd-analyze verify passes on the unit without a warning",
  async fn() {
    const result = await run([VERIFY]);
    assert.equal(result.stderr, "");
    assert.equal(result.stdout, `systemd-analyze verify: ${UNIT} OK\n`);
    assert.equal(result.code, 0);
  },
});

requireOrSkip(NO_ANALYZE, {
  name: "verify.sh fails on a unit systemd-analyze only warns about",
  async fn() {
    await using dir = await tempDir();
    const unit = `${dir.path}/hookd.service`;
    const text = await Deno.readTextFile(UNIT);
    await Deno.writeTextFile(unit, text.replace("[Service]\n", "[Service]\nNotAnOption=yes\n"));
    const result = await run([VERIFY, unit]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Unknown key( name)? 'NotAnOption'/);
    assert.match(result.stderr, new RegExp(`verify failed for ${unit}`));
  },
});
