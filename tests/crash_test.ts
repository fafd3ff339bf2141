/**
 * What a crash leaves behind: a daemon killed with SIGKILL while a hook runs
 * leaves that hook's process group running and its payload file on disk. The
 * next daemon on the same state directory terminates the group (it is still
 * the one recorded: same leader, same start time), removes the file, and only
 * then runs the delivery again.
 *
 * @module
 */

import assert from "node:assert/strict";
import { statFields, waitUntil } from "./_proc.ts";
import { DatabaseSync } from "node:sqlite";
import { storePath } from "../lib/store/mod.ts";
import { githubSignature, integrationTest, startDaemon, tempDir, waitForFile } from "./harness.ts";

const SECRET = "crash-test-secret";

/**
 * Whether a process that is not a zombie is in process group `pgid`. A killed
 * orphan whose new parent (PID 1 in a container) does not reap it stays a
 * zombie: dead, holding nothing.
 */
function groupAlive(pgid: number): boolean {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const fields = statFields(Number(entry.name)); // null: gone meanwhile
    if (fields && Number(fields[2]) === pgid && fields[0] !== "Z") return true;
  }
  return false;
}

/** Whether the running run in the store has recorded process group `pgid`. */
function recordedGroup(stateDir: string, pgid: number): boolean {
  const db = new DatabaseSync(storePath(stateDir), { readOnly: true });
  try {
    return db.prepare("SELECT pgid FROM runs WHERE outcome = 'running'").get()?.pgid === pgid;
  } finally {
    db.close();
  }
}

integrationTest(
  "a restart after SIGKILL ends the killed daemon's hook group and payload file, then re-runs",
  async (t) => {
    await using dir = await tempDir("hookd_crash_");
    await using out = await tempDir("hookd_crash_out_");
    const o = out.path;
    // The first run leaves its payload file's name and its process group, then sleeps
    // far past the test; the second run (the marker exists) saves its stdin.
    const script = `${o}/hook.sh`;
    await Deno.writeTextFile(
      script,
      `if [ -e "${o}/first-run" ]; then cat > "${o}/rerun.tmp"; mv "${o}/rerun.tmp" "${o}/rerun"; exit 0; fi
: > "${o}/first-run"
printf %s "$HOOKD_PAYLOAD_FILE" > "${o}/payload"
read -r stat < /proc/$$/stat; stat=\${stat##*") "}; set -- \$stat
echo "\$3" > "${o}/pgid.tmp" && mv "${o}/pgid.tmp" "${o}/pgid"
sleep 600
`,
    );
    const env = {
      HOOKD_ENDPOINTS: "gh",
      HOOKD_GH_PROVIDER: "github",
      HOOKD_GH_SECRET: SECRET,
      HOOKD_GH_TIMEOUT: "1h",
      HOOKD_GH_HOOK_PUSH: `sh ${script}`,
    };
    const body = JSON.stringify({ ref: "refs/heads/main", after: "c0ffee" });
    let pgid = 0;
    try {
      const first = await startDaemon(env, { dir: dir.path });
      let id: string;
      try {
        const response = await first.post("gh", body, {
          "Content-Type": "application/json",
          "X-GitHub-Event": "push",
          "X-GitHub-Delivery": "crash-1",
          "X-Hub-Signature-256": await githubSignature(body, SECRET),
        });
        const answer = await response.json();
        assert.equal(response.status, 202, JSON.stringify(answer));
        id = answer.id;
        pgid = Number((await waitForFile(`${o}/pgid`, (text) => text.endsWith("\n"))).trim());
        assert.ok(pgid > 1);
        assert.ok(groupAlive(pgid), "the hook runs in its own process group");
        // The daemon records the group just after the spawn; a crash before that cannot be helped.
        await waitUntil(
          `the store records process group ${pgid}`,
          () => recordedGroup(first.stateDir, pgid),
        );
      } finally {
        await first.stop("SIGKILL");
      }
      const payloadFile = await Deno.readTextFile(`${o}/payload`);
      assert.match(payloadFile, /\/hookd-payload-[0-9a-f]+$/);

      await t.step("the killed daemon's hook and payload file outlive it", async () => {
        assert.ok(groupAlive(pgid), `group ${pgid} died with the daemon`);
        await Deno.stat(payloadFile);
      });

      await using second = await startDaemon(env, { dir: dir.path });

      await t.step("the restart terminates the old hook's process group", async () => {
        await waitUntil(
          `process group ${pgid} is gone after the restart`,
          () => !groupAlive(pgid),
        );
      });

      await t.step("it is the restart that ends the group, as the one it recorded", async () => {
        const record = await second.waitForRecord((r) =>
          r.message === "terminated a hook left running by a stopped daemon"
        );
        assert.equal(record.pgid, pgid);
        assert.equal(record.deliveryId, id);
      });

      await t.step("the delivery runs again, with the same body", async () => {
        assert.equal(await waitForFile(`${o}/rerun`), body);
        const record = await second.waitForRecord((r) => r.type === "hook" && r.id === id);
        assert.equal(record.exitCode, 0);
      });

      await t.step("the killed run's payload file is gone", async () => {
        await assert.rejects(Deno.stat(payloadFile), Deno.errors.NotFound);
      });
    } finally {
      // A failing run must not leave a sleeper behind.
      if (pgid > 1 && groupAlive(pgid)) Deno.kill(-pgid, "SIGKILL");
    }
  },
);
