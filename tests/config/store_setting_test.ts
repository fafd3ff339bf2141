/**
 * Tests for the store settings: `HOOKD_STORE`, `HOOKD_INSTANCE_ID`, `HOOKD_RUN_HOOKS`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { maskStoreUrl, parseStoreSettings } from "../../lib/config/store_setting.ts";
import { parseConfig } from "../../lib/config/mod.ts";
import { describeConfig } from "../../lib/config/describe.ts";

function parse(vars: Record<string, string>) {
  const problems: string[] = [];
  const settings = parseStoreSettings(vars, "0.0.0.0:9000", problems);
  return { settings, problems };
}

Deno.test("parseStoreSettings() reads where deliveries are stored", async (t) => {
  await t.step("absent or sqlite is the SQLite file", () => {
    assert.deepEqual(parse({}).settings.store, { kind: "sqlite" });
    assert.deepEqual(parse({ HOOKD_STORE: "sqlite" }).settings.store, { kind: "sqlite" });
  });
  await t.step("a postgres:// URL is PostgreSQL, with the env file's PGPASSWORD", () => {
    const { settings, problems } = parse({
      HOOKD_STORE: "postgres://hookd@db.internal/hookd?sslmode=require",
      PGPASSWORD: "s3cret",
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.store, {
      kind: "postgres",
      url: "postgres://hookd@db.internal/hookd?sslmode=require",
      password: "s3cret",
    });
  });
  await t.step("anything else is a problem that never shows a password", () => {
    assert.match(parse({ HOOKD_STORE: "mysql://u:pw@db/x" }).problems[0], /got a mysql: URL/);
    assert.doesNotMatch(parse({ HOOKD_STORE: "mysql://u:pw@db/x" }).problems[0], /pw/);
    assert.match(parse({ HOOKD_STORE: "pg" }).problems[0], /must be sqlite or a postgres:/);
    assert.match(parse({ HOOKD_STORE: "postgres://u:pw@db" }).problems[0], /names no database/);
  });
});

Deno.test("parseStoreSettings() reads the instance id and whether hooks run here", async (t) => {
  await t.step("the default id is the host name and the listen address", () => {
    assert.equal(parse({}).settings.instanceId, `${Deno.hostname()}/0.0.0.0:9000`);
    assert.equal(parse({ HOOKD_INSTANCE_ID: "web1" }).settings.instanceId, "web1");
  });
  await t.step("HOOKD_RUN_HOOKS is true unless false", () => {
    assert.equal(parse({}).settings.runHooks, true);
    assert.equal(parse({ HOOKD_RUN_HOOKS: "false" }).settings.runHooks, false);
    assert.match(parse({ HOOKD_RUN_HOOKS: "no" }).problems[0], /must be true or false/);
  });
});

Deno.test("maskStoreUrl() hides the password and nothing else", () => {
  assert.equal(maskStoreUrl("postgres://u:pw@db:5433/h"), "postgres://u:***@db:5433/h");
  assert.equal(maskStoreUrl("postgres://u@db/h"), "postgres://u@db/h");
  assert.equal(maskStoreUrl("::"), "(not a URL)");
});

Deno.test("hookd check shows the store's URL without its password, and an accept-only instance", () => {
  const config = parseConfig({
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: "check-store-secret-0123456789",
    HOOKD_STORE: "postgres://hookd:hunter2@db.internal:5433/hookd",
    HOOKD_INSTANCE_ID: "web1",
    HOOKD_RUN_HOOKS: "false",
  });
  const text = describeConfig(config);
  assert.match(
    text,
    /store +postgres:\/\/hookd:\*\*\*@db\.internal:5433\/hookd \(instance web1; accepts only/,
  );
  assert.doesNotMatch(text, /hunter2/);
  const plain = parseConfig({
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: "check-store-secret-0123456789",
  });
  assert.match(describeConfig(plain), /store +sqlite \(instance [^;]+\)/);
});
