/**
 * Tests for intake: headers stored without credentials, and a delivery
 * either committed to a real store or refused with a status the sender
 * retries (429 at the queue cap, 503 when the store cannot commit).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { HttpError } from "../../lib/http/http_error.ts";
import { createIntake, credentialHeaders, storedHeaders } from "../../lib/http/intake.ts";
import { openStore, type Store, type StoreOptions } from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import { requestLog, setupLog } from "../../lib/log/mod.ts";

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "hookd_intake_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A real store in a temp dir, closed and removed on dispose. */
async function tempStore(
  options: StoreOptions = {},
): Promise<{ store: Store; path: string } & AsyncDisposable> {
  const dir = await tempDir();
  const store = openStore(`${dir.path}/hookd.db`, options);
  return {
    store,
    path: store.path,
    async [Symbol.asyncDispose]() {
      await store.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** A queue that does nothing when nudged. */
function idleQueue(): { notify(): void } {
  return { notify() {} };
}

/**
 * A queue that, when nudged, reads which deliveries the store at `path` holds
 * queued, from a connection of its own, as the daemon's queue would.
 */
function lookingQueue(path: string): { notify(): void; found: string[][] } {
  const found: string[][] = [];
  return {
    found,
    notify() {
      using db = new DatabaseSync(path, { readOnly: true });
      const rows = db.prepare("SELECT id FROM deliveries WHERE state = 'queued'").all();
      found.push(rows.map((row) => String(row.id)));
    },
  };
}

/** The HttpError `promise` rejects with. */
async function httpRefusal(promise: Promise<unknown>): Promise<HttpError> {
  const error = await promise.then(() => null, (e) => e);
  assert.ok(error instanceof HttpError, `expected an HttpError, got ${error}`);
  return error;
}

Deno.test("storedHeaders() redacts credentials and signatures", async (t) => {
  await t.step("every sender's signature or token header", () => {
    const secretHeaders = [
      "X-Hub-Signature",
      "X-Hub-Signature-256",
      "X-Gitlab-Token",
      "X-Gitea-Signature",
      "X-Gogs-Signature",
      "Authorization",
      "Proxy-Authorization",
      "Cookie",
      "X-Slack-Signature",
      "Stripe-Signature",
      "Webhook-Signature",
      "X-Hook-Signature",
      "X-IPF-Signature",
      "X-Shopify-Hmac-Sha256",
      "X-Signature-Ed25519",
      "X-Twilio-Signature",
      "Linear-Signature",
      "Paddle-Signature",
      "X-PagerDuty-Signature",
      "X-Zm-Signature",
      "Typeform-Signature",
      "Calendly-Webhook-Signature",
      "Sentry-Hook-Signature",
      "X-Twilio-Email-Event-Webhook-Signature",
      "X-Api-Key",
      "X-Apikey",
      "X-Auth-Token",
      "X-Webhook-Secret",
      "X-Sig",
      "X-Password",
    ];
    const headers = new Headers(secretHeaders.map((name) => [name, `value-of-${name}`]));
    headers.set("X-GitHub-Event", "push");
    const kept = storedHeaders(headers);
    for (const name of secretHeaders) {
      assert.equal(kept[name.toLowerCase()], "[redacted]", name);
    }
    assert.equal(kept["x-github-event"], "push");
    assert.ok(!JSON.stringify(kept).includes("value-of-"));
  });

  await t.step("keeps what a replay needs", () => {
    const plain = {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/abc",
      "x-github-event": "push",
      "x-github-delivery": "72d3162e",
      "x-event-key": "repo:push",
      "x-gitlab-event": "Push Hook",
      "x-slack-request-timestamp": "1531420618",
      "webhook-id": "msg_1",
      "x-designer": "kept",
    };
    assert.deepEqual(storedHeaders(new Headers(plain)), plain);
  });

  await t.step("redacts the headers an endpoint names, whatever they are called", () => {
    const redact = credentialHeaders({ TOKEN_HEADER: "X-Deploy-Key", EVENT_HEADER: "X-Event" });
    assert.deepEqual(redact, ["X-Deploy-Key"]);
    const kept = storedHeaders(
      new Headers({ "x-deploy-key": "plain-secret", "x-event": "build" }),
      { redact },
    );
    assert.deepEqual(kept, { "x-deploy-key": "[redacted]", "x-event": "build" });
    assert.deepEqual(
      credentialHeaders({ SIGNATURE_HEADER: "X-Custom-Mac", ALGORITHM: "sha256" }),
      ["X-Custom-Mac"],
    );
    assert.deepEqual(credentialHeaders({}), []);
  });
});

Deno.test("storedHeaders() and the log judge a header name by one rule", async () => {
  // Names one of the two old rules redacted and the other kept, and names both keep.
  const names = [
    "X-Passphrase",
    "X-Deploy-Passphrase",
    "X-Authtoken",
    "X-Oauth-Token",
    "X-Client-Secret",
    "X-Private-Key",
    "X-Access-Key",
    "X-Hub-Signature-256",
    "Content-Type",
    "X-GitHub-Event",
    "X-Designer",
  ];
  const headers = new Headers(names.map((name) => [name, `value-of-${name}`]));
  const stored = storedHeaders(headers);
  await using dir = await Deno.makeTempDir({ prefix: "hookd_intake_log_" }).then((path) => ({
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  }));
  const file = `${dir.path}/hookd.jsonl`;
  {
    await using _log = await setupLog({ file, maxBytes: 1_000_000, maxFiles: 2, stderr: false });
    requestLog().info("request", { headers });
  }
  const logged = JSON.parse((await Deno.readTextFile(file)).trim()).headers;
  for (const name of names) {
    const key = name.toLowerCase();
    const inStore = stored[key] === "[redacted]";
    const inLog = logged[key] === "[REDACTED]";
    assert.equal(inStore, inLog, `${name}: store redacts ${inStore}, log redacts ${inLog}`);
  }
  assert.equal(stored["x-passphrase"], "[redacted]", "X-Passphrase: hunter2 is never stored");
  assert.equal(stored["x-designer"], "value-of-X-Designer");
  assert.equal(stored["content-type"], "value-of-Content-Type");
});

Deno.test("createIntake() answers a duplicate with the delivery stored first", async () => {
  await using temp = await tempStore();
  const accept = createIntake(temp.store, idleQueue(), { maxQueue: 100 });
  const first = await accept(delivery({ sourceId: "gh-7", event: "push" }));
  // The same signed delivery again under another (unsigned) event name.
  const again = await accept(delivery({ sourceId: "gh-7", event: "release" }));
  assert.equal(again.duplicate, true);
  assert.equal(again.id, first.id);
  const answer: Record<string, unknown> = { ...again };
  assert.equal(answer.event, "push");
  assert.equal(answer.state, "queued");
});

Deno.test("createIntake() checks its options when it is built", async (t) => {
  await using temp = await tempStore();
  for (const maxQueue of [0, -1, 1.5, Number.NaN]) {
    await t.step(`maxQueue ${maxQueue} throws`, () => {
      assert.throws(
        () => createIntake(temp.store, idleQueue(), { maxQueue }),
        RangeError,
      );
    });
  }
});

Deno.test("createIntake() stores a delivery before it is claimed accepted", async (t) => {
  await using temp = await tempStore();
  const { store } = temp;
  const queue = lookingQueue(temp.path);
  const accept = createIntake(store, queue, { maxQueue: 100 });

  await t.step("a delivery with a hook is queued, and the queue nudged finds it", async () => {
    const { id, duplicate } = await accept(delivery({ sourceId: "gh-1" }));
    assert.equal(duplicate, false);
    assert.deepEqual(queue.found, [[id]], "committed before the queue was told");
    const stored = await store.get(id);
    assert.ok(stored, "committed before accept resolved");
    assert.equal(stored.state, "queued");
    assert.equal(stored.endpoint, "deploy");
    assert.equal(stored.event, "push");
    assert.equal(stored.hook, "./deploy.sh");
    assert.equal(new TextDecoder().decode(stored.body), '{"ref":"main"}');
    assert.deepEqual(stored.headers, {
      "x-github-event": "push",
      "x-hub-signature-256": "[redacted]",
    });
  });

  await t.step(
    "the same source id again is a duplicate of the first, not queued again",
    async () => {
      const first = (await store.list({ limit: 1 }))[0];
      const { id, duplicate } = await accept(delivery({ sourceId: "gh-1" }));
      assert.equal(duplicate, true);
      assert.equal(id, first.id);
    },
  );

  await t.step("a delivery without a hook is stored as ignored", async () => {
    const { id, duplicate } = await accept(delivery({ event: "ping", hook: null }));
    assert.equal(duplicate, false);
    assert.equal((await store.get(id))?.state, "ignored");
  });
});

Deno.test("createIntake() answers 429 at the queue cap", async (t) => {
  await using temp = await tempStore();
  const { store } = temp;
  const queue = idleQueue();
  const accept = createIntake(store, queue, { maxQueue: 2 });

  await t.step("deliveries being committed count against the cap", async () => {
    const results = await Promise.allSettled([
      accept(delivery()),
      accept(delivery()),
      accept(delivery()),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "fulfilled", "rejected"]);
    const error = (results[2] as PromiseRejectedResult).reason;
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 429);
    assert.equal((await store.counts()).queued, 2, "the third was never stored");
  });

  await t.step("at the cap: 429 with Retry-After, nothing stored", async () => {
    const error = await httpRefusal(accept(delivery()));
    assert.equal(error.status, 429);
    assert.equal(error.outcome, "rejected.queue_full");
    assert.deepEqual(error.headers, { "Retry-After": "5" });
    assert.equal((await store.list()).length, 2);
  });

  await t.step("a delivery without a hook takes no place in the queue", async () => {
    const { duplicate } = await accept(delivery({ hook: null }));
    assert.equal(duplicate, false);
    assert.equal((await store.list()).length, 3);
  });
});

Deno.test("createIntake() answers 503 when the store cannot commit", async () => {
  await using temp = await tempStore({ busyTimeoutMs: 10 });
  const { store } = temp;
  const queue = idleQueue();
  const accept = createIntake(store, queue, { maxQueue: 100 });
  {
    using other = new DatabaseSync(temp.path);
    other.exec("BEGIN IMMEDIATE");
    const error = await httpRefusal(accept(delivery()));
    assert.equal(error.status, 503);
    assert.equal(error.outcome, "rejected.store_unavailable");
    assert.match(error.headers["Retry-After"], /^[1-9]\d*$/);
    assert.doesNotMatch(error.message, /locked|sqlite/i, "the client is not told our internals");
    assert.equal(error.cause instanceof Error, true, "the store's error is kept for the log");
    other.exec("ROLLBACK");
  }
  assert.equal((await store.list()).length, 0, "nothing was stored");
  const { duplicate } = await accept(delivery());
  assert.equal(duplicate, false, "the store works again once the lock is gone");
});

Deno.test("createIntake() passes on errors that are not the store's unavailability", async () => {
  await using temp = await tempStore();
  const accept = createIntake(temp.store, idleQueue(), { maxQueue: 10 });
  const error = await accept(delivery({ timeoutMs: -1 })).then(
    () => null,
    (e) => e,
  );
  assert.ok(error instanceof TypeError, `expected the store's TypeError, got ${error}`);
  assert.ok(!(error instanceof HttpError), "a bug of ours is not mapped to a client status");
});
