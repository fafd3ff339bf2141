/**
 * Tests for the HTTP app through `app.request()`: routing, the body limit,
 * signatures, the answers, how the dispatcher's refusals map to statuses,
 * and one request record per request with nothing secret in it.
 *
 * Requests are signed here with `node:crypto`, independently of lib code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { type AppDeps, createApp } from "../../lib/http/app.ts";
import type { HookOutput } from "../../lib/http/intake.ts";
import type { NewDelivery } from "../../lib/store/mod.ts";
import { parseConfig } from "../../lib/config/mod.ts";
import { buildEndpoints } from "../../lib/endpoints.ts";
import { HttpError } from "../../lib/http/http_error.ts";

const GITHUB_SECRET = "gh-secret-4f1c9a";
const SLACK_SECRET = "slack-secret-8d2e7b";
const SYNC_SECRET = "sync-secret-0a9b3c";
const NOW = 1_750_000_000_000;
const MAX_BODY = 4096;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const ENV = {
  HOOKD_ENDPOINTS: "github,slack,sync",
  HOOKD_MAX_BODY_BYTES: String(MAX_BODY),
  HOOKD_GITHUB_PROVIDER: "github",
  HOOKD_GITHUB_SECRET: GITHUB_SECRET,
  HOOKD_GITHUB_HOOK_PUSH: "./deploy.sh",
  HOOKD_GITHUB_HOOK_PULL_REQUEST: "./pr.sh",
  HOOKD_GITHUB_TIMEOUT: "60s",
  HOOKD_SLACK_PROVIDER: "slack",
  HOOKD_SLACK_SECRET: SLACK_SECRET,
  HOOKD_SLACK_HOOK_DEFAULT: "./slack.sh",
  HOOKD_SYNC_PROVIDER: "github",
  HOOKD_SYNC_SECRET: SYNC_SECRET,
  HOOKD_SYNC_HOOK_PUSH: "./build.sh",
  HOOKD_SYNC_RESPOND: "output",
};

function hmacHex(hash: "sha256" | "sha1", secret: string, body: string | Uint8Array): string {
  return createHmac(hash, secret).update(body).digest("hex");
}

/** The headers GitHub sends, signed with `secret`. */
function githubHeaders(
  body: string,
  event: string,
  options: { secret?: string; contentType?: string; delivery?: string } = {},
): Record<string, string> {
  return {
    "Content-Type": options.contentType ?? "application/json",
    "X-GitHub-Event": event,
    "X-GitHub-Delivery": options.delivery ?? "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "X-Hub-Signature-256": `sha256=${hmacHex("sha256", options.secret ?? GITHUB_SECRET, body)}`,
  };
}

/** A fake dispatcher that records what it is handed. */
class FakeDispatcher {
  deliveries: NewDelivery[] = [];
  next: () => Promise<{ id: string; duplicate: boolean; event?: string }> = () =>
    Promise.resolve({ id: `d${this.deliveries.length}`, duplicate: false });

  accept = (delivery: NewDelivery): Promise<{ id: string; duplicate: boolean }> => {
    this.deliveries.push(delivery);
    return this.next();
  };
}

interface Harness {
  app: ReturnType<typeof createApp>;
  dispatcher: FakeDispatcher;
  records: LogRecord[];
  post(path: string, body: string, headers?: HeadersInit): Promise<Response>;
}

/** Run `fn` with a fresh app and an in-memory log, resetting logtape after. */
async function withApp(
  fn: (h: Harness) => Promise<void>,
  deps: Partial<AppDeps> = {},
): Promise<void> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { mem: (record: LogRecord) => void records.push(record) },
    loggers: [
      { category: ["hookd"], sinks: ["mem"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
  try {
    const config = parseConfig(ENV);
    const endpoints = await buildEndpoints(config);
    const dispatcher = new FakeDispatcher();
    const app = createApp(config, {
      endpoints,
      accept: (d) => dispatcher.accept(d),
      now: () => NOW,
      ...deps,
    });
    const post = (path: string, body: string, headers: HeadersInit = {}) =>
      Promise.resolve(app.request(path, { method: "POST", body, headers }));
    await fn({ app, dispatcher, records, post });
  } finally {
    await reset();
  }
}

/** The request records logged so far. */
function requestRecords(records: LogRecord[]): Record<string, unknown>[] {
  return records
    .filter((r) => r.category.join(".") === "hookd.request")
    .map((r) => r.properties);
}

/** The one request record logged, checked to hold no secret, signature or body text. */
function onlyRecord(records: LogRecord[], forbidden: string[] = []): Record<string, unknown> {
  const all = requestRecords(records);
  assert.equal(all.length, 1, `expected one request record, got ${JSON.stringify(all)}`);
  const text = JSON.stringify(records.map((r) => ({ ...r, message: r.message })));
  for (const secret of [GITHUB_SECRET, SLACK_SECRET, SYNC_SECRET, ...forbidden]) {
    assert.ok(!text.includes(secret), `the log holds ${secret}: ${text}`);
  }
  return all[0];
}

const PUSH = JSON.stringify({ ref: "refs/heads/main", marker: "body-marker-c4f2" });

Deno.test("createApp() routes only POST /hooks/<known endpoint>", async (t) => {
  await t.step("an unknown endpoint: 404", () =>
    withApp(async ({ post, dispatcher, records }) => {
      const response = await post("/hooks/nope", PUSH, githubHeaders(PUSH, "push"));
      assert.equal(response.status, 404);
      assert.deepEqual(await response.json(), { error: "Unknown endpoint" });
      assert.equal(dispatcher.deliveries.length, 0);
      const record = onlyRecord(records);
      assert.equal(record.status, 404);
      assert.equal(record.outcome, "rejected.not_found");
    }));

  await t.step("an unknown path: 404", () =>
    withApp(async ({ app, records }) => {
      for (const path of ["/", "/hooks", "/hooks/github/extra", "/github"]) {
        const response = await app.request(path, { method: "POST", body: PUSH });
        assert.equal(response.status, 404, path);
        await response.body?.cancel();
      }
      const all = requestRecords(records);
      assert.equal(all.length, 4);
      for (const record of all) assert.equal(record.outcome, "rejected.not_found");
    }));

  await t.step(
    "a method other than POST: 405 with Allow: POST",
    () =>
      withApp(async ({ app, dispatcher, records }) => {
        for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
          const response = await app.request("/hooks/github", { method });
          assert.equal(response.status, 405, method);
          assert.equal(response.headers.get("allow"), "POST");
          await response.body?.cancel();
        }
        assert.equal(dispatcher.deliveries.length, 0);
        const all = requestRecords(records);
        assert.equal(all.length, 4);
        for (const record of all) {
          assert.equal(record.outcome, "rejected.method");
          assert.equal(record.endpoint, "github");
        }
      }),
  );

  await t.step(
    "a method other than POST on an unknown endpoint: 404",
    () =>
      withApp(async ({ app }) => {
        const response = await app.request("/hooks/nope", { method: "GET" });
        assert.equal(response.status, 404);
        await response.body?.cancel();
      }),
  );
});

Deno.test("createApp() refuses a bad signature with 401 and hands nothing over", async (t) => {
  const cases: [string, Record<string, string>][] = [
    [
      "missing signature",
      (() => {
        const h = githubHeaders(PUSH, "push");
        delete h["X-Hub-Signature-256"];
        return h;
      })(),
    ],
    [
      "signature made with the wrong secret",
      githubHeaders(PUSH, "push", { secret: "not-the-secret" }),
    ],
    ["signature of another body", githubHeaders(PUSH.replace("main", "evil"), "push")],
    ["malformed signature", { ...githubHeaders(PUSH, "push"), "X-Hub-Signature-256": "sha256=zz" }],
  ];
  for (const [name, headers] of cases) {
    await t.step(`a ${name}: 401`, () =>
      withApp(async ({ post, dispatcher, records }) => {
        const response = await post("/hooks/github", PUSH, headers);
        assert.equal(response.status, 401);
        const { error } = await response.json();
        assert.equal(typeof error, "string");
        assert.ok(error.length > 0 && error.length < 100, "a short reason");
        assert.ok(!error.includes(hmacHex("sha256", GITHUB_SECRET, PUSH)));
        assert.equal(dispatcher.deliveries.length, 0, "accept was never called");
        const record = onlyRecord(records, [
          hmacHex("sha256", GITHUB_SECRET, PUSH),
          "body-marker-c4f2",
        ]);
        assert.equal(record.status, 401);
        assert.equal(record.outcome, "rejected.signature");
        assert.equal(record.endpoint, "github");
      }));
  }
});

Deno.test("createApp() accepts a signed GitHub push with 202", () =>
  withApp(async ({ app, dispatcher, records }) => {
    const headers = githubHeaders(PUSH, "push");
    const response = await app.request(
      "/hooks/github",
      { method: "POST", body: PUSH, headers },
      { remoteAddr: { transport: "tcp", hostname: "203.0.113.7", port: 40000 } },
    );
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), {
      id: "d1",
      endpoint: "github",
      event: "push",
      hook: "HOOKD_GITHUB_HOOK_PUSH",
    });
    assert.equal(dispatcher.deliveries.length, 1);
    const delivery = dispatcher.deliveries[0];
    assert.equal(delivery.endpoint, "github");
    assert.equal(delivery.event, "push");
    assert.equal(delivery.sourceId, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert.equal(delivery.hook, "./deploy.sh");
    assert.equal(decoder.decode(delivery.body), PUSH);
    assert.equal(delivery.contentType, "application/json");
    assert.equal(delivery.receivedAt, NOW);
    assert.equal(delivery.timeoutMs, 60_000);
    assert.equal(delivery.verifiedBy, "secret");
    assert.equal(delivery.headers["x-github-event"], "push");
    assert.equal(delivery.headers["x-hub-signature-256"], "[redacted]");
    const record = onlyRecord(records, [
      headers["X-Hub-Signature-256"].slice(7),
      "body-marker-c4f2",
    ]);
    assert.equal(record.status, 202);
    assert.equal(record.outcome, "accepted");
    assert.equal(record.endpoint, "github");
    assert.equal(record.event, "push");
    assert.equal(record.id, "d1");
    assert.equal(record.hook, "HOOKD_GITHUB_HOOK_PUSH");
    assert.equal(record.bytes, encoder.encode(PUSH).byteLength);
    assert.equal(record.remote, "203.0.113.7");
    assert.equal(record.sourceId, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert.equal(typeof record.durationMs, "number");
  }));

Deno.test("createApp() picks the hook from the event and its action", () =>
  withApp(async ({ post, dispatcher }) => {
    const body = JSON.stringify({ action: "opened", number: 1 });
    const response = await post("/hooks/github", body, githubHeaders(body, "pull_request"));
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), {
      id: "d1",
      endpoint: "github",
      event: "pull_request.opened",
      hook: "HOOKD_GITHUB_HOOK_PULL_REQUEST",
    });
    assert.equal(dispatcher.deliveries[0].hook, "./pr.sh");
  }));

Deno.test("createApp() refuses an event name with a control character: 400", async (t) => {
  for (const char of ["\u0000", "\u0009", "\u001f", "\u007f", "\u0085", "\u009f"]) {
    const code = `U+${char.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`;
    await t.step(
      `a GitHub action holding ${code}`,
      () =>
        withApp(async ({ post, dispatcher, records }) => {
          const body = JSON.stringify({ action: `a${char}b`, number: 1 });
          const response = await post("/hooks/github", body, githubHeaders(body, "pull_request"));
          assert.equal(response.status, 400);
          assert.deepEqual(await response.json(), { error: "Event name has control characters" });
          assert.equal(dispatcher.deliveries.length, 0);
          const record = onlyRecord(records);
          assert.equal(record.outcome, "rejected.malformed");
          assert.equal(record.reason, "Event name has control characters");
          assert.equal(record.status, 400);
        }),
    );
  }
});

Deno.test("createApp() refuses an event name too long to look up: 400", async (t) => {
  const cases = {
    "201 characters": `push.${"a".repeat(196)}`,
    "9 segments": "a.b.c.d.e.f.g.h.i",
    "3,001 characters of dots": "a.".repeat(1500) + "a",
  };
  for (const [name, action] of Object.entries(cases)) {
    await t.step(name, () =>
      withApp(async ({ post, dispatcher, records }) => {
        const body = JSON.stringify({ action, number: 1 });
        // GitHub names the event `<header>.<action>`: the action makes the name long.
        const response = await post("/hooks/github", body, githubHeaders(body, "x"));
        assert.equal(response.status, 400);
        assert.deepEqual(await response.json(), { error: "Event name too long" });
        assert.equal(dispatcher.deliveries.length, 0);
        const record = onlyRecord(records);
        assert.equal(record.outcome, "rejected.malformed");
        assert.ok(String(record.event).length <= 200);
      }));
  }
  await t.step(
    "200 characters in 8 segments is still a name",
    () =>
      withApp(async ({ post, dispatcher }) => {
        const action = `${"b".repeat(186)}.c.d.e.f.g.h`;
        assert.equal(`x.${action}`.length, 200);
        const body = JSON.stringify({ action, number: 1 });
        const response = await post("/hooks/github", body, githubHeaders(body, "x"));
        assert.equal(response.status, 202);
        assert.equal(dispatcher.deliveries[0].event, `x.${action}`);
      }),
  );
});

Deno.test("createApp() accepts an event without a hook as ignored", () =>
  withApp(async ({ post, dispatcher, records }) => {
    const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const response = await post("/hooks/github", body, githubHeaders(body, "ping"));
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), {
      id: "d1",
      endpoint: "github",
      event: "ping",
      hook: null,
    });
    assert.equal(dispatcher.deliveries.length, 1, "still stored, so the sender does not retry");
    assert.equal(dispatcher.deliveries[0].hook, null);
    const record = onlyRecord(records);
    assert.equal(record.outcome, "ignored");
    assert.equal(record.hook, null);
    assert.equal(record.status, 202);
  }));

Deno.test("createApp() hands the hook the JSON of a form-encoded GitHub delivery", () =>
  withApp(async ({ post, dispatcher }) => {
    const json = JSON.stringify({ ref: "refs/heads/main", note: "a&b=c d+é" });
    const form = `payload=${encodeURIComponent(json)}`;
    const response = await post(
      "/hooks/github",
      form,
      githubHeaders(form, "push", { contentType: "application/x-www-form-urlencoded" }),
    );
    assert.equal(response.status, 202);
    assert.equal((await response.json()).event, "push");
    const delivery = dispatcher.deliveries[0];
    assert.equal(decoder.decode(delivery.body), json);
    assert.equal(delivery.contentType, "application/json");
  }));

Deno.test("createApp() answers 400 to invalid JSON under a valid signature", () =>
  withApp(async ({ post, dispatcher, records }) => {
    const body = '{"ref": "refs/heads/main"';
    const response = await post("/hooks/github", body, githubHeaders(body, "push"));
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /JSON/);
    assert.equal(dispatcher.deliveries.length, 0);
    const record = onlyRecord(records, ["refs/heads/main"]);
    assert.equal(record.outcome, "rejected.malformed");
    assert.equal(record.status, 400);
  }));

Deno.test("createApp() answers a provider's reply without handing anything over", () =>
  withApp(async ({ post, dispatcher, records }) => {
    const body = JSON.stringify({
      token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      type: "url_verification",
    });
    const timestamp = String(Math.floor(NOW / 1000));
    const signature = `v0=${
      createHmac("sha256", SLACK_SECRET).update(`v0:${timestamp}:${body}`).digest("hex")
    }`;
    const response = await post("/hooks/slack", body, {
      "Content-Type": "application/json",
      "X-Slack-Request-Timestamp": timestamp,
      "X-Slack-Signature": signature,
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    });
    assert.equal(dispatcher.deliveries.length, 0);
    const record = onlyRecord(records, [signature.slice(3), "Jhj5dZrVaK7ZwHHjRyZWjbDl"]);
    assert.equal(record.outcome, "answered");
    assert.equal(record.event, "url_verification");
  }));

Deno.test("createApp() answers 413 to a declared body over the limit", () =>
  withApp(async ({ post, dispatcher, records }) => {
    const body = "x".repeat(MAX_BODY + 1);
    const response = await post("/hooks/github", body, {
      ...githubHeaders(body, "push"),
      "Content-Length": String(MAX_BODY + 1),
    });
    assert.equal(response.status, 413);
    await response.body?.cancel();
    assert.equal(dispatcher.deliveries.length, 0);
    const record = onlyRecord(records);
    assert.equal(record.outcome, "rejected.too_large");
    assert.equal(record.endpoint, "github");
  }));

Deno.test("createApp() maps the dispatcher's refusals", async (t) => {
  for (
    const [status, outcome] of [
      [429, "rejected.queue_full"],
      [503, "rejected.store_unavailable"],
    ] as const
  ) {
    await t.step(
      `HttpError ${status}: ${status} with Retry-After`,
      () =>
        withApp(async ({ post, dispatcher, records }) => {
          dispatcher.next = () =>
            Promise.reject(
              new HttpError(status, "Retry later", { headers: { "Retry-After": "7" }, outcome }),
            );
          const response = await post("/hooks/github", PUSH, githubHeaders(PUSH, "push"));
          assert.equal(response.status, status);
          assert.equal(response.headers.get("retry-after"), "7");
          assert.deepEqual(await response.json(), { error: "Retry later" });
          const record = onlyRecord(records, ["body-marker-c4f2"]);
          assert.equal(record.status, status);
          assert.equal(record.outcome, outcome);
        }),
    );
  }

  await t.step(
    "a plain Error (our own fault): 500, its message kept out of the answer",
    () =>
      withApp(async ({ post, dispatcher, records }) => {
        dispatcher.next = () => Promise.reject(new Error("disk on fire at /var/lib/hookd"));
        const response = await post("/hooks/github", PUSH, githubHeaders(PUSH, "push"));
        assert.equal(response.status, 500);
        const text = await response.text();
        assert.ok(!text.includes("disk on fire"), text);
        const record = onlyRecord(records);
        assert.equal(record.status, 500);
        assert.equal(record.outcome, "error");
        assert.equal(records.find((r) => r.category.join(".") === "hookd.request")?.level, "error");
      }),
  );

  await t.step(
    "a duplicate delivery: 200 with duplicate true",
    () =>
      withApp(async ({ post, dispatcher, records }) => {
        dispatcher.next = () => Promise.resolve({ id: "first-id", duplicate: true });
        const response = await post("/hooks/github", PUSH, githubHeaders(PUSH, "push"));
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), {
          id: "first-id",
          endpoint: "github",
          event: "push",
          hook: "HOOKD_GITHUB_HOOK_PUSH",
          duplicate: true,
        });
        const record = onlyRecord(records);
        assert.equal(record.outcome, "duplicate");
        assert.equal(record.id, "first-id");
      }),
  );
});

Deno.test("createApp() answers a duplicate with the stored event, not the resent header", async () => {
  await withApp(async ({ post, dispatcher }) => {
    // Stored first as a push; the same signed body comes again labelled `release`.
    dispatcher.next = () => Promise.resolve({ id: "first-id", duplicate: true, event: "push" });
    const response = await post("/hooks/github", PUSH, githubHeaders(PUSH, "release"));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      id: "first-id",
      endpoint: "github",
      event: "push",
      hook: "HOOKD_GITHUB_HOOK_PUSH",
      duplicate: true,
    });
  });
});

Deno.test("createApp() waits for the hook when the endpoint sets _RESPOND=output", async (t) => {
  const run = (success: boolean): HookOutput => ({
    exitCode: success ? 0 : 3,
    success,
    timedOut: false,
    stdout: success ? "built" : "",
    stderr: success ? "" : "compile error",
  });
  const syncHeaders = (body: string) => githubHeaders(body, "push", { secret: SYNC_SECRET });

  for (const success of [true, false]) {
    await t.step(`a hook that ${success ? "succeeds: 200" : "fails: 502"}`, async () => {
      const waited: { id: string; aborted: boolean }[] = [];
      await withApp(async ({ post, records }) => {
        const response = await post("/hooks/sync", PUSH, syncHeaders(PUSH));
        assert.equal(response.status, success ? 200 : 502);
        assert.deepEqual(await response.json(), {
          id: "d1",
          endpoint: "sync",
          event: "push",
          hook: "HOOKD_SYNC_HOOK_PUSH",
          ...run(success),
        });
        assert.deepEqual(waited, [{ id: "d1", aborted: false }]);
        const record = onlyRecord(records);
        assert.equal(record.outcome, success ? "hook.succeeded" : "hook.failed");
      }, {
        waitForRun(id, signal) {
          // Recorded, not asserted here: the app catches what waitForRun throws.
          waited.push({ id, aborted: signal.aborted });
          return Promise.resolve(run(success));
        },
      });
    });
  }

  await t.step("a wait that gives up: 202 pending", () =>
    withApp(async ({ post, records }) => {
      const response = await post("/hooks/sync", PUSH, syncHeaders(PUSH));
      assert.equal(response.status, 202);
      assert.equal((await response.json()).pending, true);
      assert.equal(onlyRecord(records).outcome, "accepted.pending");
    }, { waitForRun: () => Promise.reject(new Error("aborted")) }));

  await t.step("an endpoint without _RESPOND=output never waits", async () => {
    // Recorded, then asserted after the request: an assertion thrown inside
    // waitForRun would be caught by the app and turned into a 202 pending.
    const waited: string[] = [];
    await withApp(async ({ post, records }) => {
      const response = await post("/hooks/github", PUSH, githubHeaders(PUSH, "push"));
      assert.equal(response.status, 202);
      assert.equal((await response.json()).pending, undefined);
      assert.equal(onlyRecord(records).outcome, "accepted");
    }, {
      waitForRun(id) {
        waited.push(id);
        return Promise.reject(new Error("waitForRun called for a 202 endpoint"));
      },
    });
    assert.deepEqual(waited, [], "waitForRun was called for an endpoint that does not wait");
  });
});
