/**
 * One delivery per provider family through the running daemon: the forges'
 * body HMAC, timestamped HMAC (Stripe, Standard Webhooks, Slack), a shared
 * token (GitLab), and Ed25519 (Discord), each signed by `hookd send` or by
 * the test itself, each running its hook, and the synchronous answers
 * (Slack's challenge, Discord's PING) given without one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { integrationTest, runHookd, startDaemon, tempDir, waitForFile } from "../harness.ts";

const STANDARD_SECRET = `whsec_${btoa("standard-webhooks-key-0123456789")}`;

async function hookdSend(
  envFile: string,
  url: string,
  endpoint: string,
  file: string,
  event?: string,
): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await runHookd([
    "send",
    `${url}/hooks/${endpoint}`,
    "--env-file",
    envFile,
    "--endpoint",
    endpoint,
    ...(event ? ["--event", event] : []),
    file,
  ]);
  return { code, output: stdout + stderr };
}

integrationTest(
  "every provider family verifies and runs its hook through the daemon",
  async (t) => {
    await using out = await tempDir();
    const hook = `echo "$HOOKD_ENDPOINT $HOOKD_EVENT" > "${out.path}/$HOOKD_DELIVERY_ID"`;
    const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const publicHex = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey)).toHex();
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "gitea,stripe,standard,slack,gitlab,discord",
      HOOKD_GITEA_PROVIDER: "gitea",
      HOOKD_GITEA_SECRET: "gitea-secret-0123456789",
      HOOKD_GITEA_HOOK_DEFAULT: hook,
      HOOKD_STRIPE_PROVIDER: "stripe",
      HOOKD_STRIPE_SECRET: "whsec_stripe_secret_0123456789",
      HOOKD_STRIPE_HOOK_DEFAULT: hook,
      HOOKD_STANDARD_PROVIDER: "standard",
      HOOKD_STANDARD_SECRET: STANDARD_SECRET,
      HOOKD_STANDARD_HOOK_DEFAULT: hook,
      HOOKD_SLACK_PROVIDER: "slack",
      HOOKD_SLACK_SECRET: "slack-signing-secret-0123",
      HOOKD_SLACK_HOOK_DEFAULT: hook,
      HOOKD_GITLAB_PROVIDER: "gitlab",
      HOOKD_GITLAB_SECRET: "gitlab-token-0123456789",
      HOOKD_GITLAB_HOOK_DEFAULT: hook,
      HOOKD_DISCORD_PROVIDER: "discord",
      HOOKD_DISCORD_PUBLIC_KEY: publicHex,
      HOOKD_DISCORD_HOOK_DEFAULT: hook,
    });

    const cases: [string, unknown, string | undefined, string][] = [
      ["gitea", { action: "opened", number: 1 }, "pull_request", "gitea pull_request.opened"],
      ["stripe", { id: "evt_1", type: "invoice.paid" }, undefined, "stripe invoice.paid"],
      ["standard", { type: "user.created", data: {} }, undefined, "standard user.created"],
      [
        "slack",
        { type: "event_callback", event: { type: "app_mention" } },
        undefined,
        "slack app_mention",
      ],
      ["gitlab", { object_kind: "push", ref: "main" }, undefined, "gitlab push"],
    ];
    for (const [endpoint, payload, event, expected] of cases) {
      await t.step(
        `${endpoint}: hookd send is accepted and the hook sees ${expected}`,
        async () => {
          const file = `${out.path}/${endpoint}.json`;
          await Deno.writeTextFile(file, JSON.stringify(payload));
          const sent = await hookdSend(daemon.envFile, daemon.url, endpoint, file, event);
          assert.equal(sent.code, 0, sent.output);
          assert.match(sent.output, /^202 /);
          const { id } = JSON.parse(sent.output.slice(sent.output.indexOf("{")));
          assert.equal((await waitForFile(`${out.path}/${id}`)).trim(), expected);
        },
      );
    }

    await t.step("a tampered body is refused for each of them", async () => {
      for (const [endpoint] of cases) {
        const response = await daemon.post(endpoint, "{}", { "Content-Type": "application/json" });
        assert.equal(response.status, 401, endpoint);
        await response.body?.cancel();
      }
    });

    await t.step("slack: url_verification is answered by hookd, no hook runs", async () => {
      const body = JSON.stringify({ type: "url_verification", challenge: "chal-123" });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const key = await crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode("slack-signing-secret-0123"),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      const mac = await crypto.subtle.sign(
        "HMAC",
        key,
        new TextEncoder().encode(`v0:${timestamp}:${body}`),
      );
      const response = await daemon.post("slack", body, {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": `v0=${new Uint8Array(mac).toHex()}`,
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { challenge: "chal-123" });
    });

    await t.step(
      "discord: a PING signed with Ed25519 gets {type:1}; a bad signature 401",
      async () => {
        const body = JSON.stringify({ type: 1, id: "1", application_id: "2" });
        const timestamp = String(Math.floor(Date.now() / 1000));
        const signature = new Uint8Array(
          await crypto.subtle.sign(
            "Ed25519",
            keys.privateKey,
            new TextEncoder().encode(timestamp + body),
          ),
        );
        const headers = {
          "Content-Type": "application/json",
          "X-Signature-Timestamp": timestamp,
          "X-Signature-Ed25519": signature.toHex(),
        };
        const ping = await daemon.post("discord", body, headers);
        assert.equal(ping.status, 200);
        assert.deepEqual(await ping.json(), { type: 1 });
        signature[0] ^= 1;
        const bad = await daemon.post("discord", body, {
          ...headers,
          "X-Signature-Ed25519": signature.toHex(),
        });
        assert.equal(bad.status, 401);
        await bad.body?.cancel();
      },
    );

    await t.step("each accepted delivery logged which key verified it", async () => {
      const records = await daemon.waitForRecords(
        (r) => r.type === "request" && r.status === 202,
        cases.length,
      );
      assert.equal(records.length, cases.length);
      assert.ok(records.every((r) => r.verifiedBy === "secret"));
    });
  },
);

integrationTest(
  "a delivery signed with the previous secret is accepted and logged as such",
  async () => {
    await using out = await tempDir();
    await using old = await tempDir();
    const envFile = `${old.path}/old.env`;
    await Deno.writeTextFile(
      envFile,
      "HOOKD_ENDPOINTS=gitea\nHOOKD_GITEA_PROVIDER=gitea\nHOOKD_GITEA_SECRET=old-gitea-secret-0123456\n",
      { mode: 0o600 },
    );
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "gitea",
      HOOKD_GITEA_PROVIDER: "gitea",
      HOOKD_GITEA_SECRET: "new-gitea-secret-0123456",
      HOOKD_GITEA_SECRET_PREVIOUS: "old-gitea-secret-0123456",
      HOOKD_GITEA_HOOK_PUSH: `touch "${out.path}/$HOOKD_DELIVERY_ID"`,
    });
    const file = `${old.path}/push.json`;
    await Deno.writeTextFile(file, JSON.stringify({ ref: "refs/heads/main" }));
    const sent = await hookdSend(envFile, daemon.url, "gitea", file, "push");
    assert.equal(sent.code, 0, sent.output);
    const { id } = JSON.parse(sent.output.slice(sent.output.indexOf("{")));
    await waitForFile(`${out.path}/${id}`, () => true);
    const record = await daemon.waitForRecord((r) => r.type === "request" && r.id === id);
    assert.equal(record.verifiedBy, "previous secret");
  },
);
