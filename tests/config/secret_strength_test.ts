import assert from "node:assert/strict";
import { parseEnv } from "node:util";
import { parseConfig } from "../../lib/config/mod.ts";
import {
  EXAMPLE_SECRET,
  MIN_SECRET_BYTES,
  weakSecretProblems,
} from "../../lib/config/secret_strength.ts";

const EXAMPLE_ENV = new URL("../../systemd/hookd.env", import.meta.url);

/**
 * A parsed configuration with `env` on top. parseConfig itself refuses weak
 * secrets off loopback, so the config is parsed on loopback and the listen
 * address set afterwards: these tests are about the pure check.
 */
function configWith(env: Record<string, string>) {
  const { HOOKD_LISTEN, ...rest } = env;
  const config = parseConfig({
    HOOKD_ENDPOINTS: "github,shop",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: "0123456789abcdef0123456789abcdef",
    HOOKD_SHOP_PROVIDER: "github",
    HOOKD_SHOP_SECRET: "fedcba9876543210fedcba9876543210",
    ...rest,
  });
  if (HOOKD_LISTEN !== undefined) {
    config.listen = {
      hostname: HOOKD_LISTEN.slice(0, HOOKD_LISTEN.lastIndexOf(":")).replace(/^\[|\]$/g, ""),
      port: 9000,
    };
  }
  return config;
}

Deno.test("parseConfig() reports a weak secret on a public address with the other problems", () => {
  assert.throws(
    () =>
      parseConfig({
        HOOKD_ENDPOINTS: "github",
        HOOKD_LISTEN: "0.0.0.0:9000",
        HOOKD_GITHUB_PROVIDER: "github",
        HOOKD_GITHUB_SECRET: EXAMPLE_SECRET,
      }),
    (error: Error & { problems?: string[] }) =>
      error.problems?.some((p) => p.startsWith("HOOKD_GITHUB_SECRET ")) === true,
  );
});

Deno.test("EXAMPLE_SECRET is the secret the example env file ships with", async () => {
  const example = parseEnv(await Deno.readTextFile(EXAMPLE_ENV));
  assert.equal(example.HOOKD_GITHUB_SECRET, EXAMPLE_SECRET);
});

Deno.test("weakSecretProblems() refuses the example placeholder on a public address", () => {
  const problems = weakSecretProblems(
    configWith({ HOOKD_LISTEN: "0.0.0.0:9000", HOOKD_GITHUB_SECRET: EXAMPLE_SECRET }),
  );
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^HOOKD_GITHUB_SECRET is still the example placeholder/);
  assert.match(problems[0], /HOOKD_LISTEN is not loopback \(0\.0\.0\.0\)/);
  assert.match(problems[0], /openssl rand -hex 32/);
  assert.ok(!problems[0].includes(EXAMPLE_SECRET), "the secret itself is not repeated");
});

Deno.test("weakSecretProblems() refuses secrets shorter than 16 bytes", async (t) => {
  await t.step("15 bytes is too short, naming the variable and length", () => {
    const problems = weakSecretProblems(
      configWith({ HOOKD_LISTEN: "192.0.2.10:9000", HOOKD_SHOP_SECRET: "a".repeat(15) }),
    );
    assert.deepEqual(problems.length, 1);
    assert.match(problems[0], /^HOOKD_SHOP_SECRET is 15 bytes, shorter than 16/);
    assert.ok(!problems[0].includes("a".repeat(15)), "the secret itself is not repeated");
  });

  await t.step("16 bytes is enough", () => {
    const problems = weakSecretProblems(
      configWith({ HOOKD_LISTEN: "192.0.2.10:9000", HOOKD_SHOP_SECRET: "a".repeat(16) }),
    );
    assert.deepEqual(problems, []);
  });

  await t.step("length counts UTF-8 bytes, not characters", () => {
    // 8 characters, 16 bytes.
    const problems = weakSecretProblems(
      configWith({ HOOKD_LISTEN: "[::]:9000", HOOKD_SHOP_SECRET: "éééééééé" }),
    );
    assert.deepEqual(problems, []);
  });

  await t.step("the previous secret is checked and named too", () => {
    const problems = weakSecretProblems(
      configWith({ HOOKD_LISTEN: "[::]:9000", HOOKD_SHOP_SECRET_PREVIOUS: "old" }),
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^HOOKD_SHOP_SECRET_PREVIOUS is 3 bytes/);
  });
});

Deno.test("weakSecretProblems() lets anything through on loopback", () => {
  for (const listen of ["127.0.0.1:9000", "127.8.9.10:9000", "[::1]:9000", "localhost:9000"]) {
    const problems = weakSecretProblems(
      configWith({ HOOKD_LISTEN: listen, HOOKD_GITHUB_SECRET: EXAMPLE_SECRET }),
    );
    assert.deepEqual(problems, [], listen);
  }
});

Deno.test("weakSecretProblems() reports every weak secret at once", () => {
  const problems = weakSecretProblems(
    configWith({
      HOOKD_LISTEN: ":9000",
      HOOKD_GITHUB_SECRET: EXAMPLE_SECRET,
      HOOKD_SHOP_SECRET: "short",
    }),
  );
  assert.equal(problems.length, 2);
  assert.match(problems[0], /^HOOKD_GITHUB_SECRET /);
  assert.match(problems[1], /^HOOKD_SHOP_SECRET /);
});

Deno.test("MIN_SECRET_BYTES is 16, as README says", () => {
  assert.equal(MIN_SECRET_BYTES, 16);
});
