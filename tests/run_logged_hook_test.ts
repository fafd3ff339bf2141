import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { commandName, runLoggedHook } from "../lib/run_logged_hook.ts";
import { tempDir } from "./_daemon.ts";

async function withRecords(fn: (records: LogRecord[]) => Promise<void>) {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["hookd"], sinks: ["memory"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
  try {
    await fn(records);
  } finally {
    await reset();
  }
}

Deno.test("runLoggedHook() writes one hook record naming the delivery, not the command line", async (t) => {
  await using dir = await tempDir();
  await withRecords(async (records) => {
    const env = {
      PATH: "/usr/bin:/bin",
      HOOKD_DELIVERY_ID: "01TEST",
      HOOKD_ENDPOINT: "github",
      HOOKD_EVENT: "push",
    };
    await t.step("a hook that succeeds is an info record with its output", async () => {
      const result = await runLoggedHook("echo deployed; true --secret-flag", {
        env,
        stdin: new TextEncoder().encode("{}"),
        timeoutMs: 10_000,
        payloadDir: dir.path,
      });
      assert.equal(result.success, true);
      assert.equal(records.length, 1);
      const [record] = records;
      assert.equal(record.level, "info");
      assert.equal(record.properties.id, "01TEST");
      assert.equal(record.properties.endpoint, "github");
      assert.equal(record.properties.event, "push");
      assert.equal(record.properties.command, "echo");
      assert.equal(record.properties.exitCode, 0);
      assert.equal(record.properties.stdout, "deployed\n");
      assert.ok(!JSON.stringify(record.properties).includes("--secret-flag"));
    });
    await t.step("a hook that fails is a warning record with its exit code", async () => {
      await runLoggedHook("exit 3", {
        env,
        stdin: new Uint8Array(),
        timeoutMs: 10_000,
        payloadDir: dir.path,
      });
      assert.equal(records.length, 2);
      assert.equal(records[1].level, "warning");
      assert.equal(records[1].properties.exitCode, 3);
    });
  });
});

Deno.test("commandName() is the command's first word", () => {
  assert.equal(commandName("  /usr/local/bin/deploy --prod main"), "/usr/local/bin/deploy");
  assert.equal(commandName("echo"), "echo");
});
