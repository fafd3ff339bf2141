/**
 * Tests for hooks started by launchers (long-lived bash processes) instead of
 * a spawn per hook: the hook must get what a spawned hook gets, in a process
 * group of its own that is killed whole, with bounded output, and nothing of
 * it may be evaluated by the shell.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runHook, type RunHookOptions } from "../../lib/dispatch/mod.ts";
import { createLauncherPool, isSafeName, type LauncherPool } from "../../lib/dispatch/launcher.ts";
import { tempDir, waitForFile } from "../harness.ts";
import { isRunning, statFields, waitUntil } from "../_proc.ts";

const PATH = "/usr/local/bin:/usr/bin:/bin";

function pool(): LauncherPool & AsyncDisposable {
  const launchers = createLauncherPool();
  assert.ok(launchers, "bash is needed for these tests (Debian's bash is essential)");
  return Object.assign(launchers, { [Symbol.asyncDispose]: () => launchers.close() });
}

function optionsFor(
  dir: string,
  launcher: LauncherPool | null,
  extra: Partial<RunHookOptions> = {},
): RunHookOptions {
  return {
    env: { PATH, OUT: dir },
    stdin: new Uint8Array(),
    timeoutMs: 10_000,
    payloadDir: dir,
    killGraceMs: 1000,
    launcher,
    ...extra,
  };
}

function leftovers(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("hookd-"));
}

Deno.test("isSafeName() accepts only plain identifiers", () => {
  for (const name of ["PATH", "HOOKD_FIELD_REF", "_x", "a1"]) assert.equal(isSafeName(name), true);
  for (const name of ["", "1A", "A-B", "a[$(id)]", "A B", "A=B"]) {
    assert.equal(isSafeName(name), false, name);
  }
});

Deno.test("runHook() on a launcher gives the hook what a spawned hook gets", async () => {
  await using dir = await tempDir("launcher_test_");
  await using launchers = pool();
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
      'umask > "$out/umask"',
      "printf 'out\\n'; printf 'err\\n' >&2; exit 7",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  // Values a shell would expand if it ever evaluated them.
  const env = {
    PATH,
    OUT: dir.path,
    HOOKD_EVENT: "push",
    TRICKY: "$(touch pwned) `touch pwned2` ${HOME} '\"\\ \n second line",
    EMPTY: "",
  };
  const body = new Uint8Array(100_000).map((_, i) => (i * 11) % 256);
  const runs = {
    spawned: await runHook(`${script} spawned`, optionsFor(dir.path, null, { env, stdin: body })),
    launched: await runHook(
      `${script} launched`,
      optionsFor(dir.path, launchers, { env, stdin: body }),
    ),
    launchedShell: await runHook(
      `${script} 'launchedShell'`,
      optionsFor(dir.path, launchers, { env, stdin: body }),
    ),
  };
  const seen = async (name: string) => ({
    env: (await Deno.readTextFile(`${dir.path}/${name}/env`)).replace(
      /^HOOKD_PAYLOAD_FILE=.*$/m,
      "HOOKD_PAYLOAD_FILE=…",
    ),
    stdin: await Deno.readFile(`${dir.path}/${name}/stdin`),
    payload: await Deno.readFile(`${dir.path}/${name}/payload`),
    mode: await Deno.readTextFile(`${dir.path}/${name}/mode`),
    umask: await Deno.readTextFile(`${dir.path}/${name}/umask`),
  });
  const spawned = await seen("spawned");
  assert.deepEqual(await seen("launched"), spawned);
  assert.deepEqual(await seen("launchedShell"), spawned);
  assert.deepEqual(spawned.stdin, body);
  assert.ok(spawned.env.includes("TRICKY=$(touch pwned) `touch pwned2` ${HOME}"), spawned.env);
  assert.deepEqual(leftovers(dir.path), [], "job, output and payload files are removed");
  assert.equal(await Deno.lstat(`${dir.path}/pwned`).catch(() => null), null);
  const outcome = (r: typeof runs.spawned) => [r.exitCode, r.signal, r.success, r.stdout, r.stderr];
  assert.deepEqual(outcome(runs.launched), [7, null, false, "out\n", "err\n"]);
  assert.deepEqual(outcome(runs.launchedShell), outcome(runs.launched));
});

Deno.test("runHook() on a launcher puts the hook in a process group of its own", async (t) => {
  await using dir = await tempDir("launcher_test_");
  await using launchers = pool();
  const groups: { pgid: number; leaderStartTime: number }[] = [];

  await t.step("the group is led by the hook and reported with its start time", async () => {
    const running = runHook(
      'echo $$ > "$OUT/pid"; exec sleep 30',
      optionsFor(dir.path, launchers, {
        timeoutMs: 60_000,
        onSpawn: (group) => groups.push(group),
      }),
    );
    await waitForFile(`${dir.path}/pid`);
    const pid = Number(Deno.readTextFileSync(`${dir.path}/pid`).trim());
    const fields = statFields(pid)!;
    assert.equal(Number(fields[2]), pid, "the hook leads its process group");
    const ownGroup = Number(statFields(Deno.pid)![2]);
    assert.notEqual(pid, ownGroup);
    assert.deepEqual(groups, [{ pgid: pid, leaderStartTime: Number(fields[19]) }]);
    // Field 41, the scheduling policy: SCHED_BATCH (3) from the launcher's chrt, where
    // chrt may set it; SCHED_OTHER (0) where it may not (then the launcher runs without it).
    const batch = await new Deno.Command("chrt", { args: ["--batch", "0", "/bin/true"] })
      .output().then((o) => o.success, () => false);
    assert.equal(fields[38], batch ? "3" : "0", "the hook runs under SCHED_BATCH where it can");
    Deno.kill(-pid, "SIGTERM");
    const result = await running;
    assert.equal(result.signal, "SIGTERM");
    assert.equal(result.exitCode, null);
  });

  await t.step("a time-out kills the whole group, children included", async () => {
    const result = await runHook(
      'sleep 60 & echo $! > "$OUT/child"; sleep 60',
      optionsFor(dir.path, launchers, { timeoutMs: 300, killGraceMs: 200 }),
    );
    assert.equal(result.timedOut, true);
    assert.equal(result.success, false);
    const child = Number(Deno.readTextFileSync(`${dir.path}/child`).trim());
    await waitUntil("the hook's child is gone", () => !isRunning(child));
  });

  await t.step("what a hook leaves running is killed when it exits", async () => {
    const result = await runHook(
      'sleep 60 >/dev/null 2>&1 & echo $! > "$OUT/orphan"',
      optionsFor(dir.path, launchers),
    );
    assert.equal(result.success, true, result.stderr);
    const orphan = Number(Deno.readTextFileSync(`${dir.path}/orphan`).trim());
    await waitUntil("the orphan is gone", () => !isRunning(orphan));
  });

  await t.step("a hook that is stopped and continued is waited for, not lost", async () => {
    const running = runHook(
      'echo $$ > "$OUT/stopped"; kill -STOP $$; echo resumed; exit 5',
      optionsFor(dir.path, launchers),
    );
    const pid = Number((await waitForFile(`${dir.path}/stopped`)).trim());
    await waitUntil("the hook is stopped", () => statFields(pid)?.[0] === "T");
    const launcher = launchers.pids().find((p) => statFields(pid)?.[1] === String(p));
    assert.ok(launcher, "the stopped hook is a launcher's child");
    Deno.kill(-pid, "SIGCONT");
    const result = await running;
    assert.deepEqual([result.exitCode, result.stdout], [5, "resumed\n"]);
  });

  await t.step("aborting stops the hook", async () => {
    const controller = new AbortController();
    const running = runHook(
      'echo up > "$OUT/started"; exec sleep 60',
      optionsFor(dir.path, launchers, { signal: controller.signal }),
    );
    await waitForFile(`${dir.path}/started`);
    controller.abort();
    const result = await running;
    assert.equal(result.aborted, true);
    assert.equal(result.success, false);
  });
});

Deno.test("runHook() on a launcher reports exits, signals and programs that cannot start", async (t) => {
  await using dir = await tempDir("launcher_test_");
  await using launchers = pool();
  const run = (command: string) => runHook(command, optionsFor(dir.path, launchers));

  await t.step("an exit code is a code", async () => {
    const result = await run("exit 3");
    assert.deepEqual([result.exitCode, result.signal, result.success], [3, null, false]);
  });

  await t.step("a signal is a signal", async () => {
    for (const [name, signal] of [["KILL", "SIGKILL"], ["TERM", "SIGTERM"], ["INT", "SIGINT"]]) {
      const result = await run(`kill -s ${name} $$`);
      assert.deepEqual([result.exitCode, result.signal], [null, signal]);
    }
  });

  await t.step(
    "a status above 128 reads as the signal (documented: bash's $? tells no more)",
    async () => {
      const result = await run("sh -c 'exit 137'; exit $?");
      assert.deepEqual([result.exitCode, result.signal], [null, "SIGKILL"]);
    },
  );

  await t.step("a missing program: exit 127, not found, as sh would say", async () => {
    for (const command of ["/nonexistent/x.sh --fast", "no-such-program-hookd arg"]) {
      const result = await run(command);
      const program = command.split(" ")[0];
      assert.equal(result.exitCode, 127, command);
      assert.equal(result.stderr, `hookd: ${program}: not found\n`);
    }
  });

  await t.step("a program that is not executable: exit 126, naming it", async () => {
    const notExecutable = `${dir.path}/not-executable.sh`;
    await Deno.writeTextFile(notExecutable, "#!/bin/sh\n", { mode: 0o644 });
    const result = await run(notExecutable);
    assert.equal(result.exitCode, 126);
    assert.equal(result.stderr, `hookd: ${notExecutable}: Permission denied\n`);
  });
});

Deno.test("runHook() on a launcher keeps only the first outputLimitBytes", async (t) => {
  await using dir = await tempDir("launcher_test_");
  await using launchers = pool();

  await t.step("a short run: cut when read", async () => {
    const result = await runHook(
      "head -c 300000 /dev/zero | tr '\\0' a; head -c 5 /dev/zero | tr '\\0' b >&2",
      optionsFor(dir.path, launchers, { outputLimitBytes: 1000 }),
    );
    assert.equal(result.success, true, result.stderr);
    assert.equal(result.stdout, "a".repeat(1000));
    assert.equal(result.stdoutTruncated, true);
    assert.equal(result.stderr, "bbbbb");
    assert.equal(result.stderrTruncated, false);
  });

  await t.step("a long run: the file is held to the limit while the hook writes", async () => {
    // Writes 2 MB, then waits until hookd has cut its output file back at least once.
    const result = await runHook(
      [
        "head -c 2000000 /dev/zero | tr '\\0' a",
        'while [ "$(stat -L -c %s "/proc/$$/fd/1")" -gt 1000 ]; do sleep 0.05; done',
        "echo done >&2",
      ].join("; "),
      optionsFor(dir.path, launchers, { outputLimitBytes: 1000, timeoutMs: 20_000 }),
    );
    assert.equal(result.success, true, result.stderr);
    assert.equal(result.stdout, "a".repeat(1000));
    assert.equal(result.stdoutTruncated, true);
    assert.equal(result.stderr, "done\n");
  });
  assert.deepEqual(leftovers(dir.path), []);
});

Deno.test("a launcher pool reuses its launchers and ends them when closed", async (t) => {
  await using dir = await tempDir("launcher_test_");
  const launchers = pool();

  await t.step("runs one after another share one bash", async () => {
    for (let i = 0; i < 5; i++) {
      const result = await runHook("/bin/true", optionsFor(dir.path, launchers));
      assert.equal(result.success, true, result.stderr);
    }
    assert.equal(launchers.pids().length, 1);
  });

  await t.step("runs at the same time get one each", async () => {
    const gate = `${dir.path}/gate`;
    const runs = [1, 2, 3].map((i) =>
      runHook(
        `echo up > "$OUT/ready${i}"; while [ ! -e "${gate}" ]; do sleep 0.02; done`,
        optionsFor(dir.path, launchers),
      )
    );
    for (const i of [1, 2, 3]) await waitForFile(`${dir.path}/ready${i}`);
    assert.equal(launchers.pids().length, 3);
    await Deno.writeTextFile(gate, "");
    for (const result of await Promise.all(runs)) assert.equal(result.success, true);
  });

  await t.step("a launcher that dies is replaced; its hook is reported, not lost", async () => {
    const running = runHook(
      'echo $$ > "$OUT/up"; exec sleep 60',
      optionsFor(dir.path, launchers, { timeoutMs: 60_000 }),
    );
    const hook = Number((await waitForFile(`${dir.path}/up`)).trim());
    const busy = launchers.pids().filter((pid) => statFields(pid)?.[0] !== "Z");
    for (const pid of busy) Deno.kill(pid, "SIGKILL");
    const result = await running;
    assert.equal(result.success, false);
    assert.match(result.error ?? "", /^Hook interrupted: the hook launcher \(bash\) ended while/);
    await waitUntil("the interrupted hook's group is killed", () => !isRunning(hook));
    const next = await runHook("/bin/true", optionsFor(dir.path, launchers));
    assert.equal(next.success, true, next.error);
  });

  await t.step("a name that is not an identifier is spawned instead", async () => {
    const before = launchers.pids().length;
    const result = await runHook(
      'printf %s "$HOOKD_EVENT"',
      optionsFor(dir.path, launchers, {
        env: { PATH, "NOT-AN-IDENTIFIER": "x", HOOKD_EVENT: "e" },
      }),
    );
    assert.equal(result.stdout, "e");
    assert.equal(launchers.pids().length, before);
  });

  await t.step("closing ends every launcher", async () => {
    const pids = launchers.pids();
    assert.ok(pids.length > 0);
    await launchers.close();
    assert.deepEqual(pids.filter(isRunning), []);
    assert.throws(() => launchers.launch({ jobFile: `${dir.path}/x` }), /closed/);
  });
});
