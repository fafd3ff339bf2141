/**
 * Tests for reading the env file over the process environment.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadEnv } from "../../lib/config/env_file.ts";
import { tempDir } from "../harness.ts";

Deno.test("loadEnv() without a path is the process environment alone", async () => {
  const processEnv = { PATH: "/usr/bin", HOOKD_LISTEN: "127.0.0.1:9000" };
  const env = await loadEnv(undefined, processEnv);
  assert.deepEqual(env, processEnv);
  assert.notEqual(env, processEnv, "a copy: the caller's object is never changed");
});

Deno.test("loadEnv() reads the env file in dotenv syntax", async (t) => {
  await using dir = await tempDir("hookd_env_file_");
  const path = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(
    path,
    [
      "# hookd settings",
      "HOOKD_ENDPOINTS=github",
      "export HOOKD_GITHUB_PROVIDER=github",
      'HOOKD_GITHUB_SECRET="quoted # not a comment"',
      "HOOKD_GITHUB_HOOK_PUSH='cd /srv/app && ./deploy.sh \"$HOOKD_EVENT\"'",
      "HOOKD_GITHUB_HOOK_DEFAULT=echo other # a trailing comment",
      "HOOKD_LISTEN =  0.0.0.0:9000  ",
      "HOOKD_HOOK_ENV=",
      "",
    ].join("\n"),
  );
  const env = await loadEnv(path, { PATH: "/usr/bin", HOOKD_LISTEN: "127.0.0.1:1" });

  await t.step("plain, exported, quoted and commented values", () => {
    assert.equal(env.HOOKD_ENDPOINTS, "github");
    assert.equal(env.HOOKD_GITHUB_PROVIDER, "github");
    assert.equal(env.HOOKD_GITHUB_SECRET, "quoted # not a comment");
    assert.equal(env.HOOKD_GITHUB_HOOK_PUSH, 'cd /srv/app && ./deploy.sh "$HOOKD_EVENT"');
    assert.equal(env.HOOKD_GITHUB_HOOK_DEFAULT, "echo other");
    assert.equal(env.HOOKD_HOOK_ENV, "");
  });

  await t.step("the file wins over the process environment, which is kept", () => {
    assert.equal(env.HOOKD_LISTEN, "0.0.0.0:9000");
    assert.equal(env.PATH, "/usr/bin");
  });

  await t.step("an unquoted # starts a comment: quote values that hold one", async () => {
    const hashed = `${dir.path}/hashed.env`;
    await Deno.writeTextFile(hashed, 'A=abc#def\nB="abc#def"\n');
    assert.deepEqual(await loadEnv(hashed, {}), { A: "abc", B: "abc#def" });
  });

  await t.step("the quoting README documents: an escaped quote stays escaped", async () => {
    const quoted = `${dir.path}/quoted.env`;
    await Deno.writeTextFile(
      quoted,
      [
        'A="say \\"hi\\""',
        "B='title=\"Push Hook\"'",
        'C="one\\ntwo"',
        "D='one\\ntwo'",
        "E=`back ticks`",
        "F=a=b=c",
        "",
      ].join("\n"),
    );
    assert.deepEqual(await loadEnv(quoted, {}), {
      A: 'say \\"hi\\"',
      B: 'title="Push Hook"',
      C: "one\ntwo",
      D: "one\\ntwo",
      E: "back ticks",
      F: "a=b=c",
    });
  });

  await t.step("Windows line endings", async () => {
    const crlf = `${dir.path}/crlf.env`;
    await Deno.writeTextFile(crlf, "A=one\r\nB=two\r\n");
    assert.deepEqual(await loadEnv(crlf, {}), { A: "one", B: "two" });
  });
});

Deno.test("loadEnv() names the file it cannot read", async (t) => {
  await using dir = await tempDir("hookd_env_file_");

  await t.step("a missing file", async () => {
    const path = `${dir.path}/missing.env`;
    await assert.rejects(loadEnv(path, {}), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(error.message.startsWith(`Cannot read the env file ${path}: `), error.message);
      assert.ok(error.cause instanceof Deno.errors.NotFound);
      return true;
    });
  });

  await t.step("a directory", async () => {
    await assert.rejects(
      loadEnv(dir.path, {}),
      new RegExp(`^Error: Cannot read the env file ${dir.path}: `),
    );
  });
});
