import assert from "node:assert/strict";
import { buildHookEnv, type HookDelivery } from "../../lib/dispatch/mod.ts";

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
