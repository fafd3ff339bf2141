/**
 * Tests for senders' handshakes through the HTTP app: a GET reaches only
 * providers that have one, the challenge is echoed only after the verify
 * token holds, one request record is logged, and nothing from the query
 * string that is a secret (or the challenge itself) reaches it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { createApp } from "../../lib/http/app.ts";
import type { NewDelivery } from "../../lib/store/mod.ts";
import { parseConfig } from "../../lib/config/mod.ts";
import { buildEndpoints } from "../../lib/endpoints.ts";

const VERIFY_TOKEN = "verify-token-5c0ffee";
const META_SECRET = "meta-app-secret-77aa";
const CLIENT_STATE = "graph-client-state-42";
const CHALLENGE = "challenge-1158201444";

const ENV = {
  HOOKD_ENDPOINTS: "meta,dropbox,graph,github",
  HOOKD_META_PROVIDER: "meta",
  HOOKD_META_SECRET: META_SECRET,
  HOOKD_META_VERIFY_TOKEN: VERIFY_TOKEN,
  HOOKD_META_HOOK_DEFAULT: "./meta.sh",
  HOOKD_DROPBOX_PROVIDER: "dropbox",
  HOOKD_DROPBOX_SECRET: "dropbox-app-secret-1",
  HOOKD_GRAPH_PROVIDER: "msgraph",
  HOOKD_GRAPH_SECRET: CLIENT_STATE,
  HOOKD_GRAPH_HOOK_DEFAULT: "./graph.sh",
  HOOKD_GITHUB_PROVIDER: "github",
  HOOKD_GITHUB_SECRET: "github-secret-0001",
};

interface Harness {
  request(path: string, init?: RequestInit): Promise<Response>;
  deliveries: NewDelivery[];
  records(): Record<string, unknown>[];
  logText(): string;
}

async function withApp(fn: (h: Harness) => Promise<void>): Promise<void> {
  const logged: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { mem: (record: LogRecord) => void logged.push(record) },
    loggers: [
      { category: ["hookd"], sinks: ["mem"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
  try {
    const config = parseConfig(ENV);
    const deliveries: NewDelivery[] = [];
    const app = createApp(config, {
      endpoints: await buildEndpoints(config),
      accept: (d) => {
        deliveries.push(d);
        return Promise.resolve({ id: `d${deliveries.length}`, duplicate: false });
      },
      now: () => 1_750_000_000_000,
    });
    await fn({
      request: (path, init) => Promise.resolve(app.request(path, init)),
      deliveries,
      records: () =>
        logged.filter((r) => r.category.join(".") === "hookd.request").map((r) => r.properties),
      logText: () => JSON.stringify(logged.map((r) => ({ ...r, message: r.message }))),
    });
  } finally {
    await reset();
  }
}

const metaQuery = (token: string) =>
  `/hooks/meta?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=${CHALLENGE}`;

Deno.test("createApp() answers a Meta verification GET only with the right verify token", async (t) => {
  await t.step(
    "the right token: 200 text/plain challenge, one record, no token or challenge logged",
    () =>
      withApp(async ({ request, deliveries, records, logText }) => {
        const response = await request(metaQuery(VERIFY_TOKEN));
        assert.equal(response.status, 200);
        assert.equal(await response.text(), CHALLENGE);
        assert.match(response.headers.get("content-type")!, /^text\/plain/);
        assert.equal(response.headers.get("x-content-type-options"), "nosniff");
        assert.equal(deliveries.length, 0);
        const [record, ...more] = records();
        assert.equal(more.length, 0);
        assert.equal(record.method, "GET");
        assert.equal(record.status, 200);
        assert.equal(record.outcome, "answered");
        assert.equal(record.event, "subscribe");
        assert.equal(record.endpoint, "meta");
        assert.doesNotMatch(logText(), new RegExp(`${VERIFY_TOKEN}|${CHALLENGE}|hub\\.`));
      }),
  );

  await t.step(
    "a wrong token: 403, the challenge not echoed, the guess not logged",
    () =>
      withApp(async ({ request, records, logText }) => {
        const response = await request(metaQuery("guessed-token-123"));
        assert.equal(response.status, 403);
        const text = await response.text();
        assert.doesNotMatch(text, new RegExp(CHALLENGE));
        assert.deepEqual(JSON.parse(text), { error: "Wrong hub.verify_token" });
        const [record] = records();
        assert.equal(record.outcome, "rejected.token");
        assert.doesNotMatch(logText(), /guessed-token-123|challenge-1158201444/);
      }),
  );

  await t.step("a GET that is not a subscribe request: 400", () =>
    withApp(async ({ request }) => {
      const response = await request("/hooks/meta");
      assert.equal(response.status, 400);
      await response.body?.cancel();
    }));

  await t.step(
    "a signed POST is still a delivery",
    () =>
      withApp(async ({ request, deliveries }) => {
        const body = JSON.stringify({ object: "page", entry: [{ changes: [{ field: "feed" }] }] });
        const mac = createHmac("sha256", META_SECRET).update(body).digest("hex");
        const response = await request("/hooks/meta", {
          method: "POST",
          body,
          headers: { "Content-Type": "application/json", "X-Hub-Signature-256": `sha256=${mac}` },
        });
        assert.equal(response.status, 202);
        assert.equal(deliveries[0].event, "page.feed");
      }),
  );
});

Deno.test("createApp() echoes Dropbox's GET challenge and Graph's validationToken POST", async (t) => {
  await t.step(
    "dropbox GET ?challenge=: 200 with the challenge, nosniff",
    () =>
      withApp(async ({ request, records }) => {
        const response = await request(`/hooks/dropbox?challenge=${CHALLENGE}`);
        assert.equal(response.status, 200);
        assert.equal(await response.text(), CHALLENGE);
        assert.equal(response.headers.get("x-content-type-options"), "nosniff");
        assert.equal(records()[0].outcome, "answered");
      }),
  );

  await t.step(
    "graph POST ?validationToken=: 200 echo, no body read, nothing dispatched",
    () =>
      withApp(async ({ request, deliveries, records }) => {
        const token = "Validation: Testing client application reachability";
        const response = await request(
          `/hooks/graph?validationToken=${encodeURIComponent(token)}`,
          { method: "POST", headers: { "Content-Type": "text/plain; charset=utf-8" } },
        );
        assert.equal(response.status, 200);
        assert.equal(await response.text(), token);
        assert.equal(deliveries.length, 0);
        assert.equal(records()[0].event, "validation");
      }),
  );

  await t.step(
    "graph POST with a notification: verified by clientState",
    () =>
      withApp(async ({ request, deliveries }) => {
        const body = JSON.stringify({
          value: [{ clientState: CLIENT_STATE, changeType: "updated" }],
        });
        const response = await request("/hooks/graph", { method: "POST", body });
        assert.equal(response.status, 202);
        assert.equal(deliveries[0].event, "change.updated");
        assert.ok(!new TextDecoder().decode(deliveries[0].body).includes(CLIENT_STATE));
        const bad = await request("/hooks/graph", {
          method: "POST",
          body: body.replace(CLIENT_STATE, "nope"),
        });
        assert.equal(bad.status, 401);
        await bad.body?.cancel();
      }),
  );
});

Deno.test("createApp() keeps GET 405 where the provider has no GET handshake", async () => {
  await withApp(async ({ request, records }) => {
    for (
      const path of ["/hooks/github", `/hooks/graph?validationToken=x`, "/hooks/github?challenge=x"]
    ) {
      const response = await request(path);
      assert.equal(response.status, 405, path);
      assert.equal(response.headers.get("allow"), "POST");
      await response.body?.cancel();
    }
    for (const method of ["PUT", "DELETE"]) {
      const response = await request(metaQuery(VERIFY_TOKEN), { method });
      assert.equal(response.status, 405, method);
      await response.body?.cancel();
    }
    assert.ok(records().every((r) => r.outcome === "rejected.method"));
  });
});
