/**
 * Tests for the in-memory per-minute counter (duplicates for the chart).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createMinuteCounter } from "../../lib/http/minute_counter.ts";

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
