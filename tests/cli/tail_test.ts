/**
 * `hookd tail` end to end: a real daemon writes its log, the command follows
 * the file as a subprocess; hooks are real shell commands. Each follower is
 * started before the deliveries it must show, and is known to be at the end
 * of the file once it says "following" on stderr.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  envFileText,
  hookScript,
  integrationTest,
  onPath,
  requireOrSkip,
  runHookd,
  startDaemon,
  tempDir,
} from "../harness.ts";
import { entryOutcome, formatTailLine, tailOptions, tailShows } from "../../lib/cli/tail.ts";
import { spawnHookd } from "./_hookd_child.ts";

const following = (_: string, err: string) => err.includes("hookd: following ");
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

Deno.test("formatTailLine() gives a request and a hook run one readable line each", () => {
  const request = formatTailLine({
    time: "2025-01-02T03:04:05.000Z",
    type: "request",
    endpoint: "github",
    event: "push\x1b[31m",
    status: 202,
    outcome: "accepted",
    durationMs: 2.6,
    id: "01JH",
  });
  assert.equal(
    request,
    "2025-01-02 03:04:05.000  request  github  push\\x1b[31m  202 accepted  3ms  01JH",
  );
  const killed = formatTailLine({
    time: "2025-01-02T03:04:05.000Z",
    type: "hook",
    endpoint: "github",
    event: "push",
    exitCode: null,
    signal: "SIGKILL",
    timedOut: true,
    durationMs: 1000,
  });
  assert.equal(
    killed,
    "2025-01-02 03:04:05.000  hook     github  push  timed_out  1000ms  signal SIGKILL",
  );
});

Deno.test("tailShows() keeps requests and hook runs that pass --endpoint and --outcome", () => {
  const hook = { type: "hook", endpoint: "a", exitCode: 0 };
  assert.equal(entryOutcome(hook), "succeeded");
  assert.ok(tailShows(hook, {}));
  assert.ok(!tailShows({ type: "daemon", message: "listening" }, {}));
  assert.ok(!tailShows(hook, { endpoints: ["b"] }));
  assert.ok(tailShows(hook, { endpoints: ["b", "a"], outcomes: ["succeeded"] }));
  assert.ok(!tailShows(hook, { outcomes: ["failed"] }));
  assert.deepEqual(tailOptions({ lines: "5", outcome: "failed,timed_out" }), {
    filter: { outcomes: ["failed", "timed_out"] },
    last: 5,
  });
  assert.throws(() => tailOptions({ lines: "five" }), /Invalid -n "five"/);
});

integrationTest("hookd tail follows requests and hook runs from the log file", async (t) => {
  await using dir = await tempDir();
  const ok = await hookScript(dir.path, "ok", "echo fine");
  const bad = await hookScript(dir.path, "bad", "echo broken >&2; exit 3");
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "alpha,beta",
    HOOKD_ALPHA_PROVIDER: "none",
    HOOKD_ALPHA_HOOK_DEFAULT: ok,
    HOOKD_BETA_PROVIDER: "none",
    HOOKD_BETA_HOOK_DEFAULT: bad,
  });
  const deliver = async (endpoint: string) => {
    const res = await daemon.post(endpoint, "{}", { "Content-Type": "application/json" });
    assert.equal(res.status, 202);
    return (await res.json()).id as string;
  };
  const hookDone = (id: string) => daemon.waitForRecord((r) => r.type === "hook" && r.id === id);
  const tail = (...flags: string[]) => spawnHookd(["tail", "--env-file", daemon.envFile, ...flags]);

  await t.step("a delivery shows as a request line and a hook line", async () => {
    await using follower = tail();
    await follower.waitFor(following);
    assert.equal(follower.stdout(), "", "starts at the end of the file");
    const id = await deliver("beta");
    await follower.waitFor((out) => out.includes(`exit 3  ${id}`));
    const [request, hook] = lines(follower.stdout()).filter((l) => l.includes(id));
    assert.match(
      request,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} {2}request {2}beta {2}webhook {2}202 accepted {2}\d+ms {2}/,
    );
    assert.match(hook, / {2}hook {5}beta {2}webhook {2}failed {2}\d+ms {2}exit 3 {2}/);
  });

  await t.step("--endpoint and --outcome leave out the rest", async () => {
    await using byEndpoint = tail("--endpoint", "beta");
    await using byOutcome = tail("--outcome", "failed");
    await Promise.all([byEndpoint.waitFor(following), byOutcome.waitFor(following)]);
    const first = await deliver("alpha");
    await hookDone(first);
    const second = await deliver("beta");
    // The log is read in order: once the later delivery shows, the earlier one has been seen.
    await byEndpoint.waitFor((out) => out.includes(`exit 3  ${second}`));
    await byOutcome.waitFor((out) => out.includes(`exit 3  ${second}`));
    assert.ok(!byEndpoint.stdout().includes(first), byEndpoint.stdout());
    assert.equal(lines(byEndpoint.stdout()).length, 2, "the request and the run of beta");
    assert.deepEqual(
      lines(byOutcome.stdout()).map((l) => l.split(/ +/).slice(2, 6).join(" ")),
      ["hook beta webhook failed"],
    );
  });

  await t.step("--json prints the records as the file has them", async () => {
    await using follower = tail("--json");
    await follower.waitFor(following);
    const id = await deliver("alpha");
    await follower.waitFor((out) => lines(out).some((l) => JSON.parse(l).type === "hook"));
    const printed = lines(follower.stdout()).map((l) => JSON.parse(l));
    const inFile = (await daemon.records()).filter((r) => r.id === id);
    assert.deepEqual(printed, inFile.filter((r) => r.type === "request" || r.type === "hook"));
    assert.equal(printed[1].stdout, "fine\n");
  });

  await t.step("with the daemon stopped, -n prints what is there", async () => {
    const last = await deliver("beta");
    await hookDone(last);
    await daemon.stop();
    await using follower = tail("-n", "2");
    await follower.waitFor((out) => lines(out).length === 2);
    assert.match(lines(follower.stdout())[0], new RegExp(`request  beta .* ${last}$`));
    assert.match(lines(follower.stdout())[1], new RegExp(`hook     beta .* exit 3  ${last}$`));
  });
});

integrationTest("hookd tail keeps following when the log rotates", async () => {
  await using dir = await tempDir();
  const ok = await hookScript(dir.path, "ok", "echo fine");
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "alpha",
    HOOKD_ALPHA_PROVIDER: "none",
    HOOKD_ALPHA_HOOK_DEFAULT: ok,
    HOOKD_LOG_MAX_BYTES: "1500",
    HOOKD_LOG_MAX_FILES: "3",
  });
  await using follower = spawnHookd(["tail", "--env-file", daemon.envFile]);
  await follower.waitFor(following);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await daemon.post("alpha", `{"n":${i}}`, { "Content-Type": "application/json" });
    ids.push((await res.json()).id);
    await daemon.waitForRecord((r) => r.type === "hook" && r.id === ids[i]);
  }
  // Rotated twice at least (inode numbers are reused, so they tell nothing).
  await Deno.stat(`${daemon.logFile}.2`);
  await follower.waitFor((out) => ids.every((id) => out.includes(`exit 0  ${id}`)));
  for (const id of ids) {
    assert.equal(lines(follower.stdout()).filter((l) => l.endsWith(id)).length, 2, id);
  }
});

const root = Deno.uid() === 0;
requireOrSkip(
  root && !(await onPath("setpriv"))
    ? "setpriv is not installed (needed to drop root's read-anything capability)"
    : null,
  {
    name: "hookd tail says how to get access when the log cannot be read",
    async fn() {
      await using dir = await tempDir();
      const logDir = `${dir.path}/log`;
      await Deno.mkdir(logDir);
      await Deno.writeTextFile(`${logDir}/hookd.log`, "");
      const envFile = `${dir.path}/hookd.env`;
      await Deno.writeTextFile(
        envFile,
        envFileText({
          HOOKD_ENDPOINTS: "alpha",
          HOOKD_ALPHA_PROVIDER: "none",
          HOOKD_LOG_FILE: `${logDir}/hookd.log`,
          HOOKD_STATE_DIR: `${dir.path}/state`,
        }),
        { mode: 0o600 },
      );
      // As the installed 0750 directory is to a user outside group hookd.
      await Deno.chmod(logDir, 0o000);
      try {
        // Root reads anything; without CAP_DAC_OVERRIDE/READ_SEARCH it is held to the mode bits.
        const wrap = root ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] : [];
        await using child = spawnHookd(["tail", "--env-file", envFile], wrap);
        const status = await child.status;
        assert.equal(status.code, 1);
        assert.equal(child.stdout(), "");
        assert.match(
          child.stderr(),
          /^hookd: cannot read the log file .*hookd\.log: permission denied\. .*run hookd tail as root \(sudo\) or as a member of group hookd/,
        );
      } finally {
        await Deno.chmod(logDir, 0o755);
      }
      await Deno.remove(`${logDir}/hookd.log`);
      const missing = await runHookd(["tail", "--env-file", envFile]);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^hookd: no log file at .*hookd\.log: pass the daemon's env file/,
      );
    },
  },
);
