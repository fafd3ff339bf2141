/**
 * Tests for building servable endpoints: one verify function each, keys
 * imported once, and every endpoint that cannot be built named at once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { type Config, ConfigError, parseConfig } from "../lib/config/mod.ts";
import { buildEndpoints } from "../lib/endpoints.ts";

const encoder = new TextEncoder();

/** The ConfigError `promise` rejects with. */
async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(() => null, (e) => e);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  return error;
}

Deno.test("buildEndpoints() gives each endpoint its provider's verify function", async () => {
  const config = parseConfig({
    HOOKD_ENDPOINTS: "github,ipfabric,open",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: "github-secret",
    HOOKD_IPFABRIC_PROVIDER: "ipfabric",
    HOOKD_IPFABRIC_SECRET: "ipfabric-secret",
    HOOKD_OPEN_PROVIDER: "none",
  });
  const endpoints = await buildEndpoints(config);
  assert.deepEqual([...endpoints.keys()], ["github", "ipfabric", "open"]);
  for (const [name, endpoint] of endpoints) {
    assert.equal(endpoint.config, config.endpoints.get(name), "the resolved settings, as is");
  }

  const body = encoder.encode('{"type":"snapshot","action":"load","status":"done"}');
  const input = (headers: Record<string, string>) => ({
    headers: new Headers(headers),
    body,
    now: Date.now(),
    url: "http://127.0.0.1:9000/",
  });
  const ipfSignature = createHmac("sha256", "ipfabric-secret").update(body).digest("hex");
  const signed = await endpoints.get("ipfabric")!.verify(
    input({ "X-IPF-Signature": ipfSignature }),
  );
  assert.ok(signed.ok, JSON.stringify(signed));
  assert.equal(signed.event, "snapshot.load.done");

  const githubHeaders = {
    "X-GitHub-Event": "push",
    "X-Hub-Signature-256": `sha256=${ipfSignature}`,
  };
  const crossed = await endpoints.get("github")!.verify(input(githubHeaders));
  assert.equal(crossed.ok, false, "each endpoint checks its own secret");

  const open = await endpoints.get("open")!.verify(input({}));
  assert.ok(open.ok);
  assert.equal(open.verifiedBy, "none");
});

Deno.test("buildEndpoints() names every endpoint it cannot build, at once", async () => {
  const config = parseConfig({
    HOOKD_ENDPOINTS: "good,sg,custom",
    HOOKD_GOOD_PROVIDER: "github",
    HOOKD_GOOD_SECRET: "good-secret",
    HOOKD_SG_PROVIDER: "sendgrid",
    HOOKD_SG_PUBLIC_KEY: "AAAA",
    HOOKD_CUSTOM_PROVIDER: "hmac",
    HOOKD_CUSTOM_SECRET: "custom-secret",
    HOOKD_CUSTOM_SIGNATURE_HEADER: "X-Signature",
    HOOKD_CUSTOM_EVENT_HEADER: "X-Event",
    HOOKD_CUSTOM_EVENT_FIELD: "event.type",
  });
  const error = await configError(buildEndpoints(config));
  assert.equal(error.problems.length, 2, error.problems.join("\n"));
  assert.match(error.problems[0], /^HOOKD_SG_PUBLIC_KEY is not an ECDSA P-256 public key: /);
  assert.match(
    error.problems[1],
    /^HOOKD_CUSTOM_EVENT_HEADER and EVENT_FIELD are both set: keep one$/,
  );
  for (const problem of error.problems) {
    assert.ok(!/good-secret|custom-secret/.test(problem), `a secret in: ${problem}`);
  }
});

Deno.test("buildEndpoints() names an endpoint whose provider it does not know", async () => {
  const parsed = parseConfig({
    HOOKD_ENDPOINTS: "odd",
    HOOKD_ODD_PROVIDER: "github",
    HOOKD_ODD_SECRET: "odd-secret",
  });
  // parseConfig refuses unknown providers; a hand-built config must be refused too.
  const config: Config = {
    ...parsed,
    endpoints: new Map([["odd", { ...parsed.endpoints.get("odd")!, provider: "gopher" }]]),
  };
  const error = await configError(buildEndpoints(config));
  assert.deepEqual(error.problems, ["HOOKD_ODD_PROVIDER is not a known provider: gopher"]);
});
