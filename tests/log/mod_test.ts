/**
 * Tests for the structured log: file shape, rotation, flushing, redaction,
 * reconfiguration, and what happens when the file cannot be written.
 *
 * @module
 */

import assert from "node:assert/strict";
import { drain, type LogRecord } from "@logtape/logtape";
import {
  daemonLog,
  flushLog,
  formatLogLine,
  formatStderrLine,
  hookLog,
  requestLog,
  setupLog,
} from "../../lib/log/mod.ts";

interface TempDir extends AsyncDisposable {
  path: string;
}

async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "hookd_log_test_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

async function readLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(file);
  assert.ok(text === "" || text.endsWith("\n"), "file ends with a newline");
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

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

Deno.test("setupLog() redacts secrets, signatures, tokens, passwords and bodies", async (t) => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.jsonl`;
  const secrets = [
    "S3CR3T-a",
    "sha256=SIGVALUE-b",
    "RAWBODY-c",
    "TOKEN-d",
    "PASSWORD-e",
    "HOOKSECRET-f",
    "sha256=HEADERSIG-g",
    "APITOKEN-h",
    "Bearer AUTH-i",
    "TOKEN-IN-MESSAGE-j",
  ];
  {
    await using _log = await setupLog({
      file,
      maxBytes: 1_000_000,
      maxFiles: 2,
      stderr: false,
    });
    requestLog().info("request", {
      secret: secrets[0],
      signature: secrets[1],
      body: secrets[2],
      token: secrets[3],
      password: secrets[4],
      webhook_secret: secrets[5],
      headers: {
        "x-hub-signature-256": secrets[6],
        "content-type": "application/json",
        authorization: secrets[8],
      },
      nested: [{ apiToken: secrets[7] }],
      payload: new TextEncoder().encode("raw bytes of a body"),
      bodyBytes: 1234,
      signatureValid: false,
      endpoint: "github",
    });
    hookLog().warn("hook got {token} from {endpoint}", {
      token: secrets[9],
      endpoint: "gitlab",
    });
  }
  const text = await Deno.readTextFile(file);
  const [request, hook] = await readLines(file);

  await t.step("no secret value appears anywhere in the file", () => {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret.split("=").at(-1)!), `${secret} leaked`);
    }
  });

  await t.step("sensitive names are kept with a redacted value", () => {
    for (
      const key of [
        "secret",
        "signature",
        "body",
        "token",
        "password",
        "webhook_secret",
      ]
    ) {
      assert.equal(request[key], "[REDACTED]", key);
    }
    assert.deepEqual(request.headers, {
      "x-hub-signature-256": "[REDACTED]",
      "content-type": "application/json",
      authorization: "[REDACTED]",
    });
    assert.deepEqual(request.nested, [{ apiToken: "[REDACTED]" }]);
  });

  await t.step("raw bytes are written as their size only", () => {
    assert.equal(request.payload, "[binary 19 bytes]");
  });

  await t.step("names that describe rather than hold a secret are kept", () => {
    assert.equal(request.bodyBytes, 1234);
    assert.equal(request.signatureValid, false);
    assert.equal(request.endpoint, "github");
  });

  await t.step(
    "a secret interpolated into the message is redacted there too",
    () => {
      assert.equal(hook.message, "hook got [REDACTED] from gitlab");
      assert.equal(hook.token, "[REDACTED]");
    },
  );
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

/**
 * Checks what rotation promises for `count` records logged into `file` with
 * `maxFiles` 3: exactly three files, none past `maxBytes`, holding the newest
 * records oldest-first without a gap, each rotated only when the next record
 * would not have fit.
 */
async function assertRotated(
  file: string,
  maxBytes: number,
  count: number,
): Promise<void> {
  const files = [`${file}.2`, `${file}.1`, file];
  const seqs: number[] = [];
  const firstLines: string[] = [];
  for (const path of files) {
    assert.ok((await Deno.stat(path)).size <= maxBytes, `${path} within maxBytes`);
    for (const line of await readLines(path)) seqs.push(line.seq as number);
    firstLines.push((await Deno.readTextFile(path)).split("\n")[0] + "\n");
  }
  assert.deepEqual(seqs, seqs.map((_, i) => count - seqs.length + i));
  for (let i = 0; i + 1 < files.length; i++) {
    const size = (await Deno.stat(files[i])).size;
    const next = new TextEncoder().encode(firstLines[i + 1]).length;
    assert.ok(size + next > maxBytes, `${files[i]} rotated before it was full`);
  }
}

Deno.test("setupLog() rotates at maxBytes and keeps at most maxFiles files", async (t) => {
  const maxBytes = 1000;
  const maxFiles = 3;
  const count = 200;
  const options = { maxBytes, maxFiles, stderr: false };

  await t.step("written a few records at a time", async () => {
    await using dir = await tempDir();
    const file = `${dir.path}/hookd.jsonl`;
    {
      await using _log = await setupLog({ file, ...options });
      for (let i = 0; i < count; i++) {
        requestLog().info("request", { seq: i, pad: "x".repeat(i % 7) });
        if (i % 5 === 4) {
          await flushLog();
          const names = await listNames(dir.path);
          assert.ok(names.length <= maxFiles, `${names} after record ${i}`);
        }
      }
    }
    assert.deepEqual(await listNames(dir.path), [
      "hookd.jsonl",
      "hookd.jsonl.1",
      "hookd.jsonl.2",
    ]);
    await assertRotated(file, maxBytes, count);
  });

  await t.step("one write is split across files at record boundaries", async () => {
    await using dir = await tempDir();
    const file = `${dir.path}/hookd.jsonl`;
    {
      await using _log = await setupLog({ file, ...options });
      for (let i = 0; i < count; i++) {
        requestLog().info("request", { seq: i, pad: "x".repeat(i % 7) });
      }
      await flushLog();
      assert.deepEqual(await listNames(dir.path), [
        "hookd.jsonl",
        "hookd.jsonl.1",
        "hookd.jsonl.2",
      ]);
    }
    await assertRotated(file, maxBytes, count);
  });

  await t.step("a record bigger than maxBytes gets a file of its own", async () => {
    await using dir = await tempDir();
    const file = `${dir.path}/hookd.jsonl`;
    {
      await using _log = await setupLog({ file, ...options });
      requestLog().info("request", { seq: 0 });
      requestLog().info("request", { seq: 1, pad: "x".repeat(maxBytes) });
      requestLog().info("request", { seq: 2 });
    }
    assert.deepEqual((await readLines(`${file}.2`)).map((line) => line.seq), [0]);
    assert.deepEqual((await readLines(`${file}.1`)).map((line) => line.seq), [1]);
    assert.deepEqual((await readLines(file)).map((line) => line.seq), [2]);
  });

  await t.step("maxFiles 1: only the active file, ever", async () => {
    await using dir = await tempDir();
    const file = `${dir.path}/hookd.jsonl`;
    {
      await using _log = await setupLog({
        file,
        maxBytes: 500,
        maxFiles: 1,
        stderr: false,
      });
      for (let i = 0; i < 50; i++) {
        requestLog().info("request", { seq: i });
        if (i % 7 === 6) {
          await flushLog();
          assert.deepEqual(await listNames(dir.path), ["hookd.jsonl"]);
          assert.ok((await Deno.stat(file)).size <= 500);
        }
      }
    }
    assert.deepEqual(await listNames(dir.path), ["hookd.jsonl"]);
    const lines = await readLines(file);
    assert.ok(lines.length > 0 && lines.length < 50);
    assert.equal(lines.at(-1)!.seq, 49);
  });

  await t.step(
    "rotated files beyond a lowered maxFiles are removed at setup",
    async () => {
      await using dir = await tempDir();
      const file = `${dir.path}/hookd.jsonl`;
      for (
        const name of [
          "hookd.jsonl.1",
          "hookd.jsonl.2",
          "hookd.jsonl.3",
          "hookd.jsonl.9",
          "hookd.jsonl.bak",
        ]
      ) {
        await Deno.writeTextFile(`${dir.path}/${name}`, "{}\n");
      }
      {
        await using _log = await setupLog({
          file,
          maxBytes: 500,
          maxFiles: 3,
          stderr: false,
        });
      }
      assert.deepEqual(await listNames(dir.path), [
        "hookd.jsonl",
        "hookd.jsonl.1",
        "hookd.jsonl.2",
        "hookd.jsonl.bak",
      ]);
    },
  );
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

Deno.test("a log file that fails later sends records to stderr and recovers", async () => {
  await using dir = await tempDir();
  const logDir = `${dir.path}/logs`;
  const file = `${logDir}/hookd.jsonl`;
  const script = `${dir.path}/script.ts`;
  const logModule = new URL("../../lib/log/mod.ts", import.meta.url).href;
  // Nothing rotates (maxBytes is large): the writer must notice by itself
  // that the file it holds open is no longer at the path.
  await Deno.writeTextFile(
    script,
    `import { flushLog, requestLog, setupLog } from ${JSON.stringify(logModule)};
await using _log = await setupLog({ file: ${
      JSON.stringify(file)
    }, maxBytes: 1_000_000, maxFiles: 2 });
requestLog().info("request", { endpoint: "e", seq: 1 });
await flushLog();
await Deno.remove(${JSON.stringify(logDir)}, { recursive: true });
requestLog().info("request", { endpoint: "e", seq: 2 });
requestLog().info("request", { endpoint: "e", seq: 3 });
await flushLog();
requestLog().info("request", { endpoint: "e", seq: 4 });
await flushLog();
await Deno.mkdir(${JSON.stringify(logDir)});
requestLog().info("request", { endpoint: "e", seq: 5 });
await flushLog();
console.log("survived");
`,
  );
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", config, script],
    stdin: "null",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, err);
  assert.equal(out, "survived\n");
  // Each stderr line as a short token, to check their order in one go.
  const tokens = err.split("\n").filter((line) => line !== "").map((line) => {
    if (line.startsWith("{")) return `json ${JSON.parse(line).seq}`;
    if (line.startsWith("hookd: cannot write")) {
      assert.match(
        line,
        /^hookd: cannot write log file .*hookd\.jsonl: .+; writing records to stderr until it works again$/,
      );
      return "warning";
    }
    return line;
  });
  assert.deepEqual(tokens, [
    "request e",
    "request e",
    "request e",
    "warning",
    "json 2",
    "json 3",
    "request e",
    "json 4",
    "request e",
    `hookd: log file ${file} is writable again`,
  ]);
  assert.deepEqual((await readLines(file)).map((line) => line.seq), [5]);
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

Deno.test("an idle buffer reaches the file by itself", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.jsonl`;
  await using _log = await setupLog({
    file,
    maxBytes: 1_000_000,
    maxFiles: 2,
    stderr: false,
  });
  requestLog().info("request", { seq: 1 });
  assert.equal(Deno.readTextFileSync(file), "");
  // The flush timer is due after 200 ms; allow a loaded machine ten times that.
  const deadline = Date.now() + 2000;
  while ((await Deno.readTextFile(file)) === "" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual((await readLines(file)).map((line) => line.seq), [1]);
});

Deno.test("a log file removed or moved by hand is created again at the next write", async (t) => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.jsonl`;
  await using _log = await setupLog({
    file,
    maxBytes: 1_000_000,
    maxFiles: 2,
    stderr: false,
  });
  requestLog().info("request", { seq: 1 });
  await flushLog();

  await t.step("removed", async () => {
    await Deno.remove(file);
    requestLog().info("request", { seq: 2 });
    await flushLog();
    assert.deepEqual((await readLines(file)).map((line) => line.seq), [2]);
  });

  await t.step("moved away", async () => {
    await Deno.rename(file, `${dir.path}/hookd.old`);
    requestLog().info("request", { seq: 3 });
    await flushLog();
    assert.deepEqual((await readLines(file)).map((line) => line.seq), [3]);
    assert.deepEqual((await readLines(`${dir.path}/hookd.old`)).map((line) => line.seq), [2]);
  });
});

Deno.test("logging a record costs microseconds, not a disk write", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.jsonl`;
  const count = 20_000;
  await using _log = await setupLog({
    file,
    maxBytes: 100_000_000,
    maxFiles: 2,
    stderr: false,
  });
  const log = requestLog();
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    log.info("request", { endpoint: "github", event: "push", status: 202, seq: i });
  }
  const elapsed = performance.now() - start;
  // About 0.1 s here; a write or fsync per record would take many seconds.
  assert.ok(elapsed < 2000, `${count} records took ${elapsed.toFixed(0)} ms`);
  await flushLog();
  const seqs = (await readLines(file)).map((line) => line.seq);
  assert.deepEqual(seqs, [...Array(count).keys()]);
});
