/**
 * Tests for the delivery commands: their text, and the commands over a real store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseCommandLine } from "../../lib/cli/command_line.ts";
import {
  currentHooks,
  deliveryToJson,
  filterFromFlags,
  formatDeliveryDetail,
  formatDeliveryList,
  formatRequeueResult,
  runDeliveryCommand,
} from "../../lib/cli/deliveries.ts";
import { parseConfig } from "../../lib/config/mod.ts";
import { type DeliveryDetail, openStore, storePath } from "../../lib/store/mod.ts";
import { runHookd, tempDir } from "../harness.ts";

const T = Date.UTC(2025, 0, 2, 3, 4, 5);

function detail(overrides: Partial<DeliveryDetail> = {}): DeliveryDetail {
  return {
    id: "01JH0000000000000000000000",
    endpoint: "deploy",
    event: "push",
    sourceId: "gh-1",
    receivedAt: T,
    contentType: "application/json",
    bodySize: 13,
    hook: "./deploy.sh",
    verifiedBy: "github",
    state: "failed",
    attempts: 1,
    queuedAt: T,
    updatedAt: T,
    finishedAt: T + 1000,
    supersededBy: null,
    filteredBy: null,
    lastRun: { outcome: "failed", exitCode: 2, signal: null, startedAt: T, endedAt: T + 900 },
    headers: { "x-github-event": "push", "x-hub-signature-256": "[redacted]" },
    body: new TextEncoder().encode('{"ref":"main"}'),
    timeoutMs: 60_000,
    failures: 1,
    notBefore: 0,
    runs: [{
      id: 1,
      attempt: 1,
      startedAt: T,
      endedAt: T + 900,
      durationMs: 900,
      outcome: "failed",
      exitCode: 2,
      signal: null,
      stdout: "pulling\n",
      stderr: "merge conflict\n",
      stdoutTruncated: false,
      stderrTruncated: true,
      error: null,
    }],
    ...overrides,
  };
}

Deno.test("filterFromFlags() turns flags into a store filter", async (t) => {
  await t.step("every flag", () => {
    assert.deepEqual(
      filterFromFlags(
        { endpoint: "deploy", state: "failed,done", since: "1h", limit: "20" },
        10_000_000,
      ),
      { endpoint: "deploy", state: ["failed", "done"], since: 10_000_000 - 3_600_000, limit: 20 },
    );
    assert.deepEqual(filterFromFlags({}, 0), {});
  });
  await t.step("bad values name the flag and the fix", () => {
    assert.throws(
      () => filterFromFlags({ state: "broken" }, 0),
      /--state "broken".*queued, running/,
    );
    assert.throws(() => filterFromFlags({ since: "1 hour" }, 0), /--since "1 hour".*5m/);
    assert.throws(() => filterFromFlags({ limit: "0" }, 0), /--limit "0"/);
    assert.throws(() => filterFromFlags({ limit: "2.5" }, 0), /--limit/);
  });
});

Deno.test("formatDeliveryList() prints aligned columns with the last run's exit", () => {
  const text = formatDeliveryList([
    detail(),
    detail({ id: "01JH0000000000000000000001", endpoint: "ci", state: "queued", lastRun: null }),
  ]);
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^ID\s+RECEIVED\s+ENDPOINT\s+EVENT\s+STATE\s+RUNS\s+LAST$/);
  assert.match(
    lines[1],
    /^01JH0+\s+2025-01-02T03:04:05Z\s+deploy\s+push\s+failed\s+1\s+failed \(exit 2\)$/,
  );
  assert.match(lines[2], /\s+ci\s+push\s+queued\s+1\s+-$/);
  assert.equal(lines[1].indexOf("push"), lines[2].indexOf("push"), "columns line up");
  assert.equal(formatDeliveryList([]), "No deliveries match.\n");
});

Deno.test("formatDeliveryDetail() shows headers, body and every run's output", () => {
  const text = formatDeliveryDetail(detail());
  for (
    const expected of [
      "Delivery 01JH0000000000000000000000",
      "  Sender id:    gh-1",
      "  State:        failed",
      "  x-hub-signature-256: [redacted]",
      'Body (application/json, 13 bytes)\n  {"ref":"main"}',
      "Run 1: failed (exit 2), started 2025-01-02T03:04:05Z, 900 ms",
      "  stdout:\n    pulling",
      "  stderr (truncated):\n    merge conflict",
    ]
  ) assert.ok(text.includes(expected), `missing ${JSON.stringify(expected)} in:\n${text}`);
});

Deno.test("formatDeliveryDetail() never passes terminal control characters through", () => {
  const text = formatDeliveryDetail(detail({
    body: new TextEncoder().encode("evil\x1b]0;owned\x07\r\nline two\ttab"),
    headers: { "x-note": "a\x1b[2Jb" },
  }));
  for (const c of ["\x1b", "\x07", "\r"]) assert.equal(text.includes(c), false);
  assert.ok(text.includes("evil\\x1b]0;owned\\x07\\x0d"));
  assert.ok(text.includes("\n  line two\ttab"));
  assert.ok(text.includes("x-note: a\\x1b[2Jb"));
  const binary = formatDeliveryDetail(detail({ body: new Uint8Array([0xff, 0x00]) }));
  assert.ok(binary.includes("(binary; base64) /wA="));
});

Deno.test("deliveryToJson() carries the body as base64 and, when UTF-8, as text", () => {
  const json = deliveryToJson(detail());
  assert.equal(json.bodyBase64, btoa('{"ref":"main"}'));
  assert.equal(json.bodyText, '{"ref":"main"}');
  assert.equal("body" in json, false);
  assert.equal("bodyText" in deliveryToJson(detail({ body: new Uint8Array([0xff]) })), false);
  assert.doesNotThrow(() => JSON.stringify(json));
});

Deno.test("formatRequeueResult() says what was queued and why others were skipped", () => {
  assert.equal(
    formatRequeueResult({
      requeued: ["A"],
      skipped: [{ id: "B", reason: "running" }, { id: "C", reason: "unknown" }, {
        id: "D",
        reason: "no hook",
      }],
    }),
    "A queued\nB skipped: already running\nC skipped: no such delivery\nD skipped: no hook to run\n",
  );
  assert.equal(formatRequeueResult({ requeued: [], skipped: [] }), "No deliveries match.\n");
});

Deno.test("the delivery commands list, show and replay what the store holds", async (t) => {
  await using dir = await tempDir();
  const config = parseConfig({
    HOOKD_ENDPOINTS: "github",
    HOOKD_STATE_DIR: dir.path,
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: "commands-secret-0123456789",
  });
  let id: string;
  {
    await using store = openStore(storePath(dir.path));
    ({ id } = await store.insert({
      endpoint: "github",
      event: "push",
      sourceId: "gh-1",
      receivedAt: Date.now(),
      contentType: "application/json",
      headers: { "x-github-event": "push" },
      body: new TextEncoder().encode('{"ref":"main"}'),
      hook: null,
      timeoutMs: 1000,
    }));
  }
  const run = (...args: string[]) => runDeliveryCommand(parseCommandLine(args), config);

  await t.step("deliveries --json lists it", async () => {
    const { output, code } = await run("deliveries", "--json");
    assert.equal(code, 0);
    const rows = output.split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(rows.map((r) => [r.id, r.event, r.state]), [[id, "push", "ignored"]]);
  });

  await t.step("show prints its body; an unknown id exits 1", async () => {
    const shown = await run("show", id);
    assert.equal(shown.code, 0);
    assert.match(shown.output, /"ref":"main"/);
    assert.equal((await run("show", "01NOSUCHDELIVERY000000000")).code, 1);
  });

  await t.step("replay needs ids or a selection, and skips what has no hook", async () => {
    assert.equal((await run("replay")).code, 2);
    const replayed = await run("replay", id);
    assert.equal(replayed.code, 1);
    assert.match(replayed.output, /no hook/);
  });
});

Deno.test("deliveries, show and replay refuse a missing store, name its path and create nothing", async (t) => {
  await using dir = await tempDir();
  const stateDir = `${dir.path}/state`;
  const envFile = `${dir.path}/hookd.env`;
  await Deno.writeTextFile(
    envFile,
    [
      `HOOKD_STATE_DIR=${stateDir}`,
      `HOOKD_LOG_FILE=${dir.path}/log/hookd.log`,
      "HOOKD_ENDPOINTS=github",
      "HOOKD_GITHUB_PROVIDER=github",
      "HOOKD_GITHUB_SECRET=missing-store-secret-0123456789",
    ].join("\n") + "\n",
    { mode: 0o600 },
  );
  const expected = `hookd: no delivery store at ${stateDir}/hookd.db: set HOOKD_STATE_DIR ` +
    "to the daemon's state directory (the daemon creates it on first start)";
  for (
    const args of [
      ["deliveries"],
      ["deliveries", "--json"],
      ["show", "01JH0000000000000000000000"],
      ["replay", "01JH0000000000000000000000"],
      ["replay", "--state", "failed"],
    ]
  ) {
    await t.step(args.join(" "), async () => {
      const result = await runHookd([...args, "--env-file", envFile]);
      assert.notEqual(result.code, 0, result.stdout);
      assert.equal(result.stderr.trim(), expected);
      assert.doesNotMatch(result.stdout, /No deliveries match/);
      assert.deepEqual(
        [...Deno.readDirSync(dir.path)].map((e) => e.name),
        ["hookd.env"],
        "neither the state directory nor the log was created",
      );
    });
  }
});

Deno.test("currentHooks() gives the configured hook and notes what changed, naming the variable", () => {
  const config = parseConfig({
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: "current-hooks-secret-0123456789",
    HOOKD_GH_HOOK_PUSH: "./deploy.sh",
  });
  const { hookFor, notes } = currentHooks(config);
  assert.equal(
    hookFor({ id: "A", endpoint: "gh", event: "push", hook: "./deploy.sh" }),
    "./deploy.sh",
  );
  assert.equal(
    hookFor({ id: "B", endpoint: "gh", event: "push", hook: "./old.sh" }),
    "./deploy.sh",
  );
  assert.equal(hookFor({ id: "C", endpoint: "gh", event: "issues", hook: null }), null);
  assert.equal(hookFor({ id: "D", endpoint: "gone", event: "push", hook: "./x.sh" }), null);
  assert.deepEqual(Object.fromEntries(notes), {
    B: 'hook changed: HOOKD_GH_HOOK_PUSH is now "./deploy.sh"',
    D: "endpoint gone is not configured",
  });
  assert.ok(![...notes.values()].some((n) => n.includes("current-hooks-secret")));
});
