/**
 * Tests for the dispatcher's pure decisions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decideAfterRun, pickToRun, retryDelayMs } from "../../lib/dispatch/policy.ts";

Deno.test("retryDelayMs() doubles from the base, caps, and jitters between half and all", () => {
  const delay = (failures: number, random: number) =>
    retryDelayMs(failures, { baseMs: 1000, maxMs: 10_000, random });
  assert.equal(delay(1, 0), 500);
  assert.equal(delay(1, 0.999999), 1000);
  assert.equal(delay(2, 0), 1000);
  assert.equal(delay(3, 0.5), 3000);
  assert.equal(delay(10, 0), 5000, "capped at maxMs");
  assert.equal(delay(10, 0.999999), 10_000);
});

Deno.test("decideAfterRun() retries failures within the budget and requeues aborted runs", () => {
  const context = { failures: 0, retries: 1, now: 100, delayMs: 50 };
  const ok = { success: true, timedOut: false, aborted: false };
  const failed = { success: false, timedOut: false, aborted: false };
  assert.deepEqual(decideAfterRun(ok, context), { outcome: "succeeded", next: { state: "done" } });
  assert.deepEqual(decideAfterRun(failed, context), {
    outcome: "failed",
    next: { state: "queued", notBefore: 150, failed: true },
  });
  assert.deepEqual(decideAfterRun({ ...failed, timedOut: true }, { ...context, failures: 1 }), {
    outcome: "timed_out",
    next: { state: "failed" },
  });
  assert.deepEqual(decideAfterRun({ ...failed, aborted: true }, { ...context, failures: 1 }), {
    outcome: "aborted",
    next: { state: "queued", notBefore: 0, failed: false },
  });
});

Deno.test("pickToRun() fills free slots oldest first and holds a retry's place", () => {
  const ref = (id: string, seq: number, notBefore = 0) => ({ id, seq, notBefore });
  const plan = pickToRun([
    { concurrency: 1, running: 0, head: [ref("a1", 5, 900)] },
    { concurrency: 3, running: 1, head: [ref("b1", 2), ref("b2", 3, 700), ref("b3", 4)] },
    { concurrency: 2, running: 0, head: [ref("c1", 1), ref("c2", 6)] },
    { concurrency: 1, running: 1, head: [ref("d1", 0)] },
  ], { freeSlots: 2, now: 500 });
  assert.deepEqual(plan.start.map((r) => r.id), ["c1", "b1"]);
  assert.equal(plan.wakeAt, 700);
});
