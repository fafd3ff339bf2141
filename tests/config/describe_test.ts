/**
 * Tests for `hookd check`'s report: everything resolved, no secret shown.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/mod.ts";
import { describeConfig } from "../../lib/config/describe.ts";

const SECRETS = ["github-secret-31f7", "github-previous-9c2a", "netbox-secret-5e8d"];

function describe(env: Record<string, string>): string {
  return describeConfig(parseConfig(env));
}

Deno.test("describeConfig() shows the resolved configuration", async (t) => {
  const text = describe({
    HOOKD_ENDPOINTS: "github,netbox,open",
    HOOKD_LISTEN: "0.0.0.0:8080",
    HOOKD_MAX_BODY_BYTES: "2048",
    HOOKD_LOG_FILE: "/var/log/hookd/hookd.log",
    HOOKD_STATE_DIR: "/var/lib/hookd",
    HOOKD_MAX_CONCURRENT_HOOKS: "3",
    HOOKD_MAX_QUEUE: "500",
    HOOKD_RETENTION: "2d",
    HOOKD_HOOK_ENV: "DEPLOY_DIR",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: SECRETS[0],
    HOOKD_GITHUB_SECRET_PREVIOUS: SECRETS[1],
    HOOKD_GITHUB_HOOK_PUSH: "/usr/local/bin/deploy",
    HOOKD_GITHUB_TIMEOUT: "90s",
    HOOKD_GITHUB_RETRIES: "2",
    HOOKD_GITHUB_RETRY_BACKOFF: "1m",
    HOOKD_NETBOX_PROVIDER: "netbox",
    HOOKD_NETBOX_SECRET: SECRETS[2],
    HOOKD_NETBOX_HOOK_SITE_CREATED: "echo site",
    HOOKD_OPEN_PROVIDER: "none",
  });

  await t.step("the globals", () => {
    assert.match(text, /^listen +http:\/\/0\.0\.0\.0:8080$/m);
    assert.match(text, /^max body +2048 bytes$/m);
    assert.match(text, /^log +\/var\/log\/hookd\/hookd\.log /m);
    assert.match(text, /^state +\/var\/lib\/hookd$/m);
    assert.match(text, /^hooks +at most 3 at once$/m);
    assert.match(text, /^queue +at most 500 waiting; deliveries kept 2d$/m);
  });

  await t.step("each endpoint, its path, provider, limits and hooks", () => {
    assert.match(text, /^endpoint github: POST \/hooks\/github$/m);
    assert.match(text, /^ +provider +github$/m);
    assert.match(text, /^ +timeout +90s$/m);
    assert.match(text, /2 retries, the first after 1m/);
    assert.match(text, /^ +hook env +DEPLOY_DIR$/m);
    assert.match(text, /^ +HOOKD_GITHUB_HOOK_PUSH = \/usr\/local\/bin\/deploy$/m);
    assert.match(text, /^endpoint netbox: POST \/hooks\/netbox$/m);
    assert.match(text, /^ +HOOKD_NETBOX_HOOK_SITE_CREATED = echo site$/m);
    assert.match(text, /^endpoint open: POST \/hooks\/open$/m);
    assert.match(text, /^ +secret +\(none\)$/m);
    assert.match(text, /hooks +\(none: every delivery is logged as ignored\)/);
  });

  await t.step("every secret as ***, the previous one too, with where it came from", () => {
    assert.match(text, /^ +secret +\*\*\* from environment \+ previous \*\*\* from environment$/m);
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `printed ${secret}`);
  });
});

Deno.test("describeConfig() writes an IPv6 listen address in brackets", () => {
  const text = describe({
    HOOKD_ENDPOINTS: "gh",
    HOOKD_LISTEN: "[::1]:9000",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: "secret-value",
  });
  assert.match(text, /^listen +http:\/\/\[::1\]:9000$/m);
});

Deno.test("describeConfig() masks a secret wherever it turns up", () => {
  const text = describe({
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: "spelt-out-secret-77",
    HOOKD_GH_HOOK_PUSH: "curl -H 'X-Key: spelt-out-secret-77' https://ci.example/",
  });
  assert.ok(!text.includes("spelt-out-secret-77"), text);
  assert.match(text, /^ +HOOKD_GH_HOOK_PUSH = curl -H 'X-Key: \*\*\*' https:\/\/ci\.example\/$/m);
});

Deno.test("describeConfig() masks a verify token like a secret", () => {
  const text = describe({
    HOOKD_ENDPOINTS: "meta",
    HOOKD_META_PROVIDER: "meta",
    HOOKD_META_SECRET: "meta-app-secret-77aa",
    HOOKD_META_VERIFY_TOKEN: "verify-token-5c0ffee",
    HOOKD_META_HOOK_DEFAULT: "echo verify-token-5c0ffee",
  });
  assert.match(text, /verify_token \*\*\*/);
  assert.doesNotMatch(text, /verify-token-5c0ffee|meta-app-secret-77aa/);
  assert.match(text, /echo \*\*\*/);
});

Deno.test("describeConfig() says where each secret came from, never its value", () => {
  const config = parseConfig({
    HOOKD_ENDPOINTS: "gh,fb",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET_FILE: "github",
    HOOKD_GH_SECRET_PREVIOUS: "previous-secret-in-env-file",
    HOOKD_FB_PROVIDER: "meta",
    HOOKD_FB_SECRET: "meta-secret-from-process-env",
    HOOKD_FB_VERIFY_TOKEN_FILE: "/etc/hookd/fb.token",
    HOOKD_ADMIN_TOKEN_FILE: "/etc/hookd/admin.token",
    HOOKD_STORE: "postgres://hookd@db.internal/hookd",
    HOOKD_STORE_PASSWORD_FILE: "pg",
  }, {
    secretFiles: new Map([
      ["HOOKD_GH_SECRET_FILE", { value: "credential-secret-0123", origin: "credential github" }],
      ["HOOKD_FB_VERIFY_TOKEN_FILE", {
        value: "verify-token-4567",
        origin: "file /etc/hookd/fb.token",
      }],
      ["HOOKD_ADMIN_TOKEN_FILE", {
        value: "admin-token-89abcdef",
        origin: "file /etc/hookd/admin.token",
      }],
      ["HOOKD_STORE_PASSWORD_FILE", { value: "pg-password-cafe", origin: "credential pg" }],
    ]),
    envFileKeys: new Set(["HOOKD_GH_SECRET_PREVIOUS"]),
  });
  const text = describeConfig(config);
  assert.match(
    text,
    /^ +secret +\*\*\* from credential github \+ previous \*\*\* from env file$/m,
  );
  assert.match(text, /^ +secret +\*\*\* from environment$/m);
  assert.match(text, /^ +verify_token \*\*\* from file \/etc\/hookd\/fb\.token$/m);
  assert.match(text, /^token +admin listener: \*\*\* from file \/etc\/hookd\/admin\.token$/m);
  assert.match(text, /^password +store: \*\*\* from credential pg$/m);
  for (
    const secret of [
      "credential-secret-0123",
      "previous-secret-in-env-file",
      "meta-secret-from-process-env",
      "verify-token-4567",
      "admin-token-89abcdef",
      "pg-password-cafe",
    ]
  ) {
    assert.ok(!text.includes(secret), `printed ${secret}`);
  }
});
