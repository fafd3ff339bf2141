/**
 * Tests for formatting a record: the file's JSON line (reserved fields,
 * values JSON cannot hold) and the short human line for stderr.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { formatLogLine, formatStderrLine } from "../../lib/log/_format.ts";

function record(
  category: string[],
  level: LogRecord["level"],
  message: unknown[],
  properties: Record<string, unknown>,
): LogRecord {
  return {
    category,
    level,
    message,
    rawMessage: String(message[0]),
    timestamp: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
    properties,
  };
}

Deno.test("formatLogLine() keeps properties from overwriting the record's own fields", () => {
  const line = formatLogLine(
    record(["hookd", "request"], "info", ["request"], {
      time: "forged",
      level: "fatal",
      type: "x",
      message: "forged",
      count: 10n,
      when: new Date(0),
      err: new Error("boom"),
    }),
  );
  assert.deepEqual(JSON.parse(line), {
    time: "2024-01-02T03:04:05.006Z",
    level: "info",
    type: "request",
    message: "request",
    _time: "forged",
    _level: "fatal",
    _type: "x",
    _message: "forged",
    count: "10",
    when: "1970-01-01T00:00:00.000Z",
    err: { name: "Error", message: "boom" },
  });
});

Deno.test("formatLogLine() survives values JSON cannot hold", () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const shared = { a: 1 };
  const parsed = JSON.parse(formatLogLine(
    record(["hookd", "daemon"], "info", ["x"], {
      cyclic,
      pair: [shared, shared],
      nan: Number.NaN,
      fn: function named() {},
    }),
  ));
  assert.deepEqual(parsed.cyclic, { name: "loop", self: "[Circular]" });
  assert.deepEqual(parsed.pair, [{ a: 1 }, { a: 1 }]);
  assert.equal(parsed.nan, "NaN");
  assert.equal(parsed.fn, "[Function named]");
});

Deno.test("formatStderrLine() gives a short human line from known fields", async (t) => {
  await t.step("a request", () => {
    assert.equal(
      formatStderrLine(record(["hookd", "request"], "info", ["request"], {
        endpoint: "github",
        event: "push",
        status: 202,
        outcome: "accepted",
        durationMs: 3,
        id: "abc",
        remote: "10.0.0.1",
      })),
      "request github push 202 accepted 3ms id=abc",
    );
  });

  await t.step("a failed hook shows the level, exit code and time-out", () => {
    assert.equal(
      formatStderrLine(record(["hookd", "hook"], "warning", ["hook"], {
        endpoint: "github",
        event: "push",
        exitCode: 137,
        timedOut: true,
        durationMs: 30000,
        id: "abc",
        error: new Error("killed after 30s"),
      })),
      'WARNING hook github push exit=137 timed-out 30000ms id=abc error="killed after 30s"',
    );
  });

  await t.step("a message other than the type is shown", () => {
    assert.equal(
      formatStderrLine(
        record(["hookd", "daemon"], "info", ["listening on ", 8080, ""], {
          port: 8080,
        }),
      ),
      "daemon listening on 8080",
    );
  });

  await t.step("a hostile value cannot break the line", () => {
    const line = formatStderrLine(
      record(["hookd", "request"], "info", ["request"], {
        endpoint: "github",
        event: "push\nrequest forged 202 accepted",
      }),
    );
    assert.equal(line, 'request github "push\\nrequest forged 202 accepted"');
    assert.ok(!line.includes("\n"));
  });

  await t.step("a sensitive value is redacted here too", () => {
    const line = formatStderrLine(
      record(["hookd", "request"], "info", ["got ", "tok", ""], {
        token: "tok",
        error: "tok",
      }),
    );
    assert.equal(line, "request got [REDACTED] error=tok");
  });
});

Deno.test("formatLogLine() keeps output excerpts up to 64 KiB and says when it cut one", async (t) => {
  const parse = (properties: Record<string, unknown>) =>
    JSON.parse(formatLogLine(record(["hookd", "hook"], "info", ["hook"], properties)));

  await t.step("10,000 characters of stdout and stderr are kept whole", () => {
    const entry = parse({
      stdout: "x".repeat(10_000),
      stderr: "y".repeat(10_000),
      stdoutTruncated: false,
      stderrTruncated: false,
    });
    assert.equal(entry.stdout, "x".repeat(10_000));
    assert.equal(entry.stderr, "y".repeat(10_000));
    assert.equal(entry.stdoutTruncated, false);
    assert.equal(entry.stderrTruncated, false);
  });

  await t.step("past 64 KiB the excerpt is cut there and flagged", () => {
    const entry = parse({ stdout: "x".repeat(70_000), stdoutTruncated: false });
    assert.equal(entry.stdout, "x".repeat(65_536));
    assert.equal(entry.stdoutTruncated, true);
  });

  await t.step("a flag the caller set stays set", () => {
    const entry = parse({ stderr: "short", stderrTruncated: true });
    assert.equal(entry.stderrTruncated, true);
  });

  await t.step("other strings are still cut at 2,048 characters", () => {
    const entry = parse({ command: "z".repeat(3000) });
    assert.equal(entry.command, `${"z".repeat(2048)}…[952 more chars]`);
  });
});
