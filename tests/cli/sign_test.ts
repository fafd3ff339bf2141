/**
 * Tests for `hookd sign` and `hookd send`: the headers they write verify
 * through the provider's own verify function and match an independent
 * HMAC computed here with `node:crypto`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createApp } from "../../lib/http/app.ts";
import { parseCommandLine } from "../../lib/cli/command_line.ts";
import { type Config, parseConfig } from "../../lib/config/mod.ts";
import { buildEndpoints } from "../../lib/endpoints.ts";
import { runSignCommand, signedHeaders } from "../../lib/cli/sign.ts";
import { tempDir } from "../harness.ts";

const encoder = new TextEncoder();
const URL_BASE = "http://127.0.0.1:9000/hooks";

const CONFIG = parseConfig({
  HOOKD_ENDPOINTS: "github,netbox,ipfabric,custom,discord,mailgun",
  HOOKD_GITHUB_PROVIDER: "github",
  HOOKD_GITHUB_SECRET: "github-secret-a1",
  HOOKD_GITHUB_SECRET_PREVIOUS: "github-secret-old",
  HOOKD_GITHUB_HOOK_PUSH: "echo push",
  HOOKD_NETBOX_PROVIDER: "netbox",
  HOOKD_NETBOX_SECRET: "netbox-secret-b2",
  HOOKD_IPFABRIC_PROVIDER: "ipfabric",
  HOOKD_IPFABRIC_SECRET: "ipfabric-secret-c3",
  HOOKD_CUSTOM_PROVIDER: "hmac",
  HOOKD_CUSTOM_SECRET: "custom-secret-d4",
  HOOKD_CUSTOM_SIGNATURE_HEADER: "X-Custom-Signature",
  HOOKD_CUSTOM_ALGORITHM: "sha512",
  HOOKD_CUSTOM_ENCODING: "base64",
  HOOKD_CUSTOM_PREFIX: "sha512=",
  HOOKD_CUSTOM_EVENT_HEADER: "X-Custom-Event",
  HOOKD_DISCORD_PROVIDER: "discord",
  HOOKD_DISCORD_PUBLIC_KEY: "a".repeat(64),
  HOOKD_MAILGUN_PROVIDER: "mailgun",
  HOOKD_MAILGUN_SECRET: "mailgun-secret-e5",
});

function oracle(
  hash: "sha256" | "sha512" | "sha1",
  secret: string,
  body: Uint8Array,
  encoding: "hex" | "base64" = "hex",
): string {
  return createHmac(hash, secret).update(body).digest(encoding);
}

/** Verify signed headers with the endpoint's own verify function. */
async function verifyWith(name: string, headers: Record<string, string>, body: Uint8Array) {
  const endpoints = await buildEndpoints(CONFIG);
  return endpoints.get(name)!.verify({
    headers: new Headers(headers),
    body,
    now: Date.now(),
    url: `${URL_BASE}/${name}`,
  });
}

Deno.test("signedHeaders() writes what each sender would send", async (t) => {
  await t.step("github: both hub signatures, event and delivery id", async () => {
    const body = encoder.encode(JSON.stringify({ action: "opened", number: 7 }));
    const headers = await signedHeaders(CONFIG, {
      endpoint: "github",
      body,
      event: "pull_request",
      url: `${URL_BASE}/github`,
    });
    assert.equal(headers["Content-Type"], "application/json");
    assert.equal(headers["X-GitHub-Event"], "pull_request");
    assert.match(headers["X-GitHub-Delivery"], /^[0-9a-f-]{36}$/);
    assert.equal(
      headers["X-Hub-Signature-256"],
      `sha256=${oracle("sha256", "github-secret-a1", body)}`,
      "signed with the current secret",
    );
    assert.equal(headers["X-Hub-Signature"], `sha1=${oracle("sha1", "github-secret-a1", body)}`);
    const verdict = await verifyWith("github", headers, body);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.event, "pull_request.opened");
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(verdict.deliveryId, headers["X-GitHub-Delivery"]);
  });

  await t.step("github: a form body is sent as a form", async () => {
    const body = encoder.encode(`payload=${encodeURIComponent('{"ref":"main"}')}`);
    const headers = await signedHeaders(CONFIG, { endpoint: "github", body, url: "" });
    assert.equal(headers["Content-Type"], "application/x-www-form-urlencoded");
    assert.equal(headers["X-GitHub-Event"], "push", "push when no event is given");
    const verdict = await verifyWith("github", headers, body);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(new TextDecoder().decode(verdict.payload), '{"ref":"main"}');
  });

  await t.step("netbox: HMAC-SHA512 hex in X-Hook-Signature", async () => {
    const body = encoder.encode(JSON.stringify({ model: "site", event: "created", data: {} }));
    const headers = await signedHeaders(CONFIG, { endpoint: "netbox", body, url: "" });
    assert.equal(headers["X-Hook-Signature"], oracle("sha512", "netbox-secret-b2", body));
    const verdict = await verifyWith("netbox", headers, body);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.event, "site.created");
  });

  await t.step("ipfabric: HMAC-SHA256 hex in X-IPF-Signature", async () => {
    const body = encoder.encode(
      JSON.stringify({ type: "snapshot", action: "discover", status: "completed" }),
    );
    const headers = await signedHeaders(CONFIG, { endpoint: "ipfabric", body, url: "" });
    assert.equal(headers["X-IPF-Signature"], oracle("sha256", "ipfabric-secret-c3", body));
    const verdict = await verifyWith("ipfabric", headers, body);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.event, "snapshot.discover.completed");
  });

  await t.step("hmac: the configured header, hash, encoding, prefix and event", async () => {
    const body = encoder.encode('{"anything":true}');
    const headers = await signedHeaders(CONFIG, {
      endpoint: "custom",
      body,
      event: "build.done",
      url: "",
    });
    assert.deepEqual(headers, {
      "Content-Type": "application/json",
      "X-Custom-Event": "build.done",
      "X-Custom-Signature": `sha512=${oracle("sha512", "custom-secret-d4", body, "base64")}`,
    });
    const verdict = await verifyWith("custom", headers, body);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.event, "build.done");
  });

  await t.step("the control: signed headers do not verify another body", async () => {
    const body = encoder.encode('{"a":1}');
    for (const endpoint of ["github", "netbox", "ipfabric", "custom"]) {
      const headers = await signedHeaders(CONFIG, { endpoint, body, url: "" });
      const verdict = await verifyWith(endpoint, headers, encoder.encode('{"a":2}'));
      assert.equal(verdict.ok, false, endpoint);
    }
  });
});

Deno.test("signedHeaders() refuses what it cannot sign, clearly", async (t) => {
  const body = encoder.encode("{}");

  await t.step("no --endpoint", async () => {
    await assert.rejects(
      signedHeaders(CONFIG, { body, url: "" }),
      /^Error: --endpoint is required: name the endpoint to sign for$/,
    );
  });

  await t.step("an endpoint that is not configured", async () => {
    await assert.rejects(
      signedHeaders(CONFIG, { endpoint: "gitlab", body, url: "" }),
      /^Error: No endpoint "gitlab": HOOKD_ENDPOINTS lists github, netbox, ipfabric, custom, discord, mailgun$/,
    );
  });

  await t.step("a public-key sender", async () => {
    await assert.rejects(
      signedHeaders(CONFIG, { endpoint: "discord", body, url: "" }),
      /^Error: The discord provider signs with a private key hookd never holds: use the sender's own test button$/,
    );
  });

  await t.step("a sender that signs inside the body", async () => {
    await assert.rejects(
      signedHeaders(CONFIG, { endpoint: "mailgun", body, url: "" }),
      /^Error: hookd cannot sign for the mailgun provider, whose signature travels in the body: /,
    );
  });
});

Deno.test("runSignCommand() prints a curl command for sign", async (t) => {
  await using dir = await tempDir("hookd_sign_");
  const file = `${dir.path}/it's a body.json`;
  const body = '{"ref":"refs/heads/main"}';
  await Deno.writeTextFile(file, body);

  await t.step("to the local listener, with every header and the file", async () => {
    const cli = parseCommandLine(["sign", "--endpoint", "netbox", file]);
    const { output, code } = await runSignCommand(cli, CONFIG);
    assert.equal(code, 0);
    const signature = oracle("sha512", "netbox-secret-b2", encoder.encode(body));
    assert.deepEqual(output.split("\n"), [
      `curl -sS -X POST 'http://127.0.0.1:9000/hooks/netbox' \\`,
      `  -H 'Content-Type: application/json' \\`,
      `  -H 'X-Hook-Signature: ${signature}' \\`,
      `  --data-binary @'${dir.path}/it'\\''s a body.json'`,
    ]);
  });

  await t.step("an IPv6 listener in brackets", async () => {
    const config: Config = { ...CONFIG, listen: { hostname: "::1", port: 9001 } };
    const cli = parseCommandLine(["sign", "--endpoint", "ipfabric", file]);
    const { output } = await runSignCommand(cli, config);
    assert.match(output, /^curl -sS -X POST 'http:\/\/\[::1\]:9001\/hooks\/ipfabric' \\$/m);
  });

  await t.step("a missing file is named", async () => {
    const cli = parseCommandLine(["sign", "--endpoint", "netbox", `${dir.path}/nope.json`]);
    await assert.rejects(runSignCommand(cli, CONFIG), /^Error: Cannot read .*nope\.json: /);
  });
});

Deno.test("runSignCommand() posts for send and reports the answer", async (t) => {
  await using dir = await tempDir("hookd_sign_");
  const file = `${dir.path}/push.json`;
  await Deno.writeTextFile(file, '{"ref":"refs/heads/main"}');
  const endpoints = await buildEndpoints(CONFIG);
  const app = createApp(CONFIG, {
    endpoints,
    accept: () => Promise.resolve({ id: "d1", duplicate: false }),
  });
  // No socket: the request goes straight to the app.
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => Promise.resolve(app.request(new Request(input, init)));
  try {
    await t.step("a delivery the daemon accepts: exit 0 with its answer", async () => {
      const cli = parseCommandLine([
        "send",
        `${URL_BASE}/github`,
        "--endpoint",
        "github",
        "--event",
        "push",
        file,
      ]);
      const { output, code } = await runSignCommand(cli, CONFIG);
      assert.equal(code, 0);
      const [status, answer] = output.split("\n");
      assert.match(status, /^202 /);
      assert.deepEqual(JSON.parse(answer), {
        id: "d1",
        endpoint: "github",
        event: "push",
        hook: "HOOKD_GITHUB_HOOK_PUSH",
      });
    });

    await t.step("a delivery the daemon refuses: exit 1 with its answer", async () => {
      // Signed for netbox, posted to github: the signature cannot hold.
      const cli = parseCommandLine(["send", `${URL_BASE}/github`, "--endpoint", "netbox", file]);
      const { output, code } = await runSignCommand(cli, CONFIG);
      assert.equal(code, 1);
      assert.match(output, /^401 /);
    });
  } finally {
    globalThis.fetch = realFetch;
  }
});
