import assert from "node:assert/strict";
import { createAdminApp, type HealthReport, probeWritable } from "../../lib/http/admin_app.ts";
import { createMetrics } from "../../lib/metrics.ts";
import { tempDir } from "../harness.ts";
import { parseExposition, valueOf } from "../_prometheus.ts";

function appWith(health: () => HealthReport | Promise<HealthReport>) {
  const metrics = createMetrics();
  return { app: createAdminApp({ health, metrics }), metrics };
}

Deno.test("GET /healthz answers 200 ok when the store and the listener are fine", async () => {
  const { app } = appWith(() => ({ storeWritable: true, listening: true }));
  const res = await app.request("/healthz");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(await res.json(), { status: "ok", store: true, listener: true });
});

Deno.test("GET /healthz answers 503 with a JSON reason otherwise", async (t) => {
  await t.step("store not writable, reason given by the daemon", async () => {
    const { app } = appWith(() => ({
      storeWritable: false,
      listening: true,
      reason: "The state directory /var/lib/hookd is not writable: read-only file system",
    }));
    const res = await app.request("/healthz");
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      status: "unavailable",
      reason: "The state directory /var/lib/hookd is not writable: read-only file system",
      store: false,
      listener: true,
    });
  });

  await t.step("listener down, reason made up from the checks", async () => {
    const { app } = appWith(() => ({ storeWritable: true, listening: false }));
    const res = await app.request("/healthz");
    assert.equal(res.status, 503);
    assert.equal((await res.json()).reason, "the public listener is not up");
  });

  await t.step("both down", async () => {
    const { app } = appWith(() => ({ storeWritable: false, listening: false }));
    const body = await (await app.request("/healthz")).json();
    assert.equal(body.reason, "the store is not writable; the public listener is not up");
  });

  await t.step("a throwing probe is unhealthy, not a 500", async () => {
    const { app } = appWith(() => Promise.reject(new Error("database is locked")));
    const res = await app.request("/healthz");
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      status: "unavailable",
      reason: "Health check failed: database is locked",
    });
  });
});

Deno.test("GET /metrics serves the Prometheus text with its content type", async () => {
  const { app, metrics } = appWith(() => ({ storeWritable: true, listening: true }));
  metrics.observeRequest({ endpoint: "github", outcome: "accepted", bytes: 3 });
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), metrics.contentType);
  const parsed = parseExposition(await res.text());
  assert.equal(
    valueOf(parsed, "hookd_requests_total", { endpoint: "github", outcome: "accepted" }),
    1,
  );
});

Deno.test("the admin app refuses other methods and paths", async (t) => {
  const { app } = appWith(() => ({ storeWritable: true, listening: true }));
  await t.step("POST /metrics is 405 with Allow", async () => {
    const res = await app.request("/metrics", { method: "POST" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    await res.body?.cancel();
  });
  await t.step("HEAD /healthz is allowed", async () => {
    const res = await app.request("/healthz", { method: "HEAD" });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
  await t.step("an unknown path is 404", async () => {
    const res = await app.request("/hooks/github");
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});

Deno.test("probeWritable() tells a writable directory from a missing one", async (t) => {
  await using dir = await tempDir();
  await t.step("writable, and leaves nothing behind", async () => {
    assert.equal(await probeWritable(dir.path), undefined);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir.path)), []);
  });
  await t.step("a removed directory is not writable, and says so", async () => {
    const gone = `${dir.path}/state`;
    const problem = await probeWritable(gone);
    assert.ok(problem);
    assert.match(problem, new RegExp(`^The state directory ${gone} is not writable: `));
  });
  await t.step("a file in place of the directory is not writable", async () => {
    const file = `${dir.path}/file`;
    await Deno.writeTextFile(file, "");
    assert.ok(await probeWritable(file));
  });
});
