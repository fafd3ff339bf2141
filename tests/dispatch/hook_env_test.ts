import assert from "node:assert/strict";
import {
  buildHookEnv,
  FIELD_CUT_MARKER,
  type HookDelivery,
  MAX_FIELD_BYTES,
  payloadFieldEnv,
} from "../../lib/dispatch/hook_env.ts";
import { parseFieldList } from "../../lib/config/payload_field.ts";
import { PUSH_OF_TAG, PUSH_TO_DEFAULT_BRANCH } from "../_github_examples.ts";

const delivery: HookDelivery = {
  endpoint: "deploy",
  event: "push",
  deliveryId: "hd-1",
  sourceDeliveryId: "gh-42",
  contentType: "application/json",
};

const deliveryVars = {
  HOOKD_ENDPOINT: "deploy",
  HOOKD_EVENT: "push",
  HOOKD_DELIVERY_ID: "hd-1",
  HOOKD_SOURCE_DELIVERY_ID: "gh-42",
  HOOKD_CONTENT_TYPE: "application/json",
};

Deno.test("buildHookEnv() copies only PATH, HOME, LANG and the delivery variables", () => {
  const env = buildHookEnv(delivery, {
    processEnv: {
      PATH: "/opt/bin:/bin",
      HOME: "/var/lib/hookd",
      LANG: "C.UTF-8",
      USER: "hookd",
      HOOKD_GITHUB_SECRET: "s3cret",
      AWS_SECRET_ACCESS_KEY: "nope",
    },
  });
  assert.deepEqual(env, {
    PATH: "/opt/bin:/bin",
    HOME: "/var/lib/hookd",
    LANG: "C.UTF-8",
    ...deliveryVars,
  });
});

Deno.test("buildHookEnv() defaults PATH and leaves out HOME and LANG when absent", () => {
  const env = buildHookEnv(delivery, { processEnv: {} });
  assert.deepEqual(env, {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    ...deliveryVars,
  });
});

Deno.test("buildHookEnv() adds allowed names that are present", async (t) => {
  const processEnv = { PATH: "/bin", TZ: "UTC", DEPLOY_DIR: "/srv/app" };

  await t.step("present names are copied", () => {
    const env = buildHookEnv(delivery, {
      processEnv,
      allow: ["TZ", "DEPLOY_DIR"],
    });
    assert.equal(env.TZ, "UTC");
    assert.equal(env.DEPLOY_DIR, "/srv/app");
  });

  await t.step("absent names are not invented", () => {
    const env = buildHookEnv(delivery, { processEnv, allow: ["MISSING"] });
    assert.equal(Object.hasOwn(env, "MISSING"), false);
  });

  await t.step("an empty value is still copied", () => {
    const env = buildHookEnv(delivery, {
      processEnv: { EMPTY: "" },
      allow: ["EMPTY"],
    });
    assert.equal(env.EMPTY, "");
  });
});

Deno.test("buildHookEnv() ignores allowed names starting with HOOKD_", () => {
  const env = buildHookEnv(delivery, {
    processEnv: {
      HOOKD_GITHUB_SECRET: "s3cret",
      HOOKD_LOG_FILE: "/var/log/hookd",
    },
    allow: ["HOOKD_GITHUB_SECRET", "HOOKD_LOG_FILE"],
  });
  assert.equal(Object.hasOwn(env, "HOOKD_GITHUB_SECRET"), false);
  assert.equal(Object.hasOwn(env, "HOOKD_LOG_FILE"), false);
});

Deno.test("buildHookEnv() lets the delivery variables win over the process environment", () => {
  const env = buildHookEnv(delivery, {
    processEnv: { HOOKD_EVENT: "forged", HOOKD_ENDPOINT: "forged" },
    allow: ["HOOKD_EVENT", "HOOKD_ENDPOINT"],
  });
  assert.equal(env.HOOKD_EVENT, "push");
  assert.equal(env.HOOKD_ENDPOINT, "deploy");
});

Deno.test("buildHookEnv() sets HOOKD_SOURCE_DELIVERY_ID empty when the sender gave none", () => {
  const { sourceDeliveryId: _, ...withoutSource } = delivery;
  const env = buildHookEnv(withoutSource, { processEnv: {} });
  assert.equal(env.HOOKD_SOURCE_DELIVERY_ID, "");
});

Deno.test("buildHookEnv() never sets HOOKD_PAYLOAD_FILE and does not modify its inputs", () => {
  const processEnv = { PATH: "/bin", HOOKD_PAYLOAD_FILE: "/etc/shadow" };
  const allow = ["HOOKD_PAYLOAD_FILE"];
  const env = buildHookEnv(delivery, { processEnv, allow });
  assert.equal(Object.hasOwn(env, "HOOKD_PAYLOAD_FILE"), false);
  assert.deepEqual(processEnv, {
    PATH: "/bin",
    HOOKD_PAYLOAD_FILE: "/etc/shadow",
  });
  assert.notEqual(env, processEnv);
});

function fieldsOf(list: string, payload: unknown, headers: Record<string, string> = {}) {
  const problems: string[] = [];
  const fields = parseFieldList("HOOKD_GH_HOOK_FIELDS", list, problems);
  assert.deepEqual(problems, []);
  return payloadFieldEnv(fields, { payload: JSON.parse(JSON.stringify(payload)), headers });
}

Deno.test("payloadFieldEnv() hands a hook the configured payload fields", async (t) => {
  await t.step("a real push: scalars as text, objects as compact JSON, names from the path", () => {
    const env = fieldsOf("ref,repository.full_name,head_commit.id,pusher", PUSH_TO_DEFAULT_BRANCH);
    const push = PUSH_TO_DEFAULT_BRANCH as {
      head_commit: { id: string };
      pusher: unknown;
    };
    assert.deepEqual(env, {
      HOOKD_FIELD_REF: "refs/heads/master",
      HOOKD_FIELD_REPOSITORY_FULL_NAME: "Codertocat/Hello-World",
      HOOKD_FIELD_HEAD_COMMIT_ID: push.head_commit.id,
      HOOKD_FIELD_PUSHER: JSON.stringify(push.pusher),
    });
  });
  await t.step("absent fields stay unset; null, numbers and booleans are JSON text", () => {
    const env = fieldsOf("base_ref,deleted,created,missing.deep,repository.id", PUSH_OF_TAG);
    assert.equal(env.HOOKD_FIELD_BASE_REF, "null");
    assert.equal(env.HOOKD_FIELD_CREATED, "true");
    assert.equal(env.HOOKD_FIELD_DELETED, "false");
    assert.match(env.HOOKD_FIELD_REPOSITORY_ID, /^\d+$/);
    assert.equal("HOOKD_FIELD_MISSING_DEEP" in env, false);
  });
  await t.step("a header field reads the stored header", () => {
    const env = fieldsOf("header.x-github-event", {}, { "x-github-event": "push" });
    assert.deepEqual(env, { HOOKD_FIELD_HEADER_X_GITHUB_EVENT: "push" });
  });
  await t.step("NUL is dropped; newlines and other characters pass as is", () => {
    const env = fieldsOf("message", { message: "fix\u0000: a\nb\tc é" });
    assert.equal(env.HOOKD_FIELD_MESSAGE, "fix: a\nb\tc é");
  });
  await t.step("a value over 64 KiB is cut at a character boundary and marked", () => {
    const long = "é".repeat(MAX_FIELD_BYTES); // two bytes each
    const value = fieldsOf("x", { x: long }).HOOKD_FIELD_X;
    assert.ok(value.endsWith(FIELD_CUT_MARKER));
    assert.ok(new TextEncoder().encode(value).byteLength <= MAX_FIELD_BYTES);
    assert.ok(new TextEncoder().encode(value).byteLength > MAX_FIELD_BYTES - 24);
    assert.equal(value.includes("\uFFFD"), false);
    const exact = "a".repeat(MAX_FIELD_BYTES);
    assert.equal(fieldsOf("x", { x: exact }).HOOKD_FIELD_X, exact);
  });
  await t.step(
    "the variables reach buildHookEnv(), which keeps only HOOKD_FIELD_* from them",
    () => {
      const env = buildHookEnv(delivery, {
        processEnv: {},
        fields: { HOOKD_FIELD_REF: "refs/heads/main", HOOKD_EVENT: "forged", PATH: "/evil" },
      });
      assert.equal(env.HOOKD_FIELD_REF, "refs/heads/main");
      assert.equal(env.HOOKD_EVENT, "push");
      assert.equal(env.PATH, "/usr/local/bin:/usr/bin:/bin");
    },
  );
});

Deno.test("parseFieldList() refuses what cannot become a variable", () => {
  const problems: string[] = [];
  parseFieldList("HOOKD_GH_HOOK_FIELDS", "a..b,repo.full_name,repo.full-name,header.x y", problems);
  assert.equal(problems.length, 3);
  assert.match(problems[0], /^HOOKD_GH_HOOK_FIELDS: "a..b" is not a field path/);
  assert.match(
    problems[1],
    /repo.full_name and repo.full-name, which would both be HOOKD_FIELD_REPO_FULL_NAME/,
  );
  assert.match(problems[2], /does not name a header/);
  const many: string[] = [];
  parseFieldList("V", Array.from({ length: 17 }, (_, i) => `f${i}`).join(","), many);
  assert.match(many[0], /at most 16/);
});
