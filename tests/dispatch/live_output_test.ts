/**
 * Tests for the live output hub: one bounded buffer per run shared by its
 * watchers, woken by writes, and nothing left behind by a watcher that goes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LiveOutput } from "../../lib/dispatch/live_output.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const END = {
  outcome: "succeeded",
  exitCode: 0,
  signal: null,
  timedOut: false,
  durationMs: 5,
  state: "done",
};

Deno.test("LiveOutput keeps the first limitBytes per stream, like the stored excerpt", () => {
  const hub = new LiveOutput({ limitBytes: 5 });
  hub.begin("a", 1);
  const run = hub.watch("a")!;
  hub.write("a", "stdout", bytes("abc"));
  hub.write("a", "stdout", bytes("defgh"));
  const e = bytes("é");
  hub.write("a", "stderr", e.subarray(0, 1)); // half a character: not shown yet
  hub.write("a", "stdout", bytes("more"));
  const snap = run.snapshot();
  assert.equal(snap.stdout, "abcde");
  assert.equal(snap.stdoutTruncated, true);
  assert.equal(snap.stderr, "");
  hub.write("a", "stderr", e.subarray(1));
  hub.end("a", END);
  assert.equal(run.snapshot().stderr, "é");
  assert.equal(run.snapshot().stderrTruncated, false);
});

Deno.test("LiveOutput wakes every watcher at a write and at the end", async () => {
  const hub = new LiveOutput();
  hub.begin("a", 1);
  const run = hub.watch("a")!;
  const never = new AbortController();
  const woken = Promise.all([run.changed(never.signal), run.changed(never.signal)]);
  hub.write("a", "stdout", bytes("x"));
  await woken;
  const ending = run.changed(never.signal);
  hub.end("a", { ...END, outcome: "timed_out" });
  await ending;
  assert.deepEqual(run.snapshot().end, { ...END, outcome: "timed_out", timedOut: true });
  assert.equal(hub.watch("a"), undefined, "an ended run leaves the hub");
  assert.equal(hub.size, 0);
});

Deno.test("a watcher that goes away leaves nothing in the hub", async () => {
  let waits = 0;
  let stopped = 0;
  const hub = new LiveOutput({
    settled: (_id, signal) =>
      new Promise((resolve) => {
        waits++;
        signal.addEventListener("abort", () => {
          stopped++;
          resolve(undefined);
        });
      }),
  });
  const a = new AbortController();
  const b = new AbortController();
  const waiting = [
    hub.finished("q", a.signal),
    hub.finished("q", b.signal),
    hub.started("q", a.signal),
  ];
  assert.equal(waits, 1, "two watchers of one delivery share one wait");
  a.abort();
  assert.equal(stopped, 0, "the other watcher still waits");
  b.abort();
  await Promise.all(waiting);
  assert.equal(stopped, 1, "the last watcher gone stops the shared wait");
  assert.equal(hub.size, 0);
});

Deno.test("started() resolves when the run begins", async () => {
  const hub = new LiveOutput();
  const started = hub.started("a", new AbortController().signal);
  hub.begin("a", 2);
  await started;
  assert.equal(hub.watch("a")!.snapshot().attempt, 2);
});
