/**
 * Tests for running one hook: its stdin, environment and payload file, its exit
 * status and bounded output, its time-out and abort, and the cleanup of its
 * process group.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runHook, type RunHookOptions } from "../../lib/dispatch/mod.ts";
import { isRunning, waitUntil } from "../_proc.ts";

const PATH = "/usr/local/bin:/usr/bin:/bin";
const encoder = new TextEncoder();

interface TempDir extends AsyncDisposable {
  path: string;
}

async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "hook_runner_test_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** Options for a hook that writes its evidence into `dir` (passed as $OUT). */
function optionsFor(
  dir: string,
  extra: Partial<RunHookOptions> = {},
): RunHookOptions {
  return {
    env: { PATH, OUT: dir },
    stdin: new Uint8Array(),
    timeoutMs: 10_000,
    payloadDir: dir,
    killGraceMs: 1000,
    ...extra,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Kills are asynchronous: wait until `pid` has stopped running. */
async function stops(pid: number): Promise<void> {
  await waitUntil(`sleep ${pid} stops`, () => !isRunning(pid));
}

async function readPid(path: string): Promise<number> {
  const pid = Number((await Deno.readTextFile(path)).trim());
  assert.ok(Number.isInteger(pid) && pid > 1, `expected a pid in ${path}`);
  return pid;
}

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n").filter((l) => l !== "")) {
    const at = line.indexOf("=");
    env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

Deno.test("runHook() writes the exact body bytes to the hook's stdin", async () => {
  await using dir = await tempDir();
  // Every byte value, and more than a pipe buffer holds.
  const body = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
  const result = await runHook(
    'cat > "$OUT/stdin"',
    optionsFor(dir.path, { stdin: body }),
  );
  assert.equal(result.success, true, result.stderr);
  assert.deepEqual(await Deno.readFile(`${dir.path}/stdin`), body);
});

Deno.test("runHook() gives the hook exactly the environment it was passed", async (t) => {
  await using dir = await tempDir();
  Deno.env.set("HOOK_RUNNER_TEST_LEAK", "must not reach the hook");
  const env = { PATH, OUT: dir.path, HOOKD_EVENT: "push", SPACED: "a b=c" };
  const body = encoder.encode('{"secret-body":"do-not-put-on-argv"}');
  const result = await runHook(
    [
      'env > "$OUT/env"',
      'stat -c %a "$HOOKD_PAYLOAD_FILE" > "$OUT/mode"',
      'cat "$HOOKD_PAYLOAD_FILE" > "$OUT/payload"',
      'tr "\\0" " " < /proc/$$/cmdline > "$OUT/cmdline"',
    ].join("; "),
    optionsFor(dir.path, { env, stdin: body }),
  );
  Deno.env.delete("HOOK_RUNNER_TEST_LEAK");
  assert.equal(result.success, true, result.stderr);
  const seen = parseEnv(await Deno.readTextFile(`${dir.path}/env`));
  const payloadFile = seen.HOOKD_PAYLOAD_FILE;

  await t.step("nothing inherited, only HOOKD_PAYLOAD_FILE added", () => {
    // dash exports PWD itself; it is not inherited from hookd.
    delete seen.PWD;
    assert.deepEqual(seen, { ...env, HOOKD_PAYLOAD_FILE: payloadFile });
  });

  await t.step(
    "the payload file was private, held the body and is gone",
    async () => {
      assert.ok(
        payloadFile.startsWith(`${dir.path}/hookd-payload-`),
        payloadFile,
      );
      assert.equal((await Deno.readTextFile(`${dir.path}/mode`)).trim(), "600");
      assert.deepEqual(await Deno.readFile(`${dir.path}/payload`), body);
      assert.equal(await exists(payloadFile), false);
    },
  );

  await t.step("the body is not on the hook's command line", async () => {
    const cmdline = await Deno.readTextFile(`${dir.path}/cmdline`);
    assert.ok(cmdline.startsWith("/bin/sh -c "), cmdline);
    assert.equal(cmdline.includes("do-not-put-on-argv"), false);
  });
});

Deno.test("runHook() reports the exit code and output", async (t) => {
  await using dir = await tempDir();

  await t.step("exit 0 is success", async () => {
    const result = await runHook(
      "printf 'h\\303\\251llo'; echo oops >&2",
      optionsFor(dir.path),
    );
    assert.equal(result.success, true);
    assert.equal(result.exitCode, 0);
    assert.equal(result.signal, null);
    assert.equal(result.stdout, "héllo");
    assert.equal(result.stderr, "oops\n");
    assert.equal(result.timedOut, false);
    assert.equal(result.aborted, false);
    assert.equal(result.error, undefined);
    assert.equal(
      result.durationMs >= 0 && result.endedAt >= result.startedAt,
      true,
    );
  });

  await t.step("a non-zero exit is a failure with its code", async () => {
    const result = await runHook("exit 3", optionsFor(dir.path));
    assert.equal(result.success, false);
    assert.equal(result.exitCode, 3);
    assert.equal(result.signal, null);
    assert.equal(result.error, undefined);
  });

  await t.step("an exit code above 128 is a code, not a signal", async () => {
    // What a shell returns when its last command died of SIGKILL: the shell itself exited.
    const result = await runHook("sh -c 'kill -9 $$'; exit $?", optionsFor(dir.path));
    assert.equal(result.success, false);
    assert.equal(result.exitCode, 137);
    assert.equal(result.signal, null);
  });

  await t.step("a hook killed by a signal reports the signal", async () => {
    for (const [name, code] of [["KILL", "SIGKILL"], ["TERM", "SIGTERM"], ["INT", "SIGINT"]]) {
      const result = await runHook(`kill -s ${name} $$`, optionsFor(dir.path));
      assert.equal(result.success, false);
      assert.equal(result.exitCode, null);
      assert.equal(result.signal, code);
    }
  });

  await t.step("a command that does not exist exits 127", async () => {
    const result = await runHook("/nonexistent/x", optionsFor(dir.path));
    assert.equal(result.success, false);
    assert.equal(result.exitCode, 127);
    assert.match(result.stderr, /nonexistent\/x/);
  });

  await t.step(
    "a hook that ignores a large stdin is not an error",
    async () => {
      const result = await runHook(
        "exit 0",
        optionsFor(dir.path, { stdin: new Uint8Array(1_000_000) }),
      );
      assert.equal(result.success, true);
      assert.equal(result.error, undefined);
    },
  );
});

Deno.test("runHook() keeps only the first outputLimitBytes of each stream", async (t) => {
  await using dir = await tempDir();

  await t.step("10 MB of output is read, cut and flagged", async () => {
    const result = await runHook(
      "head -c 10000000 /dev/zero; printf small >&2",
      optionsFor(dir.path, { outputLimitBytes: 1000 }),
    );
    assert.equal(result.success, true);
    assert.equal(result.stdout, "\0".repeat(1000));
    assert.equal(result.stdoutTruncated, true);
    assert.equal(result.stderr, "small");
    assert.equal(result.stderrTruncated, false);
  });

  await t.step("output exactly at the limit is not truncated", async () => {
    const result = await runHook(
      "printf abc",
      optionsFor(dir.path, { outputLimitBytes: 3 }),
    );
    assert.equal(result.stdout, "abc");
    assert.equal(result.stdoutTruncated, false);
  });

  await t.step("one byte over the limit is truncated", async () => {
    const result = await runHook(
      "printf abcd",
      optionsFor(dir.path, { outputLimitBytes: 3 }),
    );
    assert.equal(result.stdout, "abc");
    assert.equal(result.stdoutTruncated, true);
  });

  await t.step("the default limit is 64 KiB", async () => {
    const result = await runHook(
      "head -c 100000 /dev/zero",
      optionsFor(dir.path),
    );
    assert.equal(result.stdout.length, 65536);
    assert.equal(result.stdoutTruncated, true);
  });
});

Deno.test("runHook() terminates a hook that runs past its time-out", async (t) => {
  await using dir = await tempDir();

  await t.step("SIGTERM ends it", async () => {
    const result = await runHook(
      "sleep 30",
      optionsFor(dir.path, { timeoutMs: 200 }),
    );
    assert.equal(result.timedOut, true);
    assert.equal(result.aborted, false);
    assert.equal(result.success, false);
    assert.equal(result.signal, "SIGTERM");
    assert.ok(result.durationMs < 10_000, `took ${result.durationMs} ms`);
  });

  await t.step("SIGKILL follows when SIGTERM is ignored", async () => {
    const result = await runHook(
      "trap '' TERM; sleep 30",
      optionsFor(dir.path, { timeoutMs: 200, killGraceMs: 300 }),
    );
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, "SIGKILL");
    assert.ok(result.durationMs < 10_000, `took ${result.durationMs} ms`);
  });

  await t.step("its background children are killed too", async () => {
    const result = await runHook(
      'sleep 300 & echo $! > "$OUT/pid"; sleep 30',
      optionsFor(dir.path, { timeoutMs: 300 }),
    );
    assert.equal(result.timedOut, true);
    const pid = await readPid(`${dir.path}/pid`);
    await stops(pid);
  });

  await t.step("the payload file is removed after a time-out", async () => {
    const result = await runHook(
      'echo "$HOOKD_PAYLOAD_FILE" > "$OUT/name"; sleep 30',
      optionsFor(dir.path, { timeoutMs: 300 }),
    );
    assert.equal(result.timedOut, true);
    const name = (await Deno.readTextFile(`${dir.path}/name`)).trim();
    assert.ok(name.startsWith(`${dir.path}/hookd-payload-`), name);
    assert.equal(await exists(name), false);
  });
});

Deno.test("runHook() returns when the shell exits, killing what it left running", async (t) => {
  await using dir = await tempDir();

  await t.step("a background child holding stdout open", async () => {
    const result = await runHook(
      'sleep 300 & echo $! > "$OUT/pid"; echo done',
      optionsFor(dir.path, { timeoutMs: 20_000 }),
    );
    assert.equal(result.success, true);
    assert.equal(result.timedOut, false);
    assert.equal(result.stdout, "done\n");
    assert.ok(result.durationMs < 10_000, `took ${result.durationMs} ms`);
    const pid = await readPid(`${dir.path}/pid`);
    await stops(pid);
  });

  await t.step(
    "a background child that ignores SIGTERM and closed its output",
    async () => {
      const result = await runHook(
        '(trap "" TERM; exec sleep 300) >/dev/null 2>&1 & echo $! > "$OUT/pid2"',
        optionsFor(dir.path, { killGraceMs: 300 }),
      );
      assert.equal(result.success, true);
      const pid = await readPid(`${dir.path}/pid2`);
      await stops(pid);
    },
  );

  await t.step("a grandchild whose parent exited first", async () => {
    // Orphaned before the hook ends, it is no longer the shell's child, only in its group.
    const result = await runHook(
      '(sleep 300 >/dev/null 2>&1 & echo $! > "$OUT/pid3")',
      optionsFor(dir.path),
    );
    assert.equal(result.success, true);
    const pid = await readPid(`${dir.path}/pid3`);
    await stops(pid);
  });
});

Deno.test("runHook() stops the hook when the abort signal fires", async (t) => {
  await using dir = await tempDir();

  await t.step("during the run", async () => {
    const controller = new AbortController();
    const running = runHook(
      'sleep 300 & echo $! > "$OUT/pid"; : > "$OUT/started"; sleep 30',
      optionsFor(dir.path, { signal: controller.signal, timeoutMs: 20_000 }),
    );
    await waitUntil("the hook starts", () => exists(`${dir.path}/started`));
    controller.abort();
    const result = await running;
    assert.equal(result.aborted, true);
    assert.equal(result.timedOut, false);
    assert.equal(result.success, false);
    assert.equal(result.signal, "SIGTERM");
    const pid = await readPid(`${dir.path}/pid`);
    await stops(pid);
    await Deno.remove(`${dir.path}/started`);
  });

  await t.step("before the run: the hook never starts", async () => {
    const result = await runHook(
      ': > "$OUT/ran"',
      optionsFor(dir.path, { signal: AbortSignal.abort() }),
    );
    assert.equal(result.aborted, true);
    assert.equal(result.success, false);
    assert.equal(result.exitCode, null);
    assert.equal(await exists(`${dir.path}/ran`), false);
  });
});

Deno.test("runHook() writes a large payload file privately too, and removes it", async () => {
  await using dir = await tempDir();
  // Past 64 KiB the file is written asynchronously; the guarantees are the same.
  const body = new Uint8Array(200_000).map((_, i) => (i * 13) % 256);
  const result = await runHook(
    [
      'echo "$HOOKD_PAYLOAD_FILE" > "$OUT/name"',
      'stat -c %a "$HOOKD_PAYLOAD_FILE" > "$OUT/mode"',
      'cat "$HOOKD_PAYLOAD_FILE" > "$OUT/payload"',
    ].join("; "),
    optionsFor(dir.path, { stdin: body }),
  );
  assert.equal(result.success, true, result.stderr);
  assert.equal((await Deno.readTextFile(`${dir.path}/mode`)).trim(), "600");
  assert.deepEqual(await Deno.readFile(`${dir.path}/payload`), body);
  assert.equal(await exists((await Deno.readTextFile(`${dir.path}/name`)).trim()), false);
});

Deno.test("runHook() gives concurrent runs their own payload files", async () => {
  await using dir = await tempDir();
  const runs = ["a", "b", "c", "d"].map((name) =>
    runHook(`cat "$HOOKD_PAYLOAD_FILE" > "$OUT/${name}"; echo "$HOOKD_PAYLOAD_FILE"`, {
      ...optionsFor(dir.path, { stdin: encoder.encode(name) }),
    })
  );
  const results = await Promise.all(runs);
  assert.equal(new Set(results.map((r) => r.stdout)).size, 4);
  for (const name of ["a", "b", "c", "d"]) {
    assert.equal(await Deno.readTextFile(`${dir.path}/${name}`), name);
  }
  const left = [];
  for await (const entry of Deno.readDir(dir.path)) {
    if (entry.name.startsWith("hookd-payload-")) left.push(entry.name);
  }
  assert.deepEqual(left, []);
});

Deno.test("runHook() tells onSpawn each run's group and when it was started", async () => {
  await using dir = await tempDir();
  const groups: { pgid: number; leaderStartTime: number }[] = [];
  const before = Date.now();
  const result = await runHook(
    'echo "$$" > "$OUT/leader"',
    optionsFor(dir.path, { onSpawn: (group) => groups.push(group) }),
  );
  assert.equal(result.success, true, result.stderr);
  const leader = await readPid(`${dir.path}/leader`);
  assert.equal(groups.length, 1);
  assert.equal(groups[0].pgid, leader, "the shell is the group's leader");
  assert.ok(groups[0].leaderStartTime >= before && groups[0].leaderStartTime <= result.endedAt);
});

Deno.test("runHook() gives a hook the same things with or without a shell", async () => {
  await using dir = await tempDir();
  // The same program either way: directly, and through /bin/sh -c (a quote makes it a shell line).
  const script = `${dir.path}/see.sh`;
  await Deno.writeTextFile(
    script,
    [
      "#!/bin/sh",
      'out="$OUT/$1"; mkdir "$out"',
      'env | grep -v "^PWD=" | sort > "$out/env"',
      'cat > "$out/stdin"',
      'cat "$HOOKD_PAYLOAD_FILE" > "$out/payload"',
      'stat -c %a "$HOOKD_PAYLOAD_FILE" > "$out/mode"',
      'read -r stat < /proc/$$/stat; stat=${stat##*") "}; set -- $stat',
      'echo "$3 $4" > "$out/group"',
      "printf 'out\\n'; printf 'err\\n' >&2; exit 7",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const env = { PATH, OUT: dir.path, HOOKD_EVENT: "push", SPACED: "a b=c" };
  const body = new Uint8Array(100_000).map((_, i) => (i * 11) % 256);
  const direct = await runHook(`${script} direct`, optionsFor(dir.path, { env, stdin: body }));
  const shell = await runHook(`${script} 'shell'`, optionsFor(dir.path, { env, stdin: body }));
  const seen = async (name: string) => ({
    env: (await Deno.readTextFile(`${dir.path}/${name}/env`)).replace(
      /^HOOKD_PAYLOAD_FILE=.*$/m,
      "HOOKD_PAYLOAD_FILE=…",
    ),
    stdin: await Deno.readFile(`${dir.path}/${name}/stdin`),
    payload: await Deno.readFile(`${dir.path}/${name}/payload`),
    mode: await Deno.readTextFile(`${dir.path}/${name}/mode`),
  });
  /** The hook's process group and session: one, led by the hook (or by its shell). */
  const groupOf = async (name: string) => {
    const [pgrp, session] = (await Deno.readTextFile(`${dir.path}/${name}/group`)).split(" ");
    assert.equal(Number(pgrp), Number(session), `${name} leads a session of its own`);
    return Number(pgrp);
  };
  const ownGroup = Number(Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ")[2]);
  assert.notEqual(await groupOf("direct"), ownGroup);
  assert.notEqual(await groupOf("shell"), ownGroup);
  const sawDirect = await seen("direct");
  assert.deepEqual(sawDirect, await seen("shell"));
  assert.deepEqual(sawDirect.stdin, body);
  assert.deepEqual(sawDirect.payload, body);
  assert.equal(sawDirect.mode, "600\n");
  assert.match(sawDirect.env, /^SPACED=a b=c$/m);
  const outcome = (r: typeof direct) => [r.exitCode, r.signal, r.success, r.stdout, r.stderr];
  assert.deepEqual(outcome(direct), [7, null, false, "out\n", "err\n"]);
  assert.deepEqual(outcome(shell), outcome(direct));
});

Deno.test("runHook() reports a program that cannot be started as sh would", async (t) => {
  await using dir = await tempDir();
  const notExecutable = `${dir.path}/not-executable.sh`;
  await Deno.writeTextFile(notExecutable, "#!/bin/sh\n", { mode: 0o644 });

  await t.step("a missing program: exit 127, not found", async () => {
    for (const command of ["/nonexistent/x.sh --fast", "no-such-program-hookd arg"]) {
      const result = await runHook(command, optionsFor(dir.path));
      const program = command.split(" ")[0];
      assert.equal(result.exitCode, 127, command);
      assert.equal(result.success, false);
      assert.equal(result.stderr, `hookd: ${program}: not found\n`);
    }
  });

  await t.step("a program that is not executable: exit 126, permission denied", async () => {
    for (const command of [notExecutable, dir.path]) {
      const result = await runHook(command, optionsFor(dir.path));
      assert.equal(result.exitCode, 126, command);
      assert.equal(result.stderr, `hookd: ${command}: Permission denied\n`);
    }
  });

  await t.step("through the shell the shell says it, as before", async () => {
    const result = await runHook("/nonexistent/x.sh >/dev/null", optionsFor(dir.path));
    assert.equal(result.exitCode, 127);
    assert.match(result.stderr, /\/nonexistent\/x\.sh: not found/);
  });

  await t.step("a hook's own exit 127 and stderr are left as they are", async () => {
    // setsid, run as the hook, fails on a program it cannot find: its words stay its own.
    const result = await runHook("/usr/bin/setsid -w /nonexistent/y", optionsFor(dir.path));
    assert.equal(result.exitCode, 127);
    assert.match(result.stderr, /^setsid: .*\/nonexistent\/y/);
  });
});

Deno.test("runHook() reports a missing payload directory instead of throwing", async () => {
  await using dir = await tempDir();
  const result = await runHook(
    ': > "$OUT/ran"',
    optionsFor(dir.path, { payloadDir: `${dir.path}/missing` }),
  );
  assert.equal(result.success, false);
  assert.equal(result.exitCode, null);
  assert.match(result.error ?? "", /NotFound/);
  assert.equal(await exists(`${dir.path}/ran`), false);
});

Deno.test("runHook() throws for programmer errors", async (t) => {
  const base = optionsFor("/tmp");
  await t.step("an empty command", async () => {
    await assert.rejects(runHook(" ", base), TypeError);
  });
  await t.step("a time-out that is not positive", async () => {
    await assert.rejects(
      runHook("true", { ...base, timeoutMs: 0 }),
      RangeError,
    );
    await assert.rejects(
      runHook("true", { ...base, timeoutMs: Number.NaN }),
      RangeError,
    );
  });
  await t.step("a fractional output limit", async () => {
    await assert.rejects(
      runHook("true", { ...base, outputLimitBytes: 1.5 }),
      RangeError,
    );
  });
  await t.step("a non-string environment value", async () => {
    const env = { PATH: 1 } as unknown as Record<string, string>;
    await assert.rejects(runHook("true", { ...base, env }), TypeError);
  });
});
