import assert from "node:assert/strict";
import { checkEnvFileMode, fileModeProblem } from "../../lib/config/env_file_mode.ts";
import { tempDir } from "../harness.ts";

Deno.test("checkEnvFileMode() accepts files only the owner can write and the group at most read", async (t) => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(file, "HOOKD_ENDPOINTS=github\n");
  for (const mode of [0o600, 0o640, 0o400, 0o440]) {
    await t.step(`mode ${mode.toString(8)}`, async () => {
      await Deno.chmod(file, mode);
      assert.equal(await checkEnvFileMode(file), undefined);
    });
  }
});

Deno.test("checkEnvFileMode() refuses a file other users can read or write", async (t) => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(file, "HOOKD_ENDPOINTS=github\n");

  await t.step("world-readable names the file, the mode and both fixes", async () => {
    await Deno.chmod(file, 0o644);
    const problem = await checkEnvFileMode(file);
    assert.ok(problem, "a world-readable file is a problem");
    assert.match(problem, new RegExp(`^The env file ${file} is readable by other users`));
    assert.match(problem, /mode 0644/);
    assert.match(problem, new RegExp(`chmod 600 ${file}`));
    assert.match(problem, /chown root:hookd .* && chmod 640 /);
  });

  await t.step("world-writable says writable", async () => {
    await Deno.chmod(file, 0o602);
    assert.match((await checkEnvFileMode(file))!, /is writable by other users \(mode 0602\)/);
  });

  await t.step("both says readable and writable", async () => {
    await Deno.chmod(file, 0o666);
    assert.match((await checkEnvFileMode(file))!, /is readable and writable by other users/);
  });
});

Deno.test("checkEnvFileMode() refuses a group-writable file: with root:hookd a hook could rewrite the commands", async (t) => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(file, "HOOKD_ENDPOINTS=github\n");

  await t.step("0660 names the group, the mode and the chmod that fixes it", async () => {
    await Deno.chmod(file, 0o660);
    const problem = await checkEnvFileMode(file);
    assert.ok(problem, "a group-writable file is a problem");
    assert.match(
      problem,
      new RegExp(`^The env file ${file} is writable by its group \\(mode 0660\\)`),
    );
    assert.match(problem, new RegExp(`chmod 640 ${file}`));
    assert.doesNotMatch(problem, /chmod 600/, "the group may keep reading it");
  });

  await t.step("0620 is refused too", async () => {
    await Deno.chmod(file, 0o620);
    assert.match((await checkEnvFileMode(file))!, /is writable by its group \(mode 0620\)/);
  });

  await t.step("group-writable and world-readable names both and the stricter fix", async () => {
    await Deno.chmod(file, 0o664);
    const problem = (await checkEnvFileMode(file))!;
    assert.match(problem, /is writable by its group and readable by other users \(mode 0664\)/);
    assert.match(problem, new RegExp(`chmod 600 ${file}`));
  });
});

Deno.test("checkEnvFileMode() leaves a missing file to the reader", async () => {
  await using dir = await tempDir();
  assert.equal(await checkEnvFileMode(`${dir.path}/absent.env`), undefined);
});

const ENV_FILE = { what: "The env file", groupHarm: "could change the commands hookd runs" };

Deno.test("fileModeProblem() ignores systems without modes and quotes odd paths", () => {
  assert.equal(fileModeProblem("C:\\hookd.env", null, ENV_FILE), undefined);
  const problem = fileModeProblem("/etc/my hookd/it's.env", 0o100604, ENV_FILE);
  assert.ok(problem);
  assert.ok(problem.includes(`chmod 600 '/etc/my hookd/it'\\''s.env'`), problem);
});

Deno.test("fileModeProblem() flags execute-only access for others too", () => {
  assert.match(
    fileModeProblem("/e.env", 0o601, ENV_FILE)!,
    /is accessible by other users \(mode 0601\)/,
  );
});
