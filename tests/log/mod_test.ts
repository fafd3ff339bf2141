/**
 * Tests for the log's face: the file's shape, disposing and flushing,
 * reconfiguration, and refusing a file or limits that cannot work.
 *
 * @module
 */

import assert from "node:assert/strict";
import { drain } from "@logtape/logtape";
import {
  daemonLog,
  flushLog,
  hookLog,
  logUnhandledRejections,
  requestLog,
  setupLog,
} from "../../lib/log/mod.ts";
import { waitUntil } from "../_proc.ts";
import { tempDir } from "../harness.ts";
import { readLines } from "./_files.ts";

Deno.test("setupLog() writes each record as one flat JSON line", async (t) => {
  await using dir = await tempDir();
  const file = `${dir.path}/nested/deeper/hookd.jsonl`;
  const before = Date.now();
  {
    await using _log = await setupLog({
      file,
      maxBytes: 1_000_000,
      maxFiles: 3,
      stderr: false,
    });
    requestLog().info("request", {
      endpoint: "github",
      event: "push",
      id: "d-1",
      status: 202,
      outcome: "accepted",
      durationMs: 3,
    });
    hookLog().warn("hook", {
      endpoint: "github",
      exitCode: 1,
      timedOut: false,
    });
    daemonLog().error("stopping on {signal}", { signal: "SIGTERM" });
    daemonLog().debug("below the level, not written");
  }
  const after = Date.now();
  const lines = await readLines(file);

  await t.step("the directory is created and every record is a line", () => {
    assert.equal(lines.length, 3);
  });

  await t.step("time is an ISO string of when it was logged", () => {
    for (const line of lines) {
      const time = line.time as string;
      assert.equal(new Date(time).toISOString(), time);
      const ms = Date.parse(time);
      assert.ok(ms >= before && ms <= after, `${time} within the test`);
    }
  });

  await t.step("fields are flat: level, type, message, then properties", () => {
    const shapes = lines.map(({ time: _, ...rest }) => rest);
    assert.deepEqual(shapes, [
      {
        level: "info",
        type: "request",
        message: "request",
        endpoint: "github",
        event: "push",
        id: "d-1",
        status: 202,
        outcome: "accepted",
        durationMs: 3,
      },
      {
        level: "warning",
        type: "hook",
        message: "hook",
        endpoint: "github",
        exitCode: 1,
        timedOut: false,
      },
      {
        level: "error",
        type: "daemon",
        message: "stopping on SIGTERM",
        signal: "SIGTERM",
      },
    ]);
    assert.deepEqual(Object.keys(lines[0]).slice(0, 4), [
      "time",
      "level",
      "type",
      "message",
    ]);
  });
});

Deno.test("disposing the handle leaves every earlier record in the file", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.jsonl`;
  const count = 1000;
  {
    await using _log = await setupLog({
      file,
      maxBytes: 10_000_000,
      maxFiles: 2,
      stderr: false,
    });
    for (let i = 0; i < count; i++) requestLog().info("request", { seq: i });
  }
  const lines = await readLines(file);
  assert.equal(lines.length, count);
  assert.deepEqual(lines.map((line) => line.seq), [...Array(count).keys()]);
});

Deno.test("setupLog() can be called again to replace the configuration", async () => {
  await using dir = await tempDir();
  const first = `${dir.path}/first.jsonl`;
  const second = `${dir.path}/second.jsonl`;
  const options = { maxBytes: 100_000, maxFiles: 2, stderr: false };
  {
    await using _a = await setupLog({ file: first, ...options });
    requestLog().info("request", { seq: 1 });
    {
      await using b = await setupLog({ file: second, ...options });
      requestLog().info("request", { seq: 2 });
      // Disposing the replaced handle must not close the new file.
      await _a[Symbol.asyncDispose]();
      requestLog().info("request", { seq: 3 });
      await b[Symbol.asyncDispose]();
    }
  }
  assert.deepEqual((await readLines(first)).map((line) => line.seq), [1]);
  assert.deepEqual((await readLines(second)).map((line) => line.seq), [2, 3]);
});

Deno.test("setupLog() refuses a file it cannot open, naming HOOKD_LOG_FILE", async (t) => {
  await using dir = await tempDir();
  const options = { maxBytes: 100_000, maxFiles: 2, stderr: false };
  await Deno.writeTextFile(`${dir.path}/plain`, "");
  await Deno.mkdir(`${dir.path}/a-directory`);

  await t.step("its directory is under a regular file", async () => {
    await assert.rejects(
      setupLog({ file: `${dir.path}/plain/hookd.jsonl`, ...options }),
      (error: Error) =>
        /HOOKD_LOG_FILE=.*plain\/hookd\.jsonl: .+; point HOOKD_LOG_FILE at/
          .test(error.message),
    );
  });

  await t.step("it is a directory", async () => {
    await assert.rejects(
      setupLog({ file: `${dir.path}/a-directory`, ...options }),
      /HOOKD_LOG_FILE=.*a-directory: /,
    );
  });

  await t.step("the previous configuration stays in force", async () => {
    const good = `${dir.path}/good.jsonl`;
    {
      await using _log = await setupLog({ file: good, ...options });
      await assert.rejects(
        setupLog({ file: `${dir.path}/a-directory`, ...options }),
      );
      requestLog().info("request", { seq: 7 });
    }
    assert.deepEqual((await readLines(good)).map((line) => line.seq), [7]);
  });
});

Deno.test("setupLog() rejects limits that are not positive integers", async () => {
  const file = "/nonexistent-never-created/hookd.jsonl";
  await assert.rejects(
    setupLog({ file, maxBytes: 0, maxFiles: 2 }),
    RangeError,
  );
  await assert.rejects(
    setupLog({ file, maxBytes: 1.5, maxFiles: 2 }),
    RangeError,
  );
  await assert.rejects(
    setupLog({ file, maxBytes: 1000, maxFiles: 0 }),
    /maxFiles/,
  );
  await assert.rejects(
    setupLog({ file: "", maxBytes: 1000, maxFiles: 2 }),
    /HOOKD_LOG_FILE/,
  );
});

Deno.test("flushLog() puts every earlier record in the file without closing it", async (t) => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.jsonl`;
  await using _log = await setupLog({
    file,
    maxBytes: 1_000_000,
    maxFiles: 2,
    stderr: false,
  });

  await t.step("a logging call leaves the file alone", () => {
    requestLog().info("request", { seq: 1 });
    requestLog().info("request", { seq: 2 });
    assert.equal(Deno.readTextFileSync(file), "");
  });

  await t.step("flushLog() writes what was logged", async () => {
    await flushLog();
    assert.deepEqual((await readLines(file)).map((line) => line.seq), [1, 2]);
  });

  await t.step("the log goes on afterwards", async () => {
    requestLog().info("request", { seq: 3 });
    await flushLog();
    assert.deepEqual((await readLines(file)).map((line) => line.seq), [1, 2, 3]);
  });

  await t.step("logtape's drain() waits for the file too", async () => {
    requestLog().info("request", { seq: 4 });
    await drain();
    assert.deepEqual((await readLines(file)).map((line) => line.seq), [1, 2, 3, 4]);
  });
});

Deno.test("logUnhandledRejections() turns a rejection nothing handled into one error record", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.jsonl`;
  {
    await using _log = await setupLog({ file, maxBytes: 1_000_000, maxFiles: 2, stderr: false });
    const stop = logUnhandledRejections();
    try {
      // A library's background work failing with no one to catch it (a database client's
      // reconnect, say): without the handler Deno would end the process here.
      Promise.reject(new Error("connection refused in the background"));
      await waitUntil("the record is written", async () => {
        await flushLog();
        return (await readLines(file)).some((r) => r.type === "daemon");
      });
    } finally {
      stop();
    }
  }
  const records = (await readLines(file)).filter((r) => r.type === "daemon");
  assert.equal(records.length, 1);
  assert.equal(records[0].level, "error");
  assert.match(String(records[0].error), /connection refused in the background/);
});
