/**
 * Tests for the configuration contract: defaults, every variable, the hook
 * lookup, and every mistake reported at once, each naming its variable.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ConfigError,
  endpointPrefix,
  eventKey,
  parseConfig,
  pickHook,
} from "../../lib/config/mod.ts";

const GITHUB = {
  HOOKD_ENDPOINTS: "github",
  HOOKD_GITHUB_PROVIDER: "github",
  HOOKD_GITHUB_SECRET: "github-secret-value",
};

/** The problems `parseConfig` reports for `env`; fails when it accepts it. */
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.ok(error.problems.length > 0);
    for (const problem of error.problems) assert.match(error.message, new RegExp(escape(problem)));
    return error.problems;
  }
  assert.fail("parseConfig() accepted the configuration");
}

/** The one problem reported for `env`. */
function onlyProblem(env: Record<string, string | undefined>): string {
  const problems = problemsOf(env);
  assert.equal(problems.length, 1, `expected one problem, got:\n${problems.join("\n")}`);
  return problems[0];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("parseConfig() applies the documented defaults", () => {
  const config = parseConfig(GITHUB);
  assert.deepEqual(config.listen, { hostname: "127.0.0.1", port: 9000 });
  assert.equal(config.maxBodyBytes, 1_048_576);
  assert.deepEqual(config.log, { file: ".hookd/hookd.log", maxBytes: 10_485_760, maxFiles: 5 });
  assert.equal(config.stateDir, ".hookd/state");
  assert.equal(config.maxConcurrentHooks, 4);
  assert.equal(config.maxQueue, 10_000);
  assert.equal(config.retentionMs, 7 * 86_400_000);
  assert.deepEqual([...config.endpoints.keys()], ["github"]);
  const endpoint = config.endpoints.get("github")!;
  assert.equal(endpoint.name, "github");
  assert.equal(endpoint.prefix, "HOOKD_GITHUB_");
  assert.equal(endpoint.provider, "github");
  assert.deepEqual(endpoint.secrets, ["github-secret-value"]);
  assert.deepEqual(endpoint.settings, { ALLOW_SHA1: "false" });
  assert.equal(endpoint.hooks.size, 0);
  assert.equal(endpoint.timeoutMs, 300_000);
  assert.deepEqual(endpoint.hookEnv, []);
  assert.equal(endpoint.concurrency, 4, "an endpoint's cap defaults to the global one");
  assert.equal(endpoint.retries, 0);
  assert.equal(endpoint.retryBackoffMs, 10_000);
  assert.equal(endpoint.onBusy, "queue");
  assert.equal(endpoint.respond, "accepted");
});

Deno.test("parseConfig() takes log and state defaults from systemd's directories", () => {
  const config = parseConfig({
    ...GITHUB,
    LOGS_DIRECTORY: "/var/log/hookd",
    STATE_DIRECTORY: "/var/lib/hookd",
  });
  assert.equal(config.log.file, "/var/log/hookd/hookd.log");
  assert.equal(config.stateDir, "/var/lib/hookd");
});

Deno.test("parseConfig() reads every global variable", async (t) => {
  await t.step("each one overrides its default", () => {
    const config = parseConfig({
      ...GITHUB,
      HOOKD_LISTEN: "0.0.0.0:8080",
      HOOKD_MAX_BODY_BYTES: "2048",
      HOOKD_LOG_FILE: "/tmp/x/hookd.log",
      HOOKD_LOG_MAX_BYTES: "4096",
      HOOKD_LOG_MAX_FILES: "3",
      HOOKD_STATE_DIR: "/tmp/x/state",
      HOOKD_MAX_CONCURRENT_HOOKS: "7",
      HOOKD_HOOK_ENV: "DEPLOY_DIR, REPO_ROOT",
      HOOKD_MAX_QUEUE: "50",
      HOOKD_RETENTION: "2h",
      LOGS_DIRECTORY: "/ignored",
      STATE_DIRECTORY: "/ignored",
    });
    assert.deepEqual(config.listen, { hostname: "0.0.0.0", port: 8080 });
    assert.equal(config.maxBodyBytes, 2048);
    assert.deepEqual(config.log, { file: "/tmp/x/hookd.log", maxBytes: 4096, maxFiles: 3 });
    assert.equal(config.stateDir, "/tmp/x/state");
    assert.equal(config.maxConcurrentHooks, 7);
    assert.equal(config.maxQueue, 50);
    assert.equal(config.retentionMs, 2 * 3_600_000);
    const endpoint = config.endpoints.get("github")!;
    assert.deepEqual(endpoint.hookEnv, ["DEPLOY_DIR", "REPO_ROOT"]);
    assert.equal(endpoint.concurrency, 7);
  });

  await t.step("HOOKD_LISTEN takes IPv6 in brackets and an empty host as every address", () => {
    assert.deepEqual(parseConfig({ ...GITHUB, HOOKD_LISTEN: "[::1]:9001" }).listen, {
      hostname: "::1",
      port: 9001,
    });
    assert.deepEqual(parseConfig({ ...GITHUB, HOOKD_LISTEN: ":9002" }).listen, {
      hostname: "0.0.0.0",
      port: 9002,
    });
  });

  await t.step("HOOKD_LISTEN without a valid port is refused", () => {
    for (const listen of ["127.0.0.1", "127.0.0.1:70000", "localhost:http", "::1:9000"]) {
      assert.match(onlyProblem({ ...GITHUB, HOOKD_LISTEN: listen }), /^HOOKD_LISTEN is ".*":/);
    }
  });

  await t.step("variables set to undefined count as unset", () => {
    const config = parseConfig({ ...GITHUB, HOOKD_MAX_QUEUE: undefined });
    assert.equal(config.maxQueue, 10_000);
  });
});

Deno.test("parseConfig() reads HOOKD_SYNC: full by default, normal when asked, nothing else", () => {
  assert.equal(parseConfig(GITHUB).sync, "full");
  assert.equal(parseConfig({ ...GITHUB, HOOKD_SYNC: "normal" }).sync, "normal");
  const [problem] = problemsOf({ ...GITHUB, HOOKD_SYNC: "fast" });
  assert.match(problem, /^HOOKD_SYNC is "fast": write full .* or normal/);
});

Deno.test("parseConfig() reads an endpoint's own variables", async (t) => {
  await t.step("secrets, hooks and common settings", () => {
    const config = parseConfig({
      ...GITHUB,
      HOOKD_ENDPOINTS: " github , my-gitea ",
      HOOKD_GITHUB_SECRET_PREVIOUS: "old-github-secret",
      HOOKD_GITHUB_ALLOW_SHA1: "true",
      HOOKD_GITHUB_HOOK_PUSH: "/usr/local/bin/deploy",
      HOOKD_GITHUB_HOOK_PULL_REQUEST_OPENED: "echo opened",
      HOOKD_GITHUB_HOOK_DEFAULT: "echo other",
      HOOKD_GITHUB_TIMEOUT: "90s",
      HOOKD_GITHUB_HOOK_ENV: "EXTRA",
      HOOKD_GITHUB_CONCURRENCY: "2",
      HOOKD_GITHUB_RETRIES: "3",
      HOOKD_GITHUB_RETRY_BACKOFF: "1m",
      HOOKD_GITHUB_ON_BUSY: "latest",
      HOOKD_GITHUB_RESPOND: "output",
      HOOKD_HOOK_ENV: "GLOBAL",
      HOOKD_MY_GITEA_PROVIDER: "gitea",
      HOOKD_MY_GITEA_SECRET: "gitea-secret",
    });
    assert.deepEqual([...config.endpoints.keys()], ["github", "my-gitea"]);
    const github = config.endpoints.get("github")!;
    assert.deepEqual(github.secrets, ["github-secret-value", "old-github-secret"]);
    assert.deepEqual(github.settings, { ALLOW_SHA1: "true" });
    assert.deepEqual(
      Object.fromEntries(github.hooks),
      {
        PUSH: "/usr/local/bin/deploy",
        PULL_REQUEST_OPENED: "echo opened",
        DEFAULT: "echo other",
      },
    );
    assert.equal(github.hooks.has("ENV"), false, "HOOK_ENV is not a hook");
    assert.equal(github.timeoutMs, 90_000);
    assert.deepEqual(github.hookEnv, ["GLOBAL", "EXTRA"], "global names first");
    assert.equal(github.concurrency, 2);
    assert.equal(github.retries, 3);
    assert.equal(github.retryBackoffMs, 60_000);
    assert.equal(github.onBusy, "latest");
    assert.equal(github.respond, "output");
    const gitea = config.endpoints.get("my-gitea")!;
    assert.equal(gitea.prefix, "HOOKD_MY_GITEA_");
    assert.equal(gitea.provider, "gitea");
    assert.deepEqual(gitea.hookEnv, ["GLOBAL"]);
  });

  await t.step("a provider's settings get their defaults", () => {
    const endpoint = parseConfig({
      HOOKD_ENDPOINTS: "custom",
      HOOKD_CUSTOM_PROVIDER: "hmac",
      HOOKD_CUSTOM_SECRET: "s3cret",
      HOOKD_CUSTOM_SIGNATURE_HEADER: "X-Signature",
      HOOKD_CUSTOM_EVENT_HEADER: "X-Event",
    }).endpoints.get("custom")!;
    assert.deepEqual(endpoint.settings, {
      SIGNATURE_HEADER: "X-Signature",
      ALGORITHM: "sha256",
      ENCODING: "hex",
      PREFIX: "",
      EVENT_HEADER: "X-Event",
    });
  });

  await t.step("a required provider setting left out is named", () => {
    assert.match(
      onlyProblem({
        HOOKD_ENDPOINTS: "custom",
        HOOKD_CUSTOM_PROVIDER: "hmac",
        HOOKD_CUSTOM_SECRET: "s3cret",
      }),
      /^HOOKD_CUSTOM_SIGNATURE_HEADER is not set:/,
    );
  });

  await t.step("a value outside its choices is named with the choices", () => {
    const problem = onlyProblem({ ...GITHUB, HOOKD_GITHUB_ON_BUSY: "drop" });
    assert.match(problem, /^HOOKD_GITHUB_ON_BUSY is "drop": use one of queue, latest$/);
  });

  await t.step("an unknown provider is named with the known ones", () => {
    const problem = onlyProblem({ ...GITHUB, HOOKD_GITHUB_PROVIDER: "gihub" });
    assert.match(problem, /^HOOKD_GITHUB_PROVIDER is "gihub", which hookd does not know:/);
    assert.match(problem, /github/);
  });

  await t.step("an invalid hook name or an empty hook is refused", () => {
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_GITHUB_HOOK_push: "echo" }),
      /^HOOKD_GITHUB_HOOK_push is not a valid hook name:/,
    );
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_GITHUB_HOOK_PUSH: "  " }),
      /^HOOKD_GITHUB_HOOK_PUSH is empty:/,
    );
  });
});

Deno.test("eventKey() and endpointPrefix() turn names into variable parts", () => {
  assert.equal(eventKey("pull_request.opened"), "PULL_REQUEST_OPENED");
  assert.equal(
    eventKey("intent-verification.calculate.failed"),
    "INTENT_VERIFICATION_CALCULATE_FAILED",
  );
  assert.equal(eventKey("a/b c:d+é"), "A_B_C_D__");
  assert.equal(endpointPrefix("my-gitea"), "HOOKD_MY_GITEA_");
});

Deno.test("pickHook() goes from the most specific name to the least", async (t) => {
  const endpoint = (hooks: Record<string, string>) => ({
    prefix: "HOOKD_GH_",
    hooks: new Map(Object.entries(hooks)),
  });

  await t.step("pull_request.opened: PULL_REQUEST_OPENED, PULL_REQUEST, then DEFAULT", () => {
    const all = endpoint({
      PULL_REQUEST_OPENED: "exact",
      PULL_REQUEST: "type",
      DEFAULT: "default",
    });
    assert.deepEqual(pickHook(all, "pull_request.opened"), {
      variable: "HOOKD_GH_HOOK_PULL_REQUEST_OPENED",
      command: "exact",
    });
    assert.deepEqual(
      pickHook(endpoint({ PULL_REQUEST: "type", DEFAULT: "default" }), "pull_request.opened"),
      {
        variable: "HOOKD_GH_HOOK_PULL_REQUEST",
        command: "type",
      },
    );
    assert.deepEqual(pickHook(endpoint({ DEFAULT: "default" }), "pull_request.opened"), {
      variable: "HOOKD_GH_HOOK_DEFAULT",
      command: "default",
    });
    assert.equal(pickHook(endpoint({ PUSH: "push" }), "pull_request.opened"), undefined);
  });

  await t.step("a hook for another action never matches", () => {
    const hooks = endpoint({ PULL_REQUEST_CLOSED: "closed" });
    assert.equal(pickHook(hooks, "pull_request.opened"), undefined);
    assert.equal(pickHook(hooks, "pull_request"), undefined);
  });

  await t.step("IP Fabric's three-part names try three, two, one part, then DEFAULT", () => {
    const event = "snapshot.discover.completed";
    const picks = [
      ["SNAPSHOT_DISCOVER_COMPLETED", "HOOKD_GH_HOOK_SNAPSHOT_DISCOVER_COMPLETED"],
      ["SNAPSHOT_DISCOVER", "HOOKD_GH_HOOK_SNAPSHOT_DISCOVER"],
      ["SNAPSHOT", "HOOKD_GH_HOOK_SNAPSHOT"],
      ["DEFAULT", "HOOKD_GH_HOOK_DEFAULT"],
    ];
    const hooks: Record<string, string> = {};
    for (const [key] of picks) hooks[key] = `run ${key}`;
    for (const [key, variable] of picks) {
      assert.deepEqual(pickHook(endpoint(hooks), event), { variable, command: `run ${key}` });
      delete hooks[key];
    }
    assert.equal(pickHook(endpoint(hooks), event), undefined);
  });

  await t.step("characters outside A-Z0-9 become _", () => {
    const hooks = endpoint({ INTENT_VERIFICATION_CALCULATE: "iv", COMMAND_DEPLOY_PROD: "cmd" });
    assert.equal(
      pickHook(hooks, "intent-verification.calculate.failed")?.variable,
      "HOOKD_GH_HOOK_INTENT_VERIFICATION_CALCULATE",
    );
    assert.equal(pickHook(hooks, "command.deploy-prod")?.command, "cmd");
  });

  await t.step("a name that grows when upper-cased is cut where its dots are", () => {
    const hooks = endpoint({ STRASSE: "street" });
    assert.deepEqual(pickHook(hooks, "straße.opened"), {
      variable: "HOOKD_GH_HOOK_STRASSE",
      command: "street",
    });
  });

  await t.step("works on a parsed endpoint", () => {
    const config = parseConfig({ ...GITHUB, HOOKD_GITHUB_HOOK_PULL_REQUEST: "echo pr" });
    assert.deepEqual(pickHook(config.endpoints.get("github")!, "pull_request.synchronize"), {
      variable: "HOOKD_GITHUB_HOOK_PULL_REQUEST",
      command: "echo pr",
    });
  });
});

/** A hook table that remembers every key asked for. */
class CountingHooks extends Map<string, string> {
  readonly asked: string[] = [];
  override get(key: string): string | undefined {
    this.asked.push(key);
    return super.get(key);
  }
}

Deno.test("pickHook() tries at most one key per segment plus DEFAULT", async (t) => {
  for (
    const event of [
      "push",
      "pull_request.opened",
      "a.b.c.d.e.f.g.h",
      "x".repeat(200),
      "a.".repeat(4000) + "a",
    ]
  ) {
    const segments = event.split(".").length;
    await t.step(`${segments} segment(s), ${event.length} characters`, () => {
      const hooks = new CountingHooks();
      assert.equal(pickHook({ prefix: "HOOKD_GH_", hooks }, event), undefined);
      assert.ok(hooks.asked.length <= segments + 1, `${hooks.asked.length} keys tried`);
      assert.equal(hooks.asked.at(-1), "DEFAULT");
      // Most specific first, each key a cut of the full one at a segment boundary.
      const [full, ...cuts] = hooks.asked.slice(0, -1);
      assert.equal(full, eventKey(event));
      for (const [i, key] of cuts.entries()) {
        assert.ok(full.startsWith(key) && full[key.length] === "_", key.slice(0, 40));
        assert.ok(key.length < (i === 0 ? full : cuts[i - 1]).length);
      }
    });
  }
});

Deno.test("parseConfig() refuses mistakes, naming the variable and the fix", async (t) => {
  await t.step("no endpoints at all", () => {
    assert.match(onlyProblem({}), /^HOOKD_ENDPOINTS is not set:/);
  });

  await t.step("a misspelt global variable suggests the right one", () => {
    assert.equal(
      onlyProblem({ ...GITHUB, HOOKD_LISTNE: "127.0.0.1:9000" }),
      "HOOKD_LISTNE is not a hookd variable: did you mean HOOKD_LISTEN?",
    );
  });

  await t.step("a misspelt endpoint variable suggests the right one", () => {
    assert.equal(
      onlyProblem({ ...GITHUB, HOOKD_GITHUB_SECRT: "x" }),
      "HOOKD_GITHUB_SECRT is not a hookd variable: did you mean HOOKD_GITHUB_SECRET?",
    );
  });

  await t.step("a variable of an endpoint that is not listed", () => {
    const problem = onlyProblem({ ...GITHUB, HOOKD_NETBOX_PROVIDER: "netbox" });
    assert.match(problem, /^HOOKD_NETBOX_PROVIDER is not a hookd variable:/);
  });

  await t.step("variables outside HOOKD_ are not hookd's business", () => {
    assert.doesNotThrow(() => parseConfig({ ...GITHUB, PATH: "/bin", HOOKDX: "1" }));
  });

  await t.step("an endpoint listed without settings", () => {
    assert.equal(
      onlyProblem({ ...GITHUB, HOOKD_ENDPOINTS: "github,netbox" }),
      'HOOKD_ENDPOINTS lists "netbox" but no HOOKD_NETBOX_* variable is set: set HOOKD_NETBOX_PROVIDER and HOOKD_NETBOX_SECRET',
    );
  });

  await t.step("a missing secret", () => {
    assert.match(
      onlyProblem({ HOOKD_ENDPOINTS: "github", HOOKD_GITHUB_PROVIDER: "github" }),
      /^HOOKD_GITHUB_SECRET is not set: the github provider needs/,
    );
  });

  await t.step("an empty or blank secret", () => {
    for (const secret of ["", "   "]) {
      assert.equal(
        onlyProblem({ ...GITHUB, HOOKD_GITHUB_SECRET: secret }),
        "HOOKD_GITHUB_SECRET is empty: set the secret, or remove the line",
      );
    }
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_GITHUB_SECRET_PREVIOUS: "" }),
      /^HOOKD_GITHUB_SECRET_PREVIOUS is empty:/,
    );
  });

  await t.step("a number that is not one", () => {
    for (const value of ["1MB", "-1", "0", "1.5", "", "1e3", "99999999999999999999"]) {
      assert.equal(
        onlyProblem({ ...GITHUB, HOOKD_MAX_BODY_BYTES: value }),
        `HOOKD_MAX_BODY_BYTES is "${value}", not a whole number: write a number above 0`,
      );
    }
    for (const variable of ["HOOKD_LOG_MAX_BYTES", "HOOKD_LOG_MAX_FILES", "HOOKD_MAX_QUEUE"]) {
      assert.match(
        onlyProblem({ ...GITHUB, [variable]: "many" }),
        new RegExp(`^${variable} is "many"`),
      );
    }
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_MAX_CONCURRENT_HOOKS: "0" }),
      /^HOOKD_MAX_CONCURRENT_HOOKS is "0", not a whole number/,
    );
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_GITHUB_CONCURRENCY: "two" }),
      /^HOOKD_GITHUB_CONCURRENCY is "two"/,
    );
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_GITHUB_RETRIES: "-1" }),
      /^HOOKD_GITHUB_RETRIES is "-1", not a whole number: write a number from 0 to 1000$/,
    );
  });

  await t.step("a bad duration", () => {
    for (const value of ["5 minutes", "300", "1.5h", "5M", "-5s"]) {
      assert.equal(
        onlyProblem({ ...GITHUB, HOOKD_GITHUB_TIMEOUT: value }),
        `HOOKD_GITHUB_TIMEOUT is "${value}", not a duration: write e.g. 300s, 5m, 2h or 7d`,
      );
    }
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_RETENTION: "1 week" }),
      /^HOOKD_RETENTION is "1 week", not a duration/,
    );
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_GITHUB_RETRY_BACKOFF: "soon" }),
      /^HOOKD_GITHUB_RETRY_BACKOFF is "soon", not a duration/,
    );
  });

  // BUG (lib/config/mod.ts): a hook time limit no timer can keep is accepted.
  // HOOKD_GITHUB_TIMEOUT=30d (over 2^31-1 ms, setTimeout's limit) and
  // HOOKD_GITHUB_TIMEOUT=0s both parse; runHook() then throws a RangeError
  // ("options.timeoutMs must be above 0 and at most 2147483647") on every
  // delivery instead of `hookd check` refusing the file at start.
  // Expected: one problem naming HOOKD_GITHUB_TIMEOUT; got: accepted.
  await t.step({
    name: "a hook time limit of zero or beyond a timer's reach",
    fn: () => {
      for (const value of ["0s", "30d"]) {
        assert.match(
          onlyProblem({ ...GITHUB, HOOKD_GITHUB_TIMEOUT: value }),
          /^HOOKD_GITHUB_TIMEOUT /,
        );
      }
    },
  });

  await t.step("no authentication needs an explicit `none`", () => {
    assert.match(
      onlyProblem({ HOOKD_ENDPOINTS: "open", HOOKD_OPEN_HOOK_DEFAULT: "echo hi" }),
      /^HOOKD_OPEN_PROVIDER is not set:/,
    );
    const open = parseConfig({
      HOOKD_ENDPOINTS: "open",
      HOOKD_OPEN_PROVIDER: "none",
      HOOKD_OPEN_HOOK_DEFAULT: "echo hi",
    }).endpoints.get("open")!;
    assert.equal(open.provider, "none");
    assert.deepEqual(open.secrets, []);
    assert.equal(
      onlyProblem({
        HOOKD_ENDPOINTS: "open",
        HOOKD_OPEN_PROVIDER: "none",
        HOOKD_OPEN_SECRET: "pointless",
      }),
      "HOOKD_OPEN_SECRET is set but the none provider uses none: remove it",
    );
  });

  await t.step("HOOKD_HOOK_ENV naming a HOOKD_ variable", () => {
    assert.equal(
      onlyProblem({ ...GITHUB, HOOKD_HOOK_ENV: "HOME_DIR,HOOKD_GITHUB_SECRET" }),
      "HOOKD_HOOK_ENV names HOOKD_GITHUB_SECRET: hookd's own variables hold secrets and never reach a hook",
    );
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_GITHUB_HOOK_ENV: "HOOKD_LOG_FILE" }),
      /^HOOKD_GITHUB_HOOK_ENV names HOOKD_LOG_FILE:/,
    );
    assert.match(
      onlyProblem({ ...GITHUB, HOOKD_HOOK_ENV: "1BAD" }),
      /^HOOKD_HOOK_ENV names "1BAD", which is not a variable name$/,
    );
  });

  await t.step("reserved, invalid and duplicate endpoint names", () => {
    for (const name of ["endpoints", "listen", "max", "log", "state", "hook"]) {
      const problem = onlyProblem({ HOOKD_ENDPOINTS: name });
      assert.match(problem, new RegExp(`^HOOKD_ENDPOINTS has the reserved name "${name}"`));
    }
    for (const name of ["GitHub", "git_hub", "git.hub", "ü"]) {
      assert.equal(
        onlyProblem({ ...GITHUB, HOOKD_ENDPOINTS: `github,${name}` }),
        `HOOKD_ENDPOINTS has an invalid name "${name}": use lower-case letters, digits and -`,
      );
    }
    assert.equal(
      onlyProblem({ ...GITHUB, HOOKD_ENDPOINTS: "github,github" }),
      'HOOKD_ENDPOINTS lists "github" twice: remove one',
    );
  });

  // BUG (lib/config/mod.ts): a duplicate is only noticed when its first copy
  // parsed cleanly. HOOKD_ENDPOINTS=github,github with HOOKD_GITHUB_SECRET=""
  // expected: the empty secret once plus 'lists "github" twice'; got: the
  // empty-secret problem twice and no duplicate problem.
  await t.step({
    name: "a duplicate endpoint is named even when its settings are wrong",
    fn: () => {
      assert.deepEqual(
        problemsOf({ ...GITHUB, HOOKD_ENDPOINTS: "github,github", HOOKD_GITHUB_SECRET: "" }),
        [
          "HOOKD_GITHUB_SECRET is empty: set the secret, or remove the line",
          'HOOKD_ENDPOINTS lists "github" twice: remove one',
        ],
      );
    },
  });

  // BUG (lib/config/mod.ts): endpoint names whose variables overlap are accepted.
  // With HOOKD_ENDPOINTS=gh,gh-hook, HOOKD_GH_HOOK_SECRET is gh-hook's secret
  // and also read as gh's hook for the event "secret": the secret becomes a
  // shell command that `hookd check` prints and that runs when a "secret"
  // event arrives. Expected: a problem naming HOOKD_ENDPOINTS (gh-hook's
  // prefix lies inside gh's HOOKD_GH_HOOK_*); got: accepted, gh.hooks has
  // SECRET = the secret.
  await t.step({
    name: "endpoint names whose variables overlap are refused",
    fn: () => {
      assert.match(
        onlyProblem({
          HOOKD_ENDPOINTS: "gh,gh-hook",
          HOOKD_GH_PROVIDER: "github",
          HOOKD_GH_SECRET: "first-secret",
          HOOKD_GH_HOOK_PROVIDER: "github",
          HOOKD_GH_HOOK_SECRET: "second-secret",
        }),
        /^HOOKD_ENDPOINTS /,
      );
    },
  });

  await t.step("every problem is reported at once, each naming its variable", () => {
    const problems = problemsOf({
      HOOKD_ENDPOINTS: "github,netbox,Bad,log,open",
      HOOKD_GITHUB_PROVIDER: "github",
      HOOKD_GITHUB_SECRET: "",
      HOOKD_GITHUB_TIMEOUT: "soon",
      HOOKD_NETBOX_PROVIDER: "netbox",
      HOOKD_OPEN_HOOK_DEFAULT: "echo",
      HOOKD_LISTNE: "x",
      HOOKD_LISTEN: "nowhere",
      HOOKD_MAX_BODY_BYTES: "big",
      HOOKD_RETENTION: "forever",
      HOOKD_HOOK_ENV: "HOOKD_GITHUB_SECRET",
    });
    const expected = [
      "HOOKD_GITHUB_SECRET is empty",
      "HOOKD_GITHUB_TIMEOUT is",
      "HOOKD_NETBOX_SECRET is not set",
      'HOOKD_ENDPOINTS has an invalid name "Bad"',
      'HOOKD_ENDPOINTS has the reserved name "log"',
      "HOOKD_OPEN_PROVIDER is not set",
      "HOOKD_LISTNE is not a hookd variable",
      "HOOKD_LISTEN is",
      "HOOKD_MAX_BODY_BYTES is",
      "HOOKD_RETENTION is",
      "HOOKD_HOOK_ENV names HOOKD_GITHUB_SECRET",
    ];
    for (const start of expected) {
      assert.ok(
        problems.some((p) => p.startsWith(start)),
        `no problem starts with ${start}:\n${problems.join("\n")}`,
      );
    }
    assert.equal(problems.length, expected.length, problems.join("\n"));
    for (const problem of problems) {
      assert.match(problem, /^HOOKD_[A-Z0-9_]+ .*: ./, "names its variable, then the fix");
    }
  });

  await t.step("no problem message repeats a secret's value", () => {
    const problems = problemsOf({
      ...GITHUB,
      HOOKD_GITHUB_SECRET: "github-secret-value",
      HOOKD_GITHUB_SECRT: "typo-secret-value",
      HOOKD_GITHUB_TIMEOUT: "soon",
    });
    for (const problem of problems) {
      assert.doesNotMatch(problem, /secret-value/);
    }
  });
});
