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
import {
  hmacHex,
  integrationTest,
  runHookd,
  startDaemon,
  tempDir,
  waitForFile,
} from "../harness.ts";

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

const VERIFY_TOKEN = "meta-verify-token-2b7e91";
const CLIENT_STATE = "graph-client-state-6d1f0a";
const TWITCH_SECRET = "twitch-eventsub-secret-0123";

integrationTest(
  "handshakes and the new senders verify and run their hooks through the daemon",
  async (t) => {
    await using out = await tempDir();
    const hook = `echo "$HOOKD_ENDPOINT $HOOKD_EVENT" > "${out.path}/$HOOKD_DELIVERY_ID"`;
    const senders: Record<string, Record<string, string>> = {
      meta: { SECRET: "meta-app-secret-0123456", VERIFY_TOKEN },
      dropbox: { SECRET: "dropbox-app-secret-0123" },
      twitch: { SECRET: TWITCH_SECRET },
      msgraph: { SECRET: CLIENT_STATE },
      vercel: { SECRET: "vercel-secret-0123456789" },
      circleci: { SECRET: "circleci-secret-0123456" },
      intercom: { SECRET: "intercom-secret-0123456" },
      hubspot: {
        SECRET: "hubspot-secret-01234567",
        PUBLIC_URL: "https://hooks.example.com/hooks/hubspot",
      },
      square: {
        SECRET: "square-signature-key-01",
        PUBLIC_URL: "https://hooks.example.com/hooks/square",
      },
      lemonsqueezy: { SECRET: "lemon-secret-0123456789" },
      docusign: { SECRET: "docusign-key-0123456789" },
      mux: { SECRET: "mux-signing-secret-0123" },
      contentful: { SECRET: "contentful-signing-secret-0123456789abcdef0123456789abcdef01234567" },
      woocommerce: { SECRET: "woocommerce-secret-0123" },
      md5: { SECRET: "md5-shared-secret-01234" },
    };
    const env: Record<string, string> = {
      HOOKD_ENDPOINTS: [...Object.keys(senders), "github"].join(","),
      HOOKD_MD5_SIGNATURE_HEADER: "webhook-signature",
      HOOKD_MD5_ALGORITHM: "md5",
      HOOKD_MD5_EVENT_FIELD: "type",
      HOOKD_GITHUB_PROVIDER: "github",
      HOOKD_GITHUB_SECRET: "github-secret-0123456789",
    };
    for (const [name, settings] of Object.entries(senders)) {
      const prefix = `HOOKD_${name.toUpperCase()}_`;
      env[`${prefix}PROVIDER`] = name === "md5" ? "hmac" : name;
      env[`${prefix}HOOK_DEFAULT`] = hook;
      for (const [key, value] of Object.entries(settings)) env[prefix + key] = value;
    }
    await using daemon = await startDaemon(env);
    const get = (path: string) => fetch(`${daemon.url}/hooks/${path}`);

    await t.step("meta: the verification GET is answered only with the right token", async () => {
      const query = (token: string) =>
        `meta?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`;
      const good = await get(query(VERIFY_TOKEN));
      assert.equal(good.status, 200);
      assert.equal(await good.text(), "1158201444");
      assert.match(good.headers.get("content-type")!, /^text\/plain/);
      const bad = await get(query("not-the-token"));
      assert.equal(bad.status, 403);
      assert.doesNotMatch(await bad.text(), /1158201444/);
    });

    await t.step("dropbox: the GET challenge is echoed with nosniff", async () => {
      const response = await get("dropbox?challenge=dbx-challenge-42");
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "dbx-challenge-42");
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    });

    await t.step("github: GET is still 405", async () => {
      const response = await get("github?challenge=x");
      assert.equal(response.status, 405);
      await response.body?.cancel();
    });

    await t.step("msgraph: validationToken is echoed; a notification runs its hook", async () => {
      const token = "Validation: Testing client application reachability";
      const validation = await fetch(
        `${daemon.url}/hooks/msgraph?validationToken=${encodeURIComponent(token)}`,
        { method: "POST", headers: { "Content-Type": "text/plain; charset=utf-8" } },
      );
      assert.equal(validation.status, 200);
      assert.equal(await validation.text(), token);
      const body = JSON.stringify({
        value: [{ clientState: CLIENT_STATE, changeType: "created", resource: "users/1" }],
      });
      const response = await daemon.post("msgraph", body, { "Content-Type": "application/json" });
      assert.equal(response.status, 202);
      const { id } = await response.json();
      assert.equal((await waitForFile(`${out.path}/${id}`)).trim(), "msgraph change.created");
      const forged = await daemon.post("msgraph", body.replace(CLIENT_STATE, "guess"));
      assert.equal(forged.status, 401);
      await forged.body?.cancel();
    });

    const twitchHeaders = async (body: string, type: string, id: string) => {
      const timestamp = new Date().toISOString();
      return {
        "Content-Type": "application/json",
        "Twitch-Eventsub-Message-Id": id,
        "Twitch-Eventsub-Message-Timestamp": timestamp,
        "Twitch-Eventsub-Message-Type": type,
        "Twitch-Eventsub-Message-Signature": `sha256=${await hmacHex(
          "SHA-256",
          TWITCH_SECRET,
          id + timestamp + body,
        )}`,
      };
    };
    const subscription = { id: "f1c2a387", status: "enabled", type: "channel.follow" };

    await t.step("twitch: the callback verification is answered with its challenge", async () => {
      const body = JSON.stringify({
        challenge: "pogchamp-kappa-360noscope-vohiyo",
        subscription: { ...subscription, status: "webhook_callback_verification_pending" },
      });
      const response = await daemon.post(
        "twitch",
        body,
        await twitchHeaders(body, "webhook_callback_verification", crypto.randomUUID()),
      );
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /^text\/plain/);
      assert.equal(await response.text(), "pogchamp-kappa-360noscope-vohiyo");
    });

    await t.step("twitch: a notification runs once; its retry is a duplicate", async () => {
      const body = JSON.stringify({ subscription, event: { user_id: "1337" } });
      const headers = await twitchHeaders(body, "notification", crypto.randomUUID());
      const first = await daemon.post("twitch", body, headers);
      assert.equal(first.status, 202);
      const { id } = await first.json();
      assert.equal((await waitForFile(`${out.path}/${id}`)).trim(), "twitch channel.follow");
      const again = await daemon.post("twitch", body, headers);
      assert.equal(again.status, 200);
      const duplicate = await again.json();
      assert.equal(duplicate.id, id);
      assert.equal(duplicate.duplicate, true);
    });

    await t.step("twitch: a revocation is stored and logged as an event", async () => {
      const body = JSON.stringify({ subscription: { ...subscription, status: "user_removed" } });
      const response = await daemon.post(
        "twitch",
        body,
        await twitchHeaders(body, "revocation", crypto.randomUUID()),
      );
      assert.equal(response.status, 202);
      const { id, event } = await response.json();
      assert.equal(event, "revocation.channel.follow");
      const record = await daemon.waitForRecord((r) => r.type === "request" && r.id === id);
      assert.equal(record.event, "revocation.channel.follow");
    });

    const sent: [string, unknown, string][] = [
      ["meta", { object: "page", entry: [{ changes: [{ field: "feed" }] }] }, "page.feed"],
      ["dropbox", { list_folder: { accounts: ["dbid:1"] } }, "list_folder"],
      ["twitch", { subscription, event: {} }, "channel.follow"],
      ["vercel", { id: "uev_1", type: "deployment.succeeded" }, "deployment.succeeded"],
      ["circleci", { id: "c1", type: "workflow-completed" }, "workflow-completed"],
      ["intercom", { id: "notif_1", topic: "contact.created" }, "contact.created"],
      ["hubspot", [{ subscriptionType: "contact.creation", eventId: 1 }], "contact.creation"],
      ["square", { event_id: "e1", type: "payment.updated" }, "payment.updated"],
      ["lemonsqueezy", { meta: { event_name: "order_created" } }, "order_created"],
      ["docusign", { event: "envelope-completed" }, "envelope-completed"],
      ["mux", { id: "m1", type: "video.asset.ready" }, "video.asset.ready"],
      ["contentful", { sys: { type: "Entry" } }, "ContentManagement.Entry.publish"],
      ["woocommerce", { id: 727, status: "processing" }, "order.created"],
      ["md5", { type: "build.finished" }, "build.finished"],
    ];
    for (const [endpoint, payload, event] of sent) {
      await t.step(`${endpoint}: hookd send is accepted and the hook sees ${event}`, async () => {
        const file = `${out.path}/${endpoint}.json`;
        await Deno.writeTextFile(file, JSON.stringify(payload));
        const result = await hookdSend(daemon.envFile, daemon.url, endpoint, file);
        assert.equal(result.code, 0, result.output);
        assert.match(result.output, /^202 /);
        const { id } = JSON.parse(result.output.slice(result.output.indexOf("{")));
        assert.equal((await waitForFile(`${out.path}/${id}`)).trim(), `${endpoint} ${event}`);
      });
    }

    await t.step(
      "woocommerce: the unsigned creation ping is answered 200, runs nothing",
      async () => {
        const response = await daemon.post("woocommerce", "webhook_id=17", {
          "Content-Type": "application/x-www-form-urlencoded",
        });
        assert.equal(response.status, 200);
        await response.body?.cancel();
        const forged = await daemon.post("woocommerce", "webhook_id=17&order=1", {
          "Content-Type": "application/x-www-form-urlencoded",
        });
        assert.equal(forged.status, 401);
        await forged.body?.cancel();
      },
    );

    await t.step("each of them refuses a forged delivery", async () => {
      for (const [endpoint] of sent) {
        const response = await daemon.post(endpoint, "{}", { "Content-Type": "application/json" });
        assert.equal(response.status, 401, endpoint);
        await response.body?.cancel();
      }
    });

    await t.step("the log holds neither the verify token nor any challenge", async () => {
      const answered = await daemon.waitForRecords(
        (r) => r.type === "request" && r.outcome === "answered",
        5,
      );
      await daemon.waitForRecords((r) => r.type === "request" && r.status === 401, sent.length);
      const text = await Deno.readTextFile(daemon.logFile);
      for (const secret of [VERIFY_TOKEN, "not-the-token", "1158201444", "dbx-challenge-42"]) {
        assert.ok(!text.includes(secret), secret);
      }
      assert.deepEqual(
        answered.map((r) => `${r.method} ${r.endpoint} ${r.event}`).sort(),
        [
          "GET dropbox challenge",
          "GET meta subscribe",
          "POST msgraph validation",
          "POST twitch webhook_callback_verification",
          "POST woocommerce ping",
        ],
      );
    });
  },
);
