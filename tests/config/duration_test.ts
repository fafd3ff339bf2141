/**
 * Tests for durations as the env file writes them.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { formatDuration, parseDuration } from "../../lib/config/duration.ts";

Deno.test("parseDuration() reads a whole number and a unit", async (t) => {
  const cases: [string, number][] = [
    ["250ms", 250],
    ["300s", 300_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["7d", 604_800_000],
    ["0s", 0],
    [" 5m ", 300_000],
    ["007s", 7_000],
    ["104249991d", 104_249_991 * 86_400_000],
  ];
  for (const [text, ms] of cases) {
    await t.step(`"${text}" is ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }
});

Deno.test("parseDuration() refuses every other spelling", async (t) => {
  const bad = [
    "",
    "5",
    "s",
    "5 m",
    "5M",
    "5S",
    "1.5h",
    "-5s",
    "+5s",
    "5sec",
    "5min",
    "1h30m",
    "1e3s",
    "1_000s",
    "5w",
    "Infinitys",
    "1234567890s",
    "999999999d",
  ];
  for (const text of bad) {
    await t.step(`"${text}"`, () => {
      assert.throws(() => parseDuration(text), (error: unknown) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /^Invalid duration ".*": /);
        return true;
      });
    });
  }
});

Deno.test("formatDuration() writes the largest unit that divides exactly", async (t) => {
  const cases: [number, string][] = [
    [300_000, "5m"],
    [90_000, "90s"],
    [3_600_000, "1h"],
    [86_400_000, "1d"],
    [90 * 60_000, "90m"],
    [1_500, "1500ms"],
    [1, "1ms"],
    [0, "0ms"],
  ];
  for (const [ms, text] of cases) {
    await t.step(`${ms} ms is "${text}"`, () => assert.equal(formatDuration(ms), text));
  }
});

Deno.test("formatDuration() output parses back to the same duration", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 999_999_999 }),
      fc.constantFrom(1, 1_000, 60_000, 3_600_000, 86_400_000),
      (n, unit) => {
        const ms = n * unit;
        fc.pre(Number.isSafeInteger(ms));
        assert.equal(parseDuration(formatDuration(ms)), ms);
      },
    ),
  );
});
