/**
 * Tests for `GET /deliveries/:id/output` on the admin app: the token rule
 * off loopback, keep-alive comments, and a finished delivery's excerpt.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createAdminApp } from "../../lib/http/admin_app.ts";
import { createMetrics } from "../../lib/metrics.ts";
import { LiveOutput } from "../../lib/dispatch/live_output.ts";
import { openStore } from "../../lib/store/mod.ts";
import { endLine, type OutputSource, parseEventId } from "../../lib/http/output_stream.ts";
import { delivery, seed } from "./_fixtures.ts";

const TOKEN = "admin-token-0123456789abcdef";

async function setup(loopback: boolean, keepAliveMs = 15_000) {
  const store = openStore(":memory:");
  const hub = new LiveOutput();
  const output: OutputSource = {
    store,
    live: (id) => hub.watch(id),
    started: (id, signal) => hub.started(id, signal),
    finished: (id, signal) => hub.finished(id, signal),
    keepAliveMs,
  };
  const app = createAdminApp({
    health: () => ({ storeWritable: true, listening: true }),
    metrics: createMetrics(),
    access: { loopback, token: () => TOKEN },
    output,
  });
  // Queued: not run yet.
  const id = await seed(store, delivery(), null);
  return { store, hub, app, id };
}

Deno.test("off loopback the output stream needs the admin token", async () => {
  const { store, app, id } = await setup(false);
  try {
    const without = await app.request(`/deliveries/${id}/output`);
    assert.equal(without.status, 401);
    await without.body?.cancel();
    const wrong = await app.request(`/deliveries/${id}/output`, {
      headers: { Authorization: `Bearer ${TOKEN}x` },
    });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const stop = new AbortController();
    const right = await app.request(`/deliveries/${id}/output`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
      signal: stop.signal,
    });
    assert.equal(right.status, 200);
    await right.body?.cancel();
  } finally {
    await store.close();
  }
});

Deno.test("a waiting stream sends keep-alive comments and starts when the run does", async () => {
  const { store, hub, app, id } = await setup(true, 20);
  try {
    const res = await app.request(`/deliveries/${id}/output`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let got = "";
    const more = async () => {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended: ${got}`);
      got += value;
    };
    while (!got.includes(": keep-alive\n\n")) await more();
    hub.begin(id, 1);
    hub.write(id, "stdout", new TextEncoder().encode("hello\r\nworld"));
    while (!got.includes("world")) await more();
    assert.match(got, /id: 1-12-0-0\nevent: stdout\ndata: hello\ndata: world\n\n/);
    await reader.cancel();
    assert.equal(hub.size, 1, "only the run itself is held once the watcher has gone");
  } finally {
    await store.close();
  }
});

Deno.test("a finished delivery's stream is its stored excerpt and end at once", async () => {
  const { store, app } = await setup(true);
  try {
    const id = await seed(store, delivery());
    const text = await (await app.request(`/deliveries/${id}/output`)).text();
    assert.match(text, /event: stdout\ndata: deployed\n/);
    assert.match(text, /id: 1-end\nevent: end\ndata: \{"outcome":"succeeded","exitCode":0/);
  } finally {
    await store.close();
  }
});

Deno.test("parseEventId and endLine", () => {
  assert.deepEqual(parseEventId("1-0-0-2"), { attempt: 1, stdout: 0, stderr: 0, truncated: 2 });
  assert.equal(parseEventId("1-0-0-4"), undefined);
  const end = {
    outcome: "timed_out",
    exitCode: null,
    signal: "SIGTERM",
    timedOut: true,
    durationMs: 1,
    state: "failed",
  };
  assert.equal(endLine(end), "hookd: timed out, ended by SIGTERM");
  assert.equal(endLine({ ...end, outcome: "failed", timedOut: false }), "hookd: killed by SIGTERM");
  assert.equal(
    endLine({
      ...end,
      outcome: "failed",
      timedOut: false,
      signal: null,
      exitCode: 1,
      state: "queued",
    }),
    "hookd: exit 1 (a retry is due)",
  );
});
