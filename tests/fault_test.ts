/**
 * The fault suite: hooks that fail in every way a process can, a log
 * directory that disappears under the running daemon, and a delivery store
 * that cannot commit. In each, the daemon records precisely what happened,
 * stays bounded, keeps serving, and never acknowledges what it did not keep.
 *
 * The store's faults are staged without privileges: another process holding
 * the write lock, and a state directory whose files cannot be written (an
 * `LD_PRELOAD` shim, `fixtures/erofs_writes.c`, compiled with `cc` at test
 * time, answers the daemon's writes there with EROFS). A full disk is not
 * staged (it needs a small mount); SQLite reports it at the same commit.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isRunning, rssKb, waitUntil } from "./_proc.ts";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { storePath } from "../lib/store/mod.ts";
import {
  type Daemon,
  githubSignature,
  integrationTest,
  type LogRecord,
  onPath,
  requireOrSkip,
  startDaemon,
  tempDir,
  waitForFile,
} from "./harness.ts";

const SECRET = "fault-suite-secret";
/** A generous ceiling for the daemon's resident memory. */
const RSS_BOUND_KB = 300 * 1024;
/** How much a hook's 100 MB of output may grow the daemon's resident memory. */
const OUTPUT_GROWTH_BOUND_KB = 32 * 1024;
/**
 * How many requests, one after another, must be answered while an insert
 * waits for the write lock (1 s by default): a daemon that serves on answers
 * thousands; one whose event loop stands still in the wait answers only the
 * few that got in before the insert's request was read (3 when tried).
 */
const MIN_ANSWERED_WHILE_WAITING = 20;

/** POST a signed GitHub delivery of `event`; resolves to the response and its JSON. */
async function deliver(
  daemon: Daemon,
  event: string,
  sourceId: string = crypto.randomUUID(),
  body = JSON.stringify({ event, sourceId }),
): Promise<{ response: Response; answer: Record<string, unknown> }> {
  const response = await daemon.post("gh", body, {
    "Content-Type": "application/json",
    "X-GitHub-Event": event,
    "X-GitHub-Delivery": sourceId,
    "X-Hub-Signature-256": await githubSignature(body, SECRET),
  });
  return { response, answer: await response.json() };
}

/** Deliver `event`, expect 202, and wait for its hook record. */
async function hookRecord(daemon: Daemon, event: string): Promise<LogRecord> {
  const { response, answer } = await deliver(daemon, event);
  assert.equal(response.status, 202, JSON.stringify(answer));
  return await daemon.waitForRecord((r) => r.type === "hook" && r.id === answer.id, 30_000);
}

/** The length of an excerpt made only of `char` (anything else fails with its start). */
function excerpt(text: unknown, char: string): number {
  assert.equal(typeof text, "string");
  const bad = (text as string).search(new RegExp(`[^${char}]`));
  assert.equal(bad, -1, `unexpected text at ${bad}: ${(text as string).slice(bad, bad + 40)}`);
  return (text as string).length;
}

/** The stored stdout of a delivery's last run (kept as UTF-8 bytes) and its truncation flag (0 or 1). */
function storedOutput(daemon: Daemon, id: string): [unknown, unknown] {
  const db = new DatabaseSync(storePath(daemon.stateDir), { readOnly: true });
  try {
    const row = db.prepare(
      "SELECT stdout, stdout_truncated FROM runs WHERE delivery_id = ? ORDER BY id DESC LIMIT 1",
    ).get(id);
    const stdout = row?.stdout;
    return [
      stdout instanceof Uint8Array ? new TextDecoder().decode(stdout) : stdout,
      row?.stdout_truncated,
    ];
  } finally {
    db.close();
  }
}

/** Wait until `count` records match, and return them. */
async function recordsWhen(
  daemon: Daemon,
  match: (r: LogRecord) => boolean,
  count: number,
): Promise<LogRecord[]> {
  let found: LogRecord[] = [];
  return await waitUntil(
    () => `only ${found.length} of ${count} records`,
    async () => {
      found = (await daemon.records()).filter(match);
      return found.length >= count && found;
    },
  );
}

/**
 * A shell command that starts a child which writes its own pid to `file`
 * and then sleeps, waits until the pid is written, then does `then`.
 */
function forkChild(file: string, then: string): string {
  return `sh -c 'echo $$ > "${file}.tmp" && mv "${file}.tmp" "${file}"; exec sleep 300' & ` +
    `while [ ! -s "${file}" ]; do sleep 0.02; done; ${then}`;
}

integrationTest(
  "hooks that fail are recorded precisely and cannot outlive their run",
  async (t) => {
    await using scratch = await tempDir("hookd_fault_hooks_");
    const notExecutable = `${scratch.path}/not-executable.sh`;
    await Deno.writeTextFile(notExecutable, "#!/bin/sh\necho never\n", { mode: 0o644 });
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "gh",
      HOOKD_GH_PROVIDER: "github",
      HOOKD_GH_SECRET: SECRET,
      HOOKD_GH_TIMEOUT: "2s",
      HOOKD_GH_HOOK_MISSING: `${scratch.path}/no-such-hook`,
      HOOKD_GH_HOOK_NOEXEC: notExecutable,
      HOOKD_GH_HOOK_KILLED: "kill -KILL $$",
      HOOKD_GH_HOOK_TERMINATED: "kill -TERM $$",
      HOOKD_GH_HOOK_LOUD: "head -c 100000000 /dev/zero | tr '\\0' x",
      HOOKD_GH_HOOK_CHATTY: "head -c 10000 /dev/zero | tr '\\0' y",
      HOOKD_GH_HOOK_HANGS: forkChild(`${scratch.path}/hangs.pid`, "sleep 300"),
      HOOKD_GH_HOOK_LEAVES: forkChild(`${scratch.path}/leaves.pid`, "exit 0"),
    });
    const pid = daemon.process.pid;

    await t.step("a hook that does not exist exits 127", async () => {
      const record = await hookRecord(daemon, "missing");
      assert.equal(record.exitCode, 127);
      assert.equal(record.signal, null);
      assert.equal(record.timedOut, false);
      assert.equal(record.level, "warning");
      assert.match(String(record.stderr), /no-such-hook: not found/);
    });

    await t.step("a hook that is not executable exits 126", async () => {
      const record = await hookRecord(daemon, "noexec");
      assert.equal(record.exitCode, 126);
      assert.equal(record.signal, null);
      assert.match(String(record.stderr), /Permission denied/);
    });

    await t.step("a hook killed by a signal has no exit code and names the signal", async () => {
      for (const [event, signal] of [["killed", "SIGKILL"], ["terminated", "SIGTERM"]]) {
        const record = await hookRecord(daemon, event);
        assert.equal(record.exitCode, null);
        assert.equal(record.signal, signal);
        assert.equal(record.timedOut, false);
        assert.equal(record.level, "warning");
      }
    });

    await t.step("a hook printing 10,000 characters is logged and stored whole", async () => {
      const record = await hookRecord(daemon, "chatty");
      assert.equal(record.exitCode, 0);
      assert.equal(excerpt(record.stdout, "y"), 10_000);
      assert.equal(record.stdoutTruncated, false);
      const [stored, truncated] = storedOutput(daemon, String(record.id));
      assert.equal(excerpt(stored, "y"), 10_000);
      assert.equal(truncated, 0);
    });

    await t.step("a hook printing 100 MB leaves a 64 KiB excerpt and bounded memory", async () => {
      const before = rssKb(pid);
      const record = await hookRecord(daemon, "loud");
      assert.equal(record.exitCode, 0);
      assert.equal(record.stdoutTruncated, true);
      assert.equal(excerpt(record.stdout, "x"), 65_536);
      const [stored, truncated] = storedOutput(daemon, String(record.id));
      assert.equal(excerpt(stored, "x"), 65_536);
      assert.equal(truncated, 1);
      const after = rssKb(pid);
      assert.ok(after < RSS_BOUND_KB, `RSS ${before} kB before, ${after} kB after`);
      // The output went through the daemon's pipes: keeping it would have grown it by 100 MB.
      assert.ok(
        after - before < OUTPUT_GROWTH_BOUND_KB,
        `RSS ${before} kB before, ${after} kB after`,
      );
    });

    await t.step("a hook that times out is killed with everything it forked", async () => {
      const record = await hookRecord(daemon, "hangs");
      assert.equal(record.timedOut, true);
      assert.equal(record.exitCode, null);
      assert.equal(record.signal, "SIGTERM");
      assert.ok(Number(record.durationMs) >= 2000, `ran ${record.durationMs} ms`);
      const child = Number((await Deno.readTextFile(`${scratch.path}/hangs.pid`)).trim());
      assert.ok(child > 1);
      // The record is written once the whole process group is gone.
      assert.ok(!isRunning(child), `forked child ${child} is still running`);
    });

    await t.step("a child left behind by a hook that exits is killed with it", async () => {
      const record = await hookRecord(daemon, "leaves");
      assert.equal(record.exitCode, 0);
      assert.equal(record.timedOut, false);
      const child = Number((await Deno.readTextFile(`${scratch.path}/leaves.pid`)).trim());
      assert.ok(child > 1);
      assert.ok(!isRunning(child), `forked child ${child} is still running`);
    });

    await t.step("the daemon still serves, each delivery logged once", async () => {
      const { response } = await deliver(daemon, "unhooked");
      assert.equal(response.status, 202);
      await daemon.waitForRecord((r) => r.type === "request" && r.event === "unhooked");
      const records = await daemon.records();
      const requests = records.filter((r) => r.type === "request");
      assert.deepEqual(
        requests.map((r) => r.event),
        [
          "missing",
          "noexec",
          "killed",
          "terminated",
          "chatty",
          "loud",
          "hangs",
          "leaves",
          "unhooked",
        ],
      );
      assert.ok(rssKb(pid) < RSS_BOUND_KB);
    });
  },
);

integrationTest("a log directory lost after start: the daemon serves on and says so", async (t) => {
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: SECRET,
  });
  const logDir = dirname(daemon.logFile);

  /** Deliver, expect 202, and wait for the request record on stderr. */
  async function deliverToStderr(sourceId: string): Promise<void> {
    const { response } = await deliver(daemon, "push", sourceId);
    assert.equal(response.status, 202);
    await waitUntil(
      `the record of ${sourceId} is on stderr`,
      () => daemon.stderr().includes(`"sourceId":"${sourceId}"`),
    );
  }

  await t.step("records go to the file while it works", async () => {
    const { response } = await deliver(daemon, "push", "before");
    assert.equal(response.status, 202);
    await daemon.waitForRecord((r) => r.sourceId === "before");
  });

  await t.step("the directory removed: served, reported once, records on stderr", async () => {
    await Deno.remove(logDir, { recursive: true });
    await deliverToStderr("removed");
    const stderr = daemon.stderr();
    assert.match(stderr, /hookd: cannot write log file .*hookd\.log/);
    await deliverToStderr("removed-again");
    assert.equal(daemon.stderr().match(/cannot write log file/g)?.length, 1);
  });

  await t.step("the directory replaced by a file: still served", async () => {
    await Deno.writeTextFile(logDir, "not a directory\n");
    await deliverToStderr("replaced");
    assert.equal(await Deno.readTextFile(logDir), "not a directory\n");
  });

  await t.step("the directory back: records return to the file", async () => {
    await Deno.remove(logDir);
    await Deno.mkdir(logDir);
    const { response } = await deliver(daemon, "push", "restored");
    assert.equal(response.status, 202);
    const record = await daemon.waitForRecord((r) => r.sourceId === "restored");
    assert.equal(record.outcome, "ignored");
    // The notice goes to stderr after the record reached the file: wait for it.
    await waitUntil(
      "stderr says the log file is writable again",
      () => /log file .*hookd\.log is writable again/.test(daemon.stderr()),
    );
    // What went to stderr is not in the file: nothing is written twice.
    const inFile = (await daemon.records()).map((r) => r.sourceId).filter(Boolean);
    assert.deepEqual(inFile, ["restored"]);
  });
});

integrationTest("a store that cannot commit: 503, nothing acknowledged and lost", async (t) => {
  await using out = await tempDir("hookd_fault_store_");
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: SECRET,
    HOOKD_GH_HOOK_PUSH: `cat > "${out.path}/$HOOKD_DELIVERY_ID"`,
  });
  const body = JSON.stringify({ ref: "refs/heads/main", after: "c0ffee" });
  const file = storePath(daemon.stateDir);

  await t.step("while another process holds the write lock: 503 with Retry-After", async () => {
    const lock = new DatabaseSync(file);
    try {
      lock.exec("BEGIN IMMEDIATE");
      for (let attempt = 1; attempt <= 2; attempt++) {
        const { response, answer } = await deliver(daemon, "push", "held", body);
        assert.equal(response.status, 503, JSON.stringify(answer));
        assert.match(response.headers.get("Retry-After") ?? "", /^[1-9]\d*$/);
        assert.equal(answer.id, undefined);
      }
      lock.exec("ROLLBACK");
    } finally {
      lock.close();
    }
    const refused = await recordsWhen(daemon, (r) => r.type === "request", 2);
    assert.deepEqual(refused.map((r) => [r.status, r.outcome]), [
      [503, "rejected.store_unavailable"],
      [503, "rejected.store_unavailable"],
    ]);
  });

  await t.step({
    name: "while the store waits for the lock, other requests are still answered",
    fn: async () => {
      const lock = new DatabaseSync(file);
      try {
        lock.exec("BEGIN IMMEDIATE");
        let settled = false;
        const insert = deliver(daemon, "push", "waits", body).finally(() => settled = true);
        // Ask for a 404 again and again until the insert gives up. A daemon
        // whose event loop stood still in the lock wait would answer them only
        // after the insert's 503: count those answered while it still waited.
        let answeredWhileWaiting = 0;
        while (!settled) {
          const probe = await fetch(`${daemon.url}/not-a-hook`);
          await probe.body?.cancel();
          assert.equal(probe.status, 404);
          if (!settled) answeredWhileWaiting++;
        }
        assert.equal((await insert).response.status, 503);
        assert.ok(
          answeredWhileWaiting >= MIN_ANSWERED_WHILE_WAITING,
          `only ${answeredWhileWaiting} requests answered while the insert waited for the lock`,
        );
        lock.exec("ROLLBACK");
      } finally {
        lock.close();
      }
    },
  });

  await t.step("released: the sender's retry is accepted, stored once, and run", async () => {
    const { response, answer } = await deliver(daemon, "push", "held", body);
    assert.equal(response.status, 202, JSON.stringify(answer));
    assert.equal(answer.duplicate, undefined);
    assert.equal(await waitForFile(`${out.path}/${answer.id}`), body);
    const again = await deliver(daemon, "push", "held", body);
    assert.equal(again.response.status, 200);
    assert.equal(again.answer.duplicate, true);
    assert.equal(again.answer.id, answer.id);
  });

  await t.step("every stored delivery was acknowledged, and only those", async () => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const rows = db.prepare("SELECT id, source_id FROM deliveries").all();
      assert.equal(rows.length, 1);
      assert.equal(rows[0].source_id, "held");
    } finally {
      db.close();
    }
    const ran = [];
    for await (const entry of Deno.readDir(out.path)) ran.push(entry.name);
    assert.equal(ran.length, 1);
  });
});

const SHIM_SOURCE = new URL("./fixtures/erofs_writes.c", import.meta.url).pathname;

/** Compile the read-only shim into `dir`; returns the shared object's path. */
async function buildErofsShim(dir: string): Promise<string> {
  const shim = `${dir}/erofs_writes.so`;
  const cc = await new Deno.Command("cc", {
    args: ["-shared", "-fPIC", "-O2", "-o", shim, SHIM_SOURCE, "-ldl"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(cc.success, `cc failed:\n${new TextDecoder().decode(cc.stderr)}`);
  return shim;
}

requireOrSkip(await onPath("cc") ? null : "cc is not installed (apt-get install gcc libc6-dev)", {
  name: "a read-only store: 503, and the sender's retry accepted once it is writable",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using out = await tempDir("hookd_fault_readonly_");
    await using dir = await tempDir("hookd_fault_readonly_daemon_");
    // The daemon's writes to files in its state directory fail with EROFS
    // while the switch file exists, as on a file system remounted read-only:
    // an LD_PRELOAD shim, so neither root nor chattr nor a mount is needed.
    const readOnly = `${out.path}/read-only`;
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "gh",
      HOOKD_GH_PROVIDER: "github",
      HOOKD_GH_SECRET: SECRET,
      HOOKD_GH_HOOK_PUSH: `cat > "${out.path}/$HOOKD_DELIVERY_ID"`,
    }, {
      dir: dir.path,
      processEnv: {
        LD_PRELOAD: await buildErofsShim(out.path),
        EROFS_DIR: `${dir.path}/state`,
        EROFS_SWITCH: readOnly,
      },
    });
    const first = await deliver(daemon, "push", "first");
    assert.equal(first.response.status, 202);
    assert.equal(
      await waitForFile(`${out.path}/${first.answer.id}`),
      JSON.stringify({
        event: "push",
        sourceId: "first",
      }),
    );
    const body = JSON.stringify({ ref: "refs/heads/main", after: "decade" });

    await t.step("the state directory read-only: 503 with Retry-After", async () => {
      await Deno.writeTextFile(readOnly, "");
      try {
        const { response, answer } = await deliver(daemon, "push", "read-only", body);
        assert.equal(response.status, 503, JSON.stringify(answer));
        assert.match(response.headers.get("Retry-After") ?? "", /^[1-9]\d*$/);
      } finally {
        await Deno.remove(readOnly);
      }
      const [record] = await recordsWhen(daemon, (r) => r.status === 503, 1);
      assert.equal(record.outcome, "rejected.store_unavailable");
    });

    await t.step("writable again: the retry is accepted and run", async () => {
      const { response, answer } = await deliver(daemon, "push", "read-only", body);
      assert.equal(response.status, 202, JSON.stringify(answer));
      assert.equal(await waitForFile(`${out.path}/${answer.id}`), body);
      const db = new DatabaseSync(storePath(daemon.stateDir), { readOnly: true });
      try {
        const rows = db.prepare("SELECT source_id FROM deliveries ORDER BY id").all();
        assert.deepEqual(rows.map((r) => r.source_id), ["first", "read-only"]);
      } finally {
        db.close();
      }
    });
  },
});
