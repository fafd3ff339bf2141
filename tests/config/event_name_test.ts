/**
 * Tests for the event name limits: the length and segment bounds at their
 * edges, and every control character refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  eventNameProblem,
  MAX_EVENT_NAME_LENGTH,
  MAX_EVENT_NAME_SEGMENTS,
} from "../../lib/config/event_name.ts";

Deno.test("eventNameProblem() accepts the names senders use", () => {
  for (
    const event of [
      "push",
      "pull_request.opened",
      "snapshot.discover.completed",
      "repo:push",
      "invoice.payment_failed",
      "Straße.geöffnet",
      "",
    ]
  ) {
    assert.equal(eventNameProblem(event), undefined, event);
  }
});

Deno.test("eventNameProblem() refuses a name past 200 characters or 8 segments", async (t) => {
  await t.step("200 characters pass, 201 do not", () => {
    assert.equal(eventNameProblem("a".repeat(MAX_EVENT_NAME_LENGTH)), undefined);
    assert.equal(eventNameProblem("a".repeat(MAX_EVENT_NAME_LENGTH + 1)), "event name too long");
  });

  await t.step("8 segments pass, 9 do not, empty ones count", () => {
    const segments = (n: number) => Array.from({ length: n }, () => "s").join(".");
    assert.equal(eventNameProblem(segments(MAX_EVENT_NAME_SEGMENTS)), undefined);
    assert.equal(eventNameProblem(segments(MAX_EVENT_NAME_SEGMENTS + 1)), "event name too long");
    assert.equal(eventNameProblem("........"), "event name too long");
  });

  await t.step("a long name is refused as too long even with control characters", () => {
    assert.equal(eventNameProblem("\u0000".repeat(300)), "event name too long");
  });
});

Deno.test("eventNameProblem() refuses every C0, DEL and C1 control character", () => {
  const controls = [];
  for (let code = 0; code <= 0x1f; code++) controls.push(code);
  for (let code = 0x7f; code <= 0x9f; code++) controls.push(code);
  for (const code of controls) {
    assert.equal(
      eventNameProblem(`push.a${String.fromCharCode(code)}b`),
      "event name has control characters",
      `U+${code.toString(16)}`,
    );
  }
  // The neighbours are not controls.
  for (const char of [" ", "~", "\u00a0", "\u2028"]) {
    assert.equal(eventNameProblem(`push.a${char}b`), undefined, JSON.stringify(char));
  }
});
