/**
 * Tests for secrets read from files and systemd credentials: which `_FILE`
 * variables exist, how each file is checked and read, and how the parser
 * takes their values.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readSecretFiles, secretFileVariables } from "../../lib/config/secret_files.ts";
import { ConfigError, parseConfig } from "../../lib/config/mod.ts";
import { tempDir } from "../harness.ts";

const SECRET = "file-secret-0123456789abcdef";

/** The one problem a read refuses with. */
async function refusal(
  vars: Record<string, string>,
  credentials: string | undefined,
): Promise<string> {
  try {
    await readSecretFiles(vars, credentials);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.problems.length, 1, error.problems.join("\n"));
    return error.problems[0];
  }
  assert.fail("the read was not refused");
}

Deno.test("secretFileVariables() knows the _FILE form of every secret, and nothing else", () => {
  const files = secretFileVariables({
    HOOKD_ENDPOINTS: "gh, fb",
    HOOKD_GH_SECRET_FILE: "gh",
    HOOKD_GH_SECRET_PREVIOUS_FILE: "/etc/hookd/old",
    HOOKD_FB_VERIFY_TOKEN_FILE: "fb-token",
    HOOKD_ADMIN_TOKEN_FILE: "admin",
    HOOKD_STORE_PASSWORD_FILE: "pg",
    HOOKD_LOG_FILE: "/var/log/hookd/hookd.log",
    HOOKD_UNLISTED_SECRET_FILE: "x",
    HOOKD_GH_HOOK_PUSH_FILE: "y",
  });
  assert.deepEqual(Object.fromEntries(files), {
    HOOKD_ADMIN_TOKEN_FILE: "HOOKD_ADMIN_TOKEN",
    HOOKD_STORE_PASSWORD_FILE: "PGPASSWORD",
    HOOKD_GH_SECRET_FILE: "HOOKD_GH_SECRET",
    HOOKD_GH_SECRET_PREVIOUS_FILE: "HOOKD_GH_SECRET_PREVIOUS",
    HOOKD_FB_VERIFY_TOKEN_FILE: "HOOKD_FB_VERIFY_TOKEN",
  });
});

Deno.test("readSecretFiles() reads a file and a credential", async (t) => {
  await using dir = await tempDir();
  const credentials = `${dir.path}/credentials`;
  await Deno.mkdir(credentials);
  await Deno.writeTextFile(`${dir.path}/gh.secret`, `${SECRET}\n`, { mode: 0o640 });
  await Deno.chmod(`${dir.path}/gh.secret`, 0o640);
  // systemd guards the credentials itself: their mode is not hookd's to judge.
  await Deno.writeTextFile(`${credentials}/admin`, "admin-token\r\n", { mode: 0o644 });
  await Deno.chmod(`${credentials}/admin`, 0o644);
  await Deno.writeTextFile(`${credentials}/two-lines`, "secret\n\n");

  await t.step("one trailing newline dropped, the origin named", async () => {
    const files = await readSecretFiles({
      HOOKD_ENDPOINTS: "gh",
      HOOKD_GH_SECRET_FILE: `${dir.path}/gh.secret`,
      HOOKD_GH_SECRET_PREVIOUS_FILE: "two-lines",
      HOOKD_ADMIN_TOKEN_FILE: "admin",
    }, credentials);
    assert.deepEqual(files.get("HOOKD_GH_SECRET_FILE"), {
      value: SECRET,
      origin: `file ${dir.path}/gh.secret`,
    });
    assert.deepEqual(files.get("HOOKD_ADMIN_TOKEN_FILE"), {
      value: "admin-token",
      origin: "credential admin",
    });
    assert.equal(files.get("HOOKD_GH_SECRET_PREVIOUS_FILE")?.value, "secret\n");
  });

  await t.step("an absolute path inside $CREDENTIALS_DIRECTORY is a credential", async () => {
    const files = await readSecretFiles(
      { HOOKD_ADMIN_TOKEN_FILE: `${credentials}/admin` },
      credentials,
    );
    assert.equal(files.get("HOOKD_ADMIN_TOKEN_FILE")?.origin, "credential admin");
  });

  await t.step("a file the parser refuses as doubly set is not read", async () => {
    const files = await readSecretFiles(
      { HOOKD_ADMIN_TOKEN: "x", HOOKD_ADMIN_TOKEN_FILE: "/nonexistent" },
      undefined,
    );
    assert.equal(files.size, 0);
  });
});

Deno.test("readSecretFiles() refuses a file it must not use, naming the variable and the fix", async (t) => {
  await using dir = await tempDir();
  const path = `${dir.path}/gh.secret`;
  await Deno.writeTextFile(path, SECRET);
  const vars = (value: string) => ({ HOOKD_ENDPOINTS: "gh", HOOKD_GH_SECRET_FILE: value });

  await t.step("readable by others", async () => {
    await Deno.chmod(path, 0o644);
    const problem = await refusal(vars(path), undefined);
    assert.match(problem, /HOOKD_GH_SECRET_FILE/);
    assert.match(problem, /readable by other users \(mode 0644\)/);
    assert.ok(problem.includes(`chmod 600 ${path}`), problem);
  });

  await t.step("writable by its group", async () => {
    await Deno.chmod(path, 0o660);
    const problem = await refusal(vars(path), undefined);
    assert.match(problem, /HOOKD_GH_SECRET_FILE.*writable by its group/);
    assert.ok(problem.includes(`chmod 640 ${path}`), problem);
  });

  await t.step("missing", async () => {
    const problem = await refusal(vars(`${dir.path}/nope`), undefined);
    assert.match(
      problem,
      /^HOOKD_GH_SECRET_FILE names .*\/nope, which cannot be read \(no such file\): create it/,
    );
  });

  await t.step("a credential that was not loaded", async () => {
    const problem = await refusal(vars("gh"), dir.path);
    assert.match(problem, /^HOOKD_GH_SECRET_FILE names .*\/gh, which cannot be read/);
    assert.match(problem, /LoadCredential=gh:/);
  });

  await t.step("a relative name without $CREDENTIALS_DIRECTORY", async () => {
    const problem = await refusal(vars("gh"), undefined);
    assert.match(
      problem,
      /^HOOKD_GH_SECRET_FILE is "gh", a credential's name, but \$CREDENTIALS_DIRECTORY is not set: .*LoadCredential=gh:.*or give an absolute path$/,
    );
  });

  await t.step("empty, or a directory", async () => {
    await Deno.writeTextFile(path, "\n");
    await Deno.chmod(path, 0o600);
    assert.match(await refusal(vars(path), undefined), /which is empty: write the secret/);
    assert.match(await refusal(vars(dir.path), undefined), /which is not a file/);
  });
});

Deno.test("parseConfig() takes a secret from its file and refuses one given both ways", async (t) => {
  const base = { HOOKD_ENDPOINTS: "gh", HOOKD_GH_PROVIDER: "github" };
  const secretFiles = new Map([
    ["HOOKD_GH_SECRET_FILE", { value: SECRET, origin: "credential gh" }],
  ]);

  await t.step("the file's secret verifies, its origin kept", () => {
    const config = parseConfig({ ...base, HOOKD_GH_SECRET_FILE: "gh" }, { secretFiles });
    assert.deepEqual(config.endpoints.get("gh")?.secrets, [SECRET]);
    assert.equal(config.secretOrigins.get("HOOKD_GH_SECRET"), "credential gh");
  });

  await t.step("_SECRET and _SECRET_FILE both set", () => {
    assert.throws(
      () =>
        parseConfig({ ...base, HOOKD_GH_SECRET: SECRET, HOOKD_GH_SECRET_FILE: "gh" }, {
          secretFiles,
        }),
      (error: ConfigError) => {
        assert.deepEqual(error.problems, [
          "HOOKD_GH_SECRET and HOOKD_GH_SECRET_FILE are both set: keep one (HOOKD_GH_SECRET_FILE keeps the secret out of the env file)",
        ]);
        return true;
      },
    );
  });

  await t.step("a _FILE variable of an unlisted endpoint is not a hookd variable", () => {
    assert.throws(
      () => parseConfig({ ...base, HOOKD_GH_SECRET: SECRET, HOOKD_OTHER_SECRET_FILE: "x" }),
      /HOOKD_OTHER_SECRET_FILE is not a hookd variable/,
    );
  });

  await t.step("a verify token's file for a provider without one names the _FILE variable", () => {
    assert.throws(
      () =>
        parseConfig({ ...base, HOOKD_GH_SECRET: SECRET, HOOKD_GH_VERIFY_TOKEN_FILE: "t" }, {
          secretFiles: new Map([["HOOKD_GH_VERIFY_TOKEN_FILE", {
            value: "tok",
            origin: "credential t",
          }]]),
        }),
      /HOOKD_GH_VERIFY_TOKEN_FILE is not a hookd variable/,
    );
  });

  await t.step("the store's password file needs PostgreSQL and no password in the URL", () => {
    const password = new Map([["HOOKD_STORE_PASSWORD_FILE", {
      value: "pw",
      origin: "credential pg",
    }]]);
    const env = { ...base, HOOKD_GH_SECRET: SECRET, HOOKD_STORE_PASSWORD_FILE: "pg" };
    assert.throws(
      () => parseConfig(env, { secretFiles: password }),
      /HOOKD_STORE_PASSWORD_FILE is set but HOOKD_STORE is not PostgreSQL/,
    );
    assert.throws(
      () =>
        parseConfig({ ...env, HOOKD_STORE: "postgres://u:pw@db/hookd" }, { secretFiles: password }),
      /HOOKD_STORE holds a password and HOOKD_STORE_PASSWORD_FILE names another/,
    );
    const config = parseConfig({ ...env, HOOKD_STORE: "postgres://u@db/hookd" }, {
      secretFiles: password,
    });
    assert.deepEqual(config.store, {
      kind: "postgres",
      url: "postgres://u@db/hookd",
      password: "pw",
    });
    assert.equal(config.secretOrigins.get("PGPASSWORD"), "credential pg");
  });
});
