/**
 * Tests for what a captured delivery is worth to an attacker, provider by
 * provider: the verdict's `replayKey` is the content the signature covers
 * when no signed delivery id makes a replay a duplicate, and `null` when
 * one does (or when nothing is signed). A replay that changes only what is
 * not signed (the event header, the delivery id header, the encoding of a
 * form) must give the same key, so the store can answer it as a duplicate.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import type { Provider } from "../../lib/verify/types.ts";
import { PROVIDERS } from "../../lib/verify/mod.ts";
import { assertAccepted, delivery, endpointFor } from "./_timestamped.ts";

const NOW = 1_700_000_000_000;
const TS = String(NOW / 1000);
const HOOK_URL = "http://127.0.0.1:9000/hooks/test";
const encoder = new TextEncoder();
const whsec = (fill: number) => `whsec_${new Uint8Array(32).fill(fill).toBase64()}`;

const ed25519 = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
  "sign",
  "verify",
]) as CryptoKeyPair;
const ED25519_PUBLIC = new Uint8Array(await crypto.subtle.exportKey("raw", ed25519.publicKey))
  .toHex();
const ecdsa = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ECDSA_PUBLIC = ecdsa.publicKey.export({ format: "der", type: "spki" }).toString("base64");

async function discordHeaders(body: Uint8Array): Promise<Record<string, string>> {
  const signature = await crypto.subtle.sign(
    "Ed25519",
    ed25519.privateKey,
    new Uint8Array([...encoder.encode(TS), ...body]),
  );
  return {
    "Content-Type": "application/json",
    "X-Signature-Timestamp": TS,
    "X-Signature-Ed25519": new Uint8Array(signature).toHex(),
  };
}

function sendgridHeaders(body: Uint8Array): Promise<Record<string, string>> {
  const signature = nodeSign("sha256", new Uint8Array([...encoder.encode(TS), ...body]), {
    key: ecdsa.privateKey,
    dsaEncoding: "der",
  });
  return Promise.resolve({
    "Content-Type": "application/json",
    "X-Twilio-Email-Event-Webhook-Timestamp": TS,
    "X-Twilio-Email-Event-Webhook-Signature": signature.toString("base64"),
  });
}

async function mailgunBody(): Promise<string> {
  const token = "a".repeat(50);
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode("mailgun-key"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(TS + token));
  return JSON.stringify({
    signature: { timestamp: TS, token, signature: new Uint8Array(mac).toHex() },
    "event-data": { event: "delivered", id: "mg-1" },
  });
}

/** One signed delivery and what its replay key must be. */
interface ReplayCase {
  name: string;
  provider: string;
  secrets?: string[];
  settings?: Record<string, string>;
  body: string | (() => Promise<string>);
  /** Headers for senders `sign()` cannot sign for; else `sign()`'s. */
  headers?: (body: Uint8Array) => Promise<Record<string, string>>;
  /**
   * `null`: a signed delivery id (or nothing signed) stops replays;
   * `body`: the body as received is what the signature covers; bytes: that.
   */
  key: null | "body" | string;
  /** Unsigned headers a replay may change; the key (and a signed event) stays. */
  unsigned?: Record<string, string>;
  /** Another body the same signature covers (a re-encoded form). */
  sameSigned?: string;
}

const CASES: ReplayCase[] = [
  {
    name: "github",
    provider: "github",
    body: '{"ref":"refs/heads/main"}',
    key: "body",
    unsigned: { "X-GitHub-Event": "release", "X-GitHub-Delivery": "replayed" },
  },
  {
    name: "github, form body",
    provider: "github",
    body: "payload=%7B%22ref%22%3A%22main%22%7D",
    key: "body",
    unsigned: { "X-GitHub-Event": "release", "X-GitHub-Delivery": "replayed" },
  },
  ...["gitea", "forgejo", "gogs"].map((name): ReplayCase => {
    const prefix = `X-${name[0].toUpperCase()}${name.slice(1)}`;
    return {
      name,
      provider: name,
      body: '{"ref":"refs/heads/main"}',
      key: "body",
      unsigned: { [`${prefix}-Event`]: "release", [`${prefix}-Delivery`]: "replayed" },
    };
  }),
  {
    name: "gitea, form body: the signed JSON, however the form encodes it",
    provider: "gitea",
    body: "payload=%7B%22ref%22%3A%22main%22%7D",
    key: '{"ref":"main"}',
    sameSigned: "payload=%7B%22ref%22:%22main%22%7D&extra=1",
  },
  {
    name: "gitlab, secret token",
    provider: "gitlab",
    secrets: ["gl-token"],
    body: '{"object_kind":"push"}',
    key: null,
  },
  {
    name: "gitlab, signing token",
    provider: "gitlab",
    secrets: [whsec(5)],
    body: '{"object_kind":"push"}',
    key: null,
  },
  {
    name: "bitbucket",
    provider: "bitbucket",
    body: '{"push":{}}',
    key: "body",
    unsigned: { "X-Event-Key": "repo:fork", "X-Request-UUID": "replayed" },
  },
  {
    name: "jira",
    provider: "jira",
    body: '{"webhookEvent":"jira:issue_created"}',
    key: "body",
    unsigned: { "X-Atlassian-Webhook-Identifier": "replayed" },
  },
  { name: "stripe", provider: "stripe", body: '{"id":"evt_1","type":"invoice.paid"}', key: null },
  {
    name: "stripe, body without id",
    provider: "stripe",
    body: '{"type":"invoice.paid"}',
    key: "body",
  },
  {
    name: "standard",
    provider: "standard",
    secrets: [whsec(6)],
    body: '{"type":"user.created"}',
    key: null,
  },
  {
    name: "slack, event with event_id",
    provider: "slack",
    body: '{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}',
    key: null,
  },
  {
    name: "slack, slash command",
    provider: "slack",
    body: "command=%2Fdeploy&trigger_id=13345224609.738474920.8088930838d88f008e0",
    key: "body",
  },
  {
    name: "shopify",
    provider: "shopify",
    body: '{"id":820982911946154500}',
    key: "body",
    unsigned: { "X-Shopify-Topic": "orders/delete", "X-Shopify-Webhook-Id": "replayed" },
  },
  {
    name: "discord, interaction",
    provider: "discord",
    settings: { PUBLIC_KEY: ED25519_PUBLIC },
    headers: discordHeaders,
    body: '{"id":"787053080478613556","type":2,"data":{"name":"test"}}',
    key: null,
  },
  {
    name: "discord, webhook event",
    provider: "discord",
    settings: { PUBLIC_KEY: ED25519_PUBLIC },
    headers: discordHeaders,
    body: '{"version":1,"type":1,"event":{"type":"APPLICATION_AUTHORIZED"}}',
    key: "body",
  },
  {
    name: "linear",
    provider: "linear",
    body: JSON.stringify({ action: "create", type: "Comment", webhookTimestamp: NOW }),
    key: "body",
    unsigned: { "Linear-Event": "Issue", "Linear-Delivery": "replayed" },
  },
  {
    name: "sentry",
    provider: "sentry",
    body: '{"action":"created","data":{}}',
    key: "body",
    unsigned: { "Sentry-Hook-Resource": "error", "Request-ID": "replayed" },
  },
  {
    name: "paddle",
    provider: "paddle",
    body: '{"event_id":"evt_1","event_type":"transaction.completed"}',
    key: null,
  },
  {
    name: "pagerduty",
    provider: "pagerduty",
    body: '{"event":{"id":"p1","event_type":"incident.triggered"}}',
    key: null,
  },
  {
    name: "zoom",
    provider: "zoom",
    body: '{"event":"meeting.started","event_ts":1700000000000}',
    key: "body",
    unsigned: { "x-zm-trackingid": "replayed" },
  },
  {
    name: "typeform",
    provider: "typeform",
    body: '{"event_id":"01H","event_type":"form_response"}',
    key: null,
  },
  { name: "calendly", provider: "calendly", body: '{"event":"invitee.created"}', key: "body" },
  {
    name: "mailgun",
    provider: "mailgun",
    secrets: ["mailgun-key"],
    body: mailgunBody,
    headers: () => Promise.resolve({ "Content-Type": "application/json" }),
    key: null,
  },
  {
    name: "sendgrid, one event",
    provider: "sendgrid",
    settings: { PUBLIC_KEY: ECDSA_PUBLIC },
    headers: sendgridHeaders,
    body: '[{"event":"delivered","sg_event_id":"sg-1"}]',
    key: null,
  },
  {
    name: "sendgrid, a batch",
    provider: "sendgrid",
    settings: { PUBLIC_KEY: ECDSA_PUBLIC },
    headers: sendgridHeaders,
    body: '[{"event":"delivered","sg_event_id":"sg-1"},{"event":"open","sg_event_id":"sg-2"}]',
    key: "body",
  },
  { name: "netbox", provider: "netbox", body: '{"model":"site","event":"created"}', key: "body" },
  { name: "ipfabric", provider: "ipfabric", body: '{"type":"snapshot"}', key: "body" },
  {
    name: "hmac",
    provider: "hmac",
    settings: { SIGNATURE_HEADER: "X-Sig", EVENT_HEADER: "X-Event", DELIVERY_HEADER: "X-Id" },
    body: '{"ref":"main"}',
    key: "body",
    unsigned: { "X-Event": "other", "X-Id": "replayed" },
  },
  {
    name: "token",
    provider: "token",
    settings: { TOKEN_HEADER: "X-Token" },
    body: '{"ref":"main"}',
    key: null,
  },
  { name: "none", provider: "none", body: '{"ref":"main"}', key: null },
  {
    name: "meta",
    provider: "meta",
    settings: { VERIFY_TOKEN: "meta-verify-token" },
    body: '{"object":"page","entry":[{"changes":[{"field":"feed"}]}]}',
    key: "body",
  },
  { name: "dropbox", provider: "dropbox", body: '{"list_folder":{"accounts":["a"]}}', key: "body" },
  {
    name: "twitch: the message id is signed",
    provider: "twitch",
    body: '{"subscription":{"type":"channel.follow"},"event":{}}',
    key: null,
  },
  {
    name: "msgraph: the shared secret travels in the body",
    provider: "msgraph",
    secrets: ["msgraph-client-state"],
    body:
      '{"value":[{"changeType":"created","clientState":"msgraph-client-state","resource":"r"}]}',
    headers: () => Promise.resolve({ "Content-Type": "application/json" }),
    key: null,
  },
  {
    name: "vercel",
    provider: "vercel",
    body: '{"id":"v1","type":"deployment.succeeded"}',
    key: "body",
  },
  {
    name: "circleci: the id in the signed body",
    provider: "circleci",
    body: '{"id":"c1","type":"workflow-completed"}',
    key: null,
  },
  { name: "intercom", provider: "intercom", body: '{"id":"i1","topic":"ping"}', key: "body" },
  {
    name: "hubspot",
    provider: "hubspot",
    body: '[{"eventId":1,"subscriptionType":"contact.creation"}]',
    key: "body",
  },
  {
    name: "contentful",
    provider: "contentful",
    body: '{"sys":{"type":"Entry","id":"e1"}}',
    key: "body",
  },
  {
    name: "woocommerce",
    provider: "woocommerce",
    body: '{"id":727,"status":"processing"}',
    key: "body",
    unsigned: { "X-WC-Webhook-Topic": "order.deleted", "X-WC-Webhook-Delivery-ID": "replayed" },
  },
  {
    name: "square",
    provider: "square",
    body: '{"event_id":"e1","type":"payment.updated"}',
    key: "body",
  },
  {
    name: "lemonsqueezy",
    provider: "lemonsqueezy",
    body: '{"meta":{"event_name":"order_created"}}',
    key: "body",
  },
  { name: "docusign", provider: "docusign", body: '{"event":"envelope-completed"}', key: "body" },
  {
    name: "mux: the id in the signed body",
    provider: "mux",
    body: '{"id":"m1","type":"video.asset.ready"}',
    key: null,
  },
  {
    name: "clerk (Standard Webhooks)",
    provider: "clerk",
    secrets: [`whsec_${btoa("clerk-replay-key-0123456789")}`],
    body: '{"type":"user.created"}',
    key: null,
  },
  {
    name: "resend (Standard Webhooks)",
    provider: "resend",
    secrets: [`whsec_${btoa("resend-replay-key-0123456789")}`],
    body: '{"type":"email.sent"}',
    key: null,
  },
  {
    name: "postmark (basic auth)",
    provider: "postmark",
    secrets: ["user:postmark-password"],
    body: '{"RecordType":"Delivery"}',
    key: null,
  },
  {
    name: "azure-devops (basic auth)",
    provider: "azure-devops",
    secrets: ["user:azure-password"],
    body: '{"eventType":"git.push"}',
    key: null,
  },
];

async function verifyCase(c: ReplayCase) {
  const provider: Provider = PROVIDERS.get(c.provider)!;
  const endpoint = endpointFor(
    provider,
    c.secrets ?? (provider.secret === "none" ? [] : [`${c.provider}-secret`]),
    { PUBLIC_URL: "https://hooks.example.com/twilio", ...c.settings },
  );
  const check = await provider.create(endpoint);
  const body = encoder.encode(typeof c.body === "string" ? c.body : await c.body());
  const headers = c.headers
    ? await c.headers(body)
    : await provider.sign!(endpoint, body, { now: NOW, url: HOOK_URL, event: "push" });
  const run = (h: Record<string, string>, b: Uint8Array = body) =>
    check(delivery(h, b, NOW, HOOK_URL)).then(assertAccepted);
  return { body, headers, run, verdict: await run(headers) };
}

Deno.test("replayKey is the signed content exactly when no signed id stops a replay", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const { body, headers, run, verdict } = await verifyCase(c);
      if (c.key === null) {
        assert.equal(verdict.replayKey, null);
        return;
      }
      const expected = c.key === "body" ? body : encoder.encode(c.key);
      assert.deepEqual(verdict.replayKey, expected);
      if (c.unsigned) {
        const replay = await run({ ...headers, ...c.unsigned });
        assert.deepEqual(replay.replayKey, verdict.replayKey, "a replay has the same key");
      }
      if (c.sameSigned) {
        const replay = await run(headers, encoder.encode(c.sameSigned));
        assert.deepEqual(replay.replayKey, verdict.replayKey, "a re-encoded form has the same key");
      }
    });
  }
});

Deno.test("replayKey of a Twilio form is what Twilio signs, not the bytes sent", async () => {
  const c: ReplayCase = {
    name: "twilio",
    provider: "twilio",
    body: "CallSid=CA1&CallStatus=ringing&From=%2B15550001",
    key: "body",
  };
  const { headers, run, verdict } = await verifyCase(c);
  assert.ok(verdict.replayKey instanceof Uint8Array);
  // Twilio signs the sorted parameters, so their order and encoding are free.
  const reordered = encoder.encode("From=%2B15550001&CallStatus=ringing&CallSid=CA1&CallSid=CA1");
  const replay = await run({ ...headers, "I-Twilio-Idempotency-Token": "replayed" }, reordered);
  assert.deepEqual(replay.replayKey, verdict.replayKey);
});

Deno.test("every provider is covered by a replay case", () => {
  const covered = new Set([...CASES.map((c) => c.provider), "twilio"]);
  assert.deepEqual([...PROVIDERS.keys()].filter((name) => !covered.has(name)), []);
});
