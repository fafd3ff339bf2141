/**
 * End to end: the real daemon (`main.ts serve`) as a subprocess, spoken to
 * over HTTP, with real shell hooks whose effects the tests read back.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isRunning, waitUntil } from "./_proc.ts";
import {
  DAEMON_FLAGS,
  githubSignature,
  hmacHex,
  integrationTest,
  runHookd,
  startDaemon,
  taskPermissions,
  tempDir,
  waitForFile,
} from "./harness.ts";
import denoJson from "../deno.json" with { type: "json" };

const SECRET = "e2e-secret-0123456789abcdef";

function githubEnv(out: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOOKD_ENDPOINTS: "github",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: SECRET,
    HOOKD_GITHUB_HOOK_PUSH:
      `cat > "${out}/$HOOKD_DELIVERY_ID.body"; env > "${out}/$HOOKD_DELIVERY_ID.env"; ` +
      `cp "$HOOKD_PAYLOAD_FILE" "${out}/$HOOKD_DELIVERY_ID.file"`,
    ...extra,
  };
}

async function signedPush(body: string, event = "push", delivery = crypto.randomUUID()) {
  return {
    "Content-Type": "application/json",
    "X-GitHub-Event": event,
    "X-GitHub-Delivery": delivery,
    "X-Hub-Signature-256": await githubSignature(body, SECRET),
  };
}

/** Send raw bytes and read what comes back until the server closes or `until` matches. */
async function rawExchange(port: number, request: string, until = /\r\n\r\n/): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(65536);
    let text = "";
    while (!until.test(text)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("the compile task and the tests run the daemon with the same permissions", () => {
  assert.deepEqual(taskPermissions("start"), taskPermissions("compile"));
  // README: in a checkout, `hookd X` is `deno task hookd X`, the compiled binary's permissions.
  assert.deepEqual(taskPermissions("hookd"), taskPermissions("compile"));
  assert.deepEqual(
    denoJson.tasks.hookd.split(/\s+/).filter((word) => !taskPermissions("hookd").includes(word)),
    ["deno", "run", "main.ts"],
    "the hookd task runs main.ts with the compile task's flags and nothing else",
  );
  assert.deepEqual([...DAEMON_FLAGS], taskPermissions("compile"));
});

Deno.test("the daemon may run any program, never with -A, and its other flags stay as they were", () => {
  for (const task of ["compile", "start", "hookd"] as const) {
    const words = denoJson.tasks[task].split(/\s+/);
    // Bare: hooks exec any program, and Deno.kill() on a process group needs it unrestricted.
    assert.ok(words.includes("--allow-run"), `${task}: --allow-run`);
    assert.deepEqual(words.filter((word) => word.startsWith("--allow-run=")), [], task);
    // Hooks are started with libc's posix_spawn (README: no weaker than --allow-run).
    assert.ok(words.includes("--allow-ffi"), `${task}: --allow-ffi`);
    assert.ok(!words.includes("-A") && !words.includes("--allow-all"), `${task}: never -A`);
  }
  // Every other flag stays as narrow as it was.
  assert.deepEqual(DAEMON_FLAGS.filter((flag) => !["--allow-run", "--allow-ffi"].includes(flag)), [
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "--v8-flags=--max-semi-space-size=2",
  ]);
});

Deno.test("the compile task includes every worker the daemon starts, and nothing else", async () => {
  const root = new URL("../", import.meta.url);
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
  const included = [...tasks.compile.matchAll(/--include\s+(\S+)/g)].map((m) => m[1]);
  const workers: string[] = [];
  async function scan(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) await scan(`${path}/`);
      else if (path.endsWith(".ts")) {
        const text = await Deno.readTextFile(new URL(path, root));
        for (const m of text.matchAll(/new Worker\(new URL\("\.\/([^"]+)"/g)) {
          workers.push(`${dir}${m[1]}`);
        }
      }
    }
  }
  await scan("lib/");
  // deno compile leaves out a worker's module unless --include names it; one naming no worker is
  // left over.
  assert.deepEqual(included.sort(), workers.sort());
});

integrationTest(
  "a signed GitHub push runs its hook with the exact body and environment",
  async (t) => {
    await using out = await tempDir();
    await using daemon = await startDaemon({ ...githubEnv(out.path), HOOKD_HOOK_ENV: "LANG" }, {
      processEnv: { LANG: "C.UTF-8", LEAK_ME: "must-not-reach-hooks" },
    });
    const body = JSON.stringify({ ref: "refs/heads/main", pad: "é".repeat(3000) });
    const delivery = crypto.randomUUID();

    const response = await daemon.post("github", body, await signedPush(body, "push", delivery));
    assert.equal(response.status, 202);
    const answer = await response.json();
    assert.deepEqual(Object.keys(answer).sort(), ["endpoint", "event", "hook", "id"]);
    assert.equal(answer.event, "push");
    assert.equal(answer.hook, "HOOKD_GITHUB_HOOK_PUSH");

    await t.step("the hook got the exact body on stdin and in HOOKD_PAYLOAD_FILE", async () => {
      assert.equal(await waitForFile(`${out.path}/${answer.id}.body`, (t) => t === body), body);
      assert.equal(await waitForFile(`${out.path}/${answer.id}.file`, (t) => t === body), body);
    });

    await t.step("the hook's environment is the documented allow-list", async () => {
      const text = await waitForFile(
        `${out.path}/${answer.id}.env`,
        (t) => t.includes("HOOKD_EVENT"),
      );
      const env = Object.fromEntries(
        text.trim().split("\n").map((
          line,
        ) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      assert.equal(env.HOOKD_ENDPOINT, "github");
      assert.equal(env.HOOKD_EVENT, "push");
      assert.equal(env.HOOKD_DELIVERY_ID, answer.id);
      assert.equal(env.HOOKD_SOURCE_DELIVERY_ID, delivery);
      assert.equal(env.HOOKD_CONTENT_TYPE, "application/json");
      assert.match(env.HOOKD_PAYLOAD_FILE, /hookd-payload-/);
      assert.equal(env.LANG, "C.UTF-8");
      assert.equal(env.LEAK_ME, undefined, "unlisted variables are not inherited");
      assert.ok(!text.includes(SECRET), "the secret never reaches a hook");
      assert.ok(
        !Object.keys(env).some((k) => k.startsWith("HOOKD_GITHUB")),
      );
    });

    await t.step("the payload file is removed after the run", async () => {
      const record = await daemon.waitForRecord((r) => r.type === "hook" && r.id === answer.id);
      assert.equal(record.exitCode, 0);
      const left = [...Deno.readDirSync(`${daemon.stateDir}/payloads`)];
      assert.deepEqual(left, []);
    });
  },
);

integrationTest("bad requests are refused precisely and run nothing", async (t) => {
  await using out = await tempDir();
  await using daemon = await startDaemon({
    ...githubEnv(out.path),
    HOOKD_GITHUB_HOOK_DEFAULT: `touch "${out.path}/ran-$HOOKD_DELIVERY_ID"`,
    HOOKD_MAX_BODY_BYTES: "65536",
  });
  const body = JSON.stringify({ ref: "refs/heads/main" });

  await t.step("a wrong signature is 401", async () => {
    const headers = {
      ...await signedPush(body),
      "X-Hub-Signature-256": await githubSignature(body, "wrong-secret"),
    };
    const response = await daemon.post("github", body, headers);
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { error: "Invalid signature" });
  });

  await t.step("a missing signature is 401", async () => {
    const headers: Record<string, string> = await signedPush(body);
    delete headers["X-Hub-Signature-256"];
    const response = await daemon.post("github", body, headers);
    assert.equal(response.status, 401);
    await response.body?.cancel();
  });

  await t.step("a body changed after signing is 401", async () => {
    const headers = await signedPush(body);
    const response = await daemon.post("github", body.replace("main", "mainx"), headers);
    assert.equal(response.status, 401);
    await response.body?.cancel();
  });

  await t.step("an unknown endpoint is 404 and another method is 405 with Allow", async () => {
    const unknown = await daemon.post("gitlab", body, await signedPush(body));
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const get = await fetch(`${daemon.url}/hooks/github`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    await get.body?.cancel();
  });

  await t.step("a declared 50 MB body gets 413 though the client never sends it", async () => {
    const answer = await rawExchange(
      daemon.port,
      "POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        "Content-Length: 52428800\r\n\r\n",
    );
    assert.match(answer, /^HTTP\/1\.1 413 /);
  });

  await t.step("a chunked body over the limit gets 413", async () => {
    const chunk = "x".repeat(16384);
    let request = "POST /hooks/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (let i = 0; i < 5; i++) request += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    const answer = await rawExchange(daemon.port, request);
    assert.match(answer, /^HTTP\/1\.1 413 /);
  });

  await t.step("each refusal is one log record, and no hook ran", async () => {
    await daemon.waitForRecord((r) =>
      r.type === "request" && r.status === 413 && r.outcome === "rejected.too_large"
    );
    const requests = (await daemon.records()).filter((r) => r.type === "request");
    assert.deepEqual(
      requests.map((r) => r.status),
      [401, 401, 401, 404, 405, 413, 413],
    );
    assert.deepEqual([...Deno.readDirSync(out.path)], []);
  });

  await t.step("the daemon still serves after all that", async () => {
    const response = await daemon.post("github", body, await signedPush(body));
    assert.equal(response.status, 202);
    await response.body?.cancel();
  });
});

integrationTest("NetBox and IP Fabric deliveries route to their hooks by event", async () => {
  await using out = await tempDir();
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "netbox,ipf",
    HOOKD_NETBOX_PROVIDER: "netbox",
    HOOKD_NETBOX_SECRET: "netbox-secret-123456",
    HOOKD_NETBOX_HOOK_SITE_CREATED: `echo "$HOOKD_EVENT" > "${out.path}/netbox-site"`,
    HOOKD_NETBOX_HOOK_DEFAULT: `echo "$HOOKD_EVENT" > "${out.path}/netbox-default"`,
    HOOKD_IPF_PROVIDER: "ipfabric",
    HOOKD_IPF_SECRET: "ipf-secret-123456789",
    HOOKD_IPF_HOOK_SNAPSHOT_DISCOVER: `echo "$HOOKD_EVENT" > "${out.path}/ipf-discover"`,
  });
  const site = JSON.stringify({ event: "created", model: "site", data: { id: 1 } });
  const device = JSON.stringify({ event: "updated", model: "device", data: { id: 2 } });
  for (const body of [site, device]) {
    const response = await daemon.post("netbox", body, {
      "Content-Type": "application/json",
      "X-Hook-Signature": await hmacHex("SHA-512", "netbox-secret-123456", body),
    });
    assert.equal(response.status, 202);
    await response.body?.cancel();
  }
  const snapshot = JSON.stringify({ type: "snapshot", action: "discover", status: "completed" });
  const ipf = await daemon.post("ipf", snapshot, {
    "Content-Type": "application/json",
    "X-IPF-Signature": await hmacHex("SHA-256", "ipf-secret-123456789", snapshot),
  });
  assert.equal(ipf.status, 202);
  assert.equal((await ipf.json()).hook, "HOOKD_IPF_HOOK_SNAPSHOT_DISCOVER");

  assert.equal((await waitForFile(`${out.path}/netbox-site`)).trim(), "site.created");
  assert.equal((await waitForFile(`${out.path}/netbox-default`)).trim(), "device.updated");
  assert.equal(
    (await waitForFile(`${out.path}/ipf-discover`)).trim(),
    "snapshot.discover.completed",
  );
});

integrationTest("the most specific hook wins, then the prefix, then the default", async () => {
  await using out = await tempDir();
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "github",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: SECRET,
    HOOKD_GITHUB_HOOK_PULL_REQUEST_OPENED: `echo opened >> "${out.path}/$HOOKD_SOURCE_DELIVERY_ID"`,
    HOOKD_GITHUB_HOOK_PULL_REQUEST: `echo pr >> "${out.path}/$HOOKD_SOURCE_DELIVERY_ID"`,
    HOOKD_GITHUB_HOOK_DEFAULT: `echo default >> "${out.path}/$HOOKD_SOURCE_DELIVERY_ID"`,
  });
  const cases = [
    ["pull_request", { action: "opened" }, "opened"],
    ["pull_request", { action: "closed" }, "pr"],
    ["issues", { action: "opened" }, "default"],
  ] as const;
  for (const [event, payload, expected] of cases) {
    // A distinct body each: GitHub signs the body only, so a repeated one is a duplicate.
    const body = JSON.stringify({ ...payload, event });
    const id = crypto.randomUUID();
    const response = await daemon.post("github", body, await signedPush(body, event, id));
    assert.equal(response.status, 202);
    await response.body?.cancel();
    assert.equal((await waitForFile(`${out.path}/${id}`)).trim(), expected);
  }
});

integrationTest("an event with no hook is accepted and logged as ignored", async () => {
  await using out = await tempDir();
  await using daemon = await startDaemon(githubEnv(out.path));
  const body = JSON.stringify({ zen: "Keep it logically awesome." });
  const response = await daemon.post("github", body, await signedPush(body, "ping"));
  assert.equal(response.status, 202);
  const answer = await response.json();
  assert.equal(answer.hook, null);
  const record = await daemon.waitForRecord((r) => r.type === "request" && r.id === answer.id);
  assert.equal(record.outcome, "ignored");
});

integrationTest("no more than HOOKD_MAX_CONCURRENT_HOOKS hooks run at once", async () => {
  await using out = await tempDir();
  const ledger = `${out.path}/ledger`;
  const gates = `${out.path}/gates`;
  await Deno.mkdir(gates);
  // Each hook notes its start, then holds its slot until the test opens its gate.
  await using daemon = await startDaemon({
    ...githubEnv(out.path),
    HOOKD_MAX_CONCURRENT_HOOKS: "2",
    HOOKD_GITHUB_HOOK_PUSH: [
      `printf 'start %s\\n' "$HOOKD_DELIVERY_ID" >> "${ledger}"`,
      `until [ -e "${gates}/$HOOKD_DELIVERY_ID" ] || [ -e "${gates}/all" ]; do sleep 0.02; done`,
      `printf 'end %s\\n' "$HOOKD_DELIVERY_ID" >> "${ledger}"`,
    ].join("; "),
  });
  const hooks = 6;
  const responses = await Promise.all(
    Array.from({ length: hooks }, async (_, i) => {
      // A distinct body each: GitHub signs the body only, so a repeated one is a duplicate.
      const body = JSON.stringify({ ref: "refs/heads/main", after: String(i) });
      return daemon.post("github", body, await signedPush(body));
    }),
  );
  for (const response of responses) {
    assert.equal(response.status, 202);
    await response.body?.cancel();
  }
  /** The hooks started and not ended, in the ledger's order, and how many ended. */
  const ledgerState = (text: string) => {
    const running: string[] = [];
    let ended = 0;
    for (const line of text.split("\n").filter((l) => l !== "")) {
      const [what, id] = line.split(" ");
      if (what === "start") running.push(id);
      else {
        running.splice(running.indexOf(id), 1);
        ended++;
      }
      assert.ok(running.length <= 2, `more than 2 hooks at once:\n${text}`);
    }
    return { running, ended };
  };
  // Round by round: wait until the cap is reached (or all that remain run),
  // then let the oldest go. Held hooks never end by themselves, so a third
  // start, had the cap let one through, is in the ledger before any end.
  // Should the test fail, every gate opens, so the daemon stops at once.
  using _openAll = { [Symbol.dispose]: () => Deno.writeTextFileSync(`${gates}/all`, "") };
  for (let ended = 0; ended < hooks;) {
    const expected = Math.min(2, hooks - ended);
    const text = await waitForFile(
      ledger,
      (t) => ledgerState(t).running.length === expected,
      30_000,
    );
    const [oldest] = ledgerState(text).running;
    await Deno.writeTextFile(`${gates}/${oldest}`, "");
    const after = await waitForFile(ledger, (t) => t.includes(`end ${oldest}\n`), 30_000);
    ended = ledgerState(after).ended;
  }
  const text = await Deno.readTextFile(ledger);
  assert.equal(text.split("\n").filter((l) => l.startsWith("start")).length, hooks);
  assert.deepEqual(ledgerState(text).running, []);
});

integrationTest(
  "a hook over its time limit is killed with its children and logged as timed out",
  async () => {
    await using out = await tempDir();
    await using daemon = await startDaemon({
      ...githubEnv(out.path),
      HOOKD_GITHUB_TIMEOUT: "1s",
      HOOKD_GITHUB_HOOK_PUSH: `sleep 300 & echo $! > "${out.path}/child"; wait`,
    });
    const body = JSON.stringify({ ref: "refs/heads/main" });
    const response = await daemon.post("github", body, await signedPush(body));
    const { id } = await response.json();
    const record = await daemon.waitForRecord((r) => r.type === "hook" && r.id === id);
    assert.equal(record.timedOut, true);
    const child = (await waitForFile(`${out.path}/child`)).trim();
    // A zombie waits for its reaper; it runs no more.
    await waitUntil("the hook's child is gone", () => !isRunning(Number(child)));
  },
);

integrationTest("secrets, signatures and bodies never reach the log", async () => {
  await using out = await tempDir();
  await using daemon = await startDaemon({
    ...githubEnv(out.path),
    HOOKD_GITHUB_SECRET_PREVIOUS: "previous-secret-abcdef",
  });
  const body = JSON.stringify({ ref: "refs/heads/main", marker: "BODY-MARKER-123" });
  const headers = await signedPush(body);
  const ok = await daemon.post("github", body, headers);
  const { id } = await ok.json();
  const bad = await daemon.post("github", body, {
    ...headers,
    "X-Hub-Signature-256": "sha256=" + "ab".repeat(32),
  });
  await bad.body?.cancel();
  await daemon.waitForRecord((r) => r.type === "hook" && r.id === id);
  await daemon.stop();
  const text = await Deno.readTextFile(daemon.logFile);
  for (
    const secret of [
      SECRET,
      "previous-secret-abcdef",
      headers["X-Hub-Signature-256"],
      "ab".repeat(32),
      "BODY-MARKER-123",
    ]
  ) {
    assert.ok(!text.includes(secret), `the log holds ${secret}`);
    assert.ok(!daemon.stderr().includes(secret), `stderr holds ${secret}`);
  }
});

integrationTest(
  "the log rotates at its size limit and keeps at most HOOKD_LOG_MAX_FILES files",
  async () => {
    await using out = await tempDir();
    await using daemon = await startDaemon({
      ...githubEnv(out.path),
      HOOKD_LOG_MAX_BYTES: "4096",
      HOOKD_LOG_MAX_FILES: "3",
    });
    for (let i = 0; i < 60; i++) {
      const response = await fetch(`${daemon.url}/hooks/nowhere-${i}`, { method: "POST" });
      await response.body?.cancel();
    }
    await daemon.stop();
    const files = [...Deno.readDirSync(`${daemon.dir}/log`)].map((e) => e.name).sort();
    assert.deepEqual(files, ["hookd.log", "hookd.log.1", "hookd.log.2"]);
    for (const name of files) {
      assert.ok(
        Deno.statSync(`${daemon.dir}/log/${name}`).size <= 4096 + 1024,
        `${name} near its limit`,
      );
    }
  },
);

Deno.test("hookd check names the variable at fault and exits 1", async () => {
  await using dir = await tempDir();
  const envFile = `${dir.path}/broken.env`;
  await Deno.writeTextFile(
    envFile,
    "HOOKD_ENDPOINTS=github,netbox\nHOOKD_GITHUB_PROVIDER=github\nHOOKD_GITHUB_SECERT=x\n" +
      "HOOKD_MAX_BODY_BYTES=lots\n",
    { mode: 0o600 },
  );
  const result = await runHookd(["check", "--env-file", envFile]);
  const stderr = result.stderr;
  assert.equal(result.code, 1);
  assert.match(
    stderr,
    /HOOKD_GITHUB_SECERT is not a hookd variable: did you mean HOOKD_GITHUB_SECRET\?/,
  );
  assert.match(stderr, /HOOKD_GITHUB_SECRET is not set/);
  assert.match(stderr, /HOOKD_ENDPOINTS lists "netbox" but no HOOKD_NETBOX_\* variable is set/);
  assert.match(stderr, /HOOKD_MAX_BODY_BYTES is "lots", not a whole number/);
  assert.ok(!stderr.includes("\n    at "), "no stack trace");
});
