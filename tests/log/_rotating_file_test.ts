/**
 * Tests for the rotating file writer: rotation by size, batching off the
 * request path, a file removed or moved by hand, and a file that fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { flushLog, requestLog, setupLog } from "../../lib/log/mod.ts";
import { waitUntil } from "../_proc.ts";
import { childEnv, tempDir } from "../harness.ts";
import { listNames, readLines } from "./_files.ts";

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
    ...childEnv(),
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
  await waitUntil(
    "the flush timer writes the record",
    async () => (await Deno.readTextFile(file)) !== "",
  );
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

Deno.test("logging a record writes nothing itself; every record reaches the file, in order, at the flush", async () => {
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
  for (let i = 0; i < count; i++) {
    log.info("request", { endpoint: "github", event: "push", status: 202, seq: i });
  }
  // Nothing was awaited since the first call, so a write made by a call itself shows here.
  assert.equal(Deno.readTextFileSync(file), "");
  await flushLog();
  const seqs = (await readLines(file)).map((line) => line.seq);
  assert.deepEqual(seqs, [...Array(count).keys()]);
});
