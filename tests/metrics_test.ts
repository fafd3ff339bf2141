import assert from "node:assert/strict";
import { createMetrics, createMinuteCounter, type RequestOutcome } from "../lib/metrics.ts";
import { parseExposition, valueOf } from "./_prometheus.ts";

Deno.test("createMetrics() renders every family as valid Prometheus text", async () => {
  const metrics = createMetrics();
  const parsed = parseExposition(await metrics.render());
  // hookd's own families; prom-client's process_* and nodejs_* are tested below.
  const own = [...parsed.types].filter(([name]) => name.startsWith("hookd_"));
  assert.deepEqual(Object.fromEntries(own), {
    hookd_requests_total: "counter",
    hookd_signature_failures_total: "counter",
    hookd_store_checkpoints_total: "counter",
    hookd_store_commits_total: "counter",
    hookd_store_inserts_total: "counter",
    hookd_body_bytes_total: "counter",
    hookd_hook_runs_total: "counter",
    hookd_hook_duration_seconds: "histogram",
    hookd_queue_depth: "gauge",
    hookd_oldest_queued_age_seconds: "gauge",
  });
  assert.equal(valueOf(parsed, "hookd_queue_depth"), 0);
  assert.equal(valueOf(parsed, "hookd_hook_duration_seconds_count"), 0);
  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
});

Deno.test("observeRequest() moves the request, signature and byte counters", async (t) => {
  const metrics = createMetrics();
  metrics.observeRequest({ endpoint: "github", outcome: "accepted", bytes: 100 });
  metrics.observeRequest({ endpoint: "github", outcome: "accepted", bytes: 50 });
  metrics.observeRequest({ endpoint: "github", outcome: "rejected.signature", bytes: 10 });
  metrics.observeRequest({ endpoint: "shop", outcome: "rejected.token" });
  metrics.observeRequest({ endpoint: "shop", outcome: "rejected.too_large" });
  metrics.observeRequest({ outcome: "rejected.not_found" });
  const parsed = parseExposition(await metrics.render());

  await t.step("requests by endpoint and outcome", () => {
    assert.equal(
      valueOf(parsed, "hookd_requests_total", { endpoint: "github", outcome: "accepted" }),
      2,
    );
    assert.equal(
      valueOf(parsed, "hookd_requests_total", {
        endpoint: "github",
        outcome: "rejected.signature",
      }),
      1,
    );
    assert.equal(
      valueOf(parsed, "hookd_requests_total", { endpoint: "", outcome: "rejected.not_found" }),
      1,
    );
  });

  await t.step("signature and token failures count as signature failures", () => {
    assert.equal(valueOf(parsed, "hookd_signature_failures_total", { endpoint: "github" }), 1);
    assert.equal(valueOf(parsed, "hookd_signature_failures_total", { endpoint: "shop" }), 1);
  });

  await t.step("body bytes add up per endpoint", () => {
    assert.equal(valueOf(parsed, "hookd_body_bytes_total", { endpoint: "github" }), 160);
    assert.equal(valueOf(parsed, "hookd_body_bytes_total", { endpoint: "shop" }), undefined);
  });
});

Deno.test("observeRequest() keeps outcome labels to hookd's vocabulary", async () => {
  const metrics = createMetrics();
  // Outside the type's vocabulary on purpose: the label must still be bounded at run time.
  metrics.observeRequest({ endpoint: "github", outcome: 'evil"}\n# injected' as RequestOutcome });
  const parsed = parseExposition(await metrics.render());
  assert.equal(
    valueOf(parsed, "hookd_requests_total", { endpoint: "github", outcome: "other" }),
    1,
  );
});

Deno.test("observeHookRun() counts runs and fills the duration histogram", async () => {
  const metrics = createMetrics();
  metrics.observeHookRun({ endpoint: "github", outcome: "succeeded", durationSeconds: 0.2 });
  metrics.observeHookRun({ endpoint: "github", outcome: "succeeded", durationSeconds: 4 });
  metrics.observeHookRun({ endpoint: "github", outcome: "timed_out", durationSeconds: 300 });
  const parsed = parseExposition(await metrics.render());
  assert.equal(
    valueOf(parsed, "hookd_hook_runs_total", { endpoint: "github", outcome: "succeeded" }),
    2,
  );
  assert.equal(
    valueOf(parsed, "hookd_hook_runs_total", { endpoint: "github", outcome: "timed_out" }),
    1,
  );
  assert.equal(valueOf(parsed, "hookd_hook_duration_seconds_count"), 3);
  assert.equal(valueOf(parsed, "hookd_hook_duration_seconds_sum"), 304.2);
  assert.equal(valueOf(parsed, "hookd_hook_duration_seconds_bucket", { le: "0.25" }), 1);
  assert.equal(valueOf(parsed, "hookd_hook_duration_seconds_bucket", { le: "5" }), 2);
  assert.equal(valueOf(parsed, "hookd_hook_duration_seconds_bucket", { le: "300" }), 3);
  assert.equal(valueOf(parsed, "hookd_hook_duration_seconds_bucket", { le: "+Inf" }), 3);
});

Deno.test("queue gauges follow the queue option at each scrape", async () => {
  let depth = 1;
  const metrics = createMetrics({ queue: () => ({ depth, oldestAgeSeconds: depth * 2 }) });
  assert.equal(valueOf(parseExposition(await metrics.render()), "hookd_queue_depth"), 1);
  depth = 4;
  const parsed = parseExposition(await metrics.render());
  assert.equal(valueOf(parsed, "hookd_queue_depth"), 4);
  assert.equal(valueOf(parsed, "hookd_oldest_queued_age_seconds"), 8);
});

Deno.test("store counters follow the store option at each scrape and never go down", async () => {
  let stats = { insertTransactions: 2, inserted: 10, checkpoints: 1 };
  const metrics = createMetrics({ store: () => stats });
  let parsed = parseExposition(await metrics.render());
  assert.equal(valueOf(parsed, "hookd_store_commits_total"), 2);
  assert.equal(valueOf(parsed, "hookd_store_inserts_total"), 10);
  assert.equal(valueOf(parsed, "hookd_store_checkpoints_total"), 1);
  stats = { insertTransactions: 3, inserted: 30, checkpoints: 1 };
  parsed = parseExposition(await metrics.render());
  assert.equal(valueOf(parsed, "hookd_store_inserts_total"), 30);
  // A reload's new store starts from zero: the counter keeps its total and counts on from there.
  stats = { insertTransactions: 1, inserted: 5, checkpoints: 0 };
  parsed = parseExposition(await metrics.render());
  assert.equal(valueOf(parsed, "hookd_store_inserts_total"), 30);
  stats = { insertTransactions: 2, inserted: 8, checkpoints: 0 };
  parsed = parseExposition(await metrics.render());
  assert.equal(valueOf(parsed, "hookd_store_inserts_total"), 33);
});

Deno.test("createMetrics() instances do not share counters", async () => {
  const first = createMetrics();
  const second = createMetrics();
  first.observeRequest({ endpoint: "github", outcome: "accepted" });
  const parsed = parseExposition(await second.render());
  assert.equal(
    valueOf(parsed, "hookd_requests_total", { endpoint: "github", outcome: "accepted" }),
    undefined,
  );
});

Deno.test("parseExposition() in this test rejects malformed text", () => {
  assert.throws(() => parseExposition("hookd_x 1\n"), /sample before its TYPE/);
  assert.throws(() => parseExposition("# TYPE a counter\na{b=c} 1\n"), /bad label set/);
  assert.throws(() => parseExposition("# TYPE a counter\na one\n"), /bad value/);
});

Deno.test("createMetrics() exports the process metrics under prom-client's default names", async () => {
  const parsed = parseExposition(await createMetrics().render());
  assert.equal(parsed.types.get("process_cpu_user_seconds_total"), "counter");
  assert.equal(parsed.types.get("process_start_time_seconds"), "gauge");
  assert.ok((valueOf(parsed, "process_cpu_seconds_total") ?? 0) > 0);
  const started = valueOf(parsed, "process_start_time_seconds") ?? 0;
  assert.ok(Math.abs(started - Date.now() / 1000) < 24 * 3600, `started at ${started}`);
  assert.ok((valueOf(parsed, "process_resident_memory_bytes") ?? 0) > 1_000_000);
  assert.ok((valueOf(parsed, "nodejs_heap_size_used_bytes") ?? 0) > 0);
  // Left out on purpose: the event-loop monitor's memory under bursts, and /proc readings.
  for (const absent of ["nodejs_eventloop_lag_seconds", "process_open_fds"]) {
    assert.equal(parsed.types.get(absent), undefined, absent);
  }
});

Deno.test("createMinuteCounter() counts per minute and forgets what is older than its ring", () => {
  let now = 10 * 60_000;
  const counter = createMinuteCounter({ minutes: 3, now: () => now });
  counter.add();
  counter.add(now + 59_999);
  now += 60_000;
  counter.add();
  assert.deepEqual(counter.perMinute(9 * 60_000, 12 * 60_000), [0, 2, 1]);
  // Three minutes later the slot of minute 10 is reused for minute 13.
  counter.add(13 * 60_000);
  assert.deepEqual(counter.perMinute(10 * 60_000, 14 * 60_000), [0, 1, 0, 1]);
});
