/**
 * One moment when configuration is read for a delivery, end to end: a
 * delivery queued behind a running hook runs with what is configured when
 * its run starts (command, time limit, fields, filter), not with what was
 * configured when it arrived; a hook removed meanwhile is recorded as
 * skipped, and never runs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitUntil } from "../_proc.ts";
import { type DeliveryDetail, openStore, storePath } from "../../lib/store/mod.ts";
import {
  githubSignature,
  hookScript,
  integrationTest,
  startDaemon,
  waitForFile,
} from "../harness.ts";

const SECRET = "run-plan-daemon-secret";

integrationTest(
  "a queued delivery runs with the configuration of the moment its run starts",
  async (t) => {
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "change,removed,filter",
      ...Object.fromEntries(
        ["CHANGE", "REMOVED", "FILTER"].flatMap((name) => [
          [`HOOKD_${name}_PROVIDER`, "github"],
          [`HOOKD_${name}_SECRET`, SECRET],
          [`HOOKD_${name}_CONCURRENCY`, "1"],
          [`HOOKD_${name}_TIMEOUT`, "60s"],
        ]),
      ),
    });
    const ran = `${daemon.dir}/ran.txt`;
    const gate = `${daemon.dir}/gate`;
    // Disposed before the daemon: however the test ends, no hook waits for the gate.
    await using _opened = { [Symbol.asyncDispose]: () => Deno.writeTextFile(gate, "") };
    // The first delivery of each endpoint holds its only slot until the gate opens.
    const v1 = await hookScript(
      daemon.dir,
      "v1",
      `echo "$HOOKD_ENDPOINT v1 $HOOKD_SOURCE_DELIVERY_ID" >> ${ran}\n` +
        `while [ ! -e ${gate} ]; do sleep 0.05; done`,
    );
    const v2 = await hookScript(
      daemon.dir,
      "v2",
      `echo "$HOOKD_ENDPOINT v2 $HOOKD_SOURCE_DELIVERY_ID \${HOOKD_FIELD_REF:-}" >> ${ran}\n` +
        "exec sleep 30",
    );
    const original = await Deno.readTextFile(daemon.envFile);
    await Deno.writeTextFile(
      daemon.envFile,
      original + ["CHANGE", "REMOVED", "FILTER"].map((n) => `HOOKD_${n}_HOOK_PUSH='${v1}'\n`)
        .join(""),
    );
    daemon.process.kill("SIGHUP");
    await daemon.waitForRecord((r) => r.message === "reloaded");

    async function deliver(endpoint: string, sourceId: string): Promise<string> {
      const body = JSON.stringify({ ref: "refs/heads/dev", sourceId });
      const response = await daemon.post(endpoint, body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": sourceId,
        "X-Hub-Signature-256": await githubSignature(body, SECRET),
      });
      assert.equal(response.status, 202);
      const answer = await response.json();
      assert.equal(answer.hook, `HOOKD_${endpoint.toUpperCase()}_HOOK_PUSH`);
      return answer.id;
    }

    const queued = new Map<string, string>();
    for (const endpoint of ["change", "removed", "filter"]) {
      await deliver(endpoint, `${endpoint}-1`);
      await waitForFile(ran, (text) => text.includes(`${endpoint} v1 ${endpoint}-1`));
      queued.set(endpoint, await deliver(endpoint, `${endpoint}-2`));
    }

    // While they wait: a new command, time limit and fields; a hook removed; a filter added.
    const configured = await Deno.readTextFile(daemon.envFile);
    await Deno.writeTextFile(
      daemon.envFile,
      configured
        .replace(/^HOOKD_CHANGE_HOOK_PUSH=.*$/m, `HOOKD_CHANGE_HOOK_PUSH='${v2}'`)
        .replace(/^HOOKD_CHANGE_TIMEOUT=.*$/m, "HOOKD_CHANGE_TIMEOUT='1s'")
        .replace(/^HOOKD_REMOVED_HOOK_PUSH=.*\n/m, "HOOKD_REMOVED_HOOK_RELEASE='true'\n") +
        "HOOKD_CHANGE_HOOK_FIELDS='ref'\n" +
        "HOOKD_FILTER_MATCH_PUSH='ref=refs/heads/main'\n",
    );
    daemon.process.kill("SIGHUP");
    await daemon.waitForRecords((r) => r.message === "reloaded", 2);
    await Deno.writeTextFile(gate, "");

    await using store = openStore(storePath(daemon.stateDir), { readOnly: true });
    async function settled(id: string): Promise<DeliveryDetail> {
      let state = "";
      return await waitUntil(() => `${id} is still ${state}`, async () => {
        const detail = await store.get(id);
        assert.ok(detail, `${id} is stored`);
        state = detail.state;
        return detail.state !== "queued" && detail.state !== "running" && detail;
      });
    }

    await t.step("the new command runs, with the new time limit and fields", async () => {
      const detail = await settled(queued.get("change")!);
      assert.match(await Deno.readTextFile(ran), /^change v2 change-2 refs\/heads\/dev$/m);
      assert.doesNotMatch(await Deno.readTextFile(ran), /change v1 change-2/);
      assert.deepEqual(detail.runs.map((run) => run.outcome), ["timed_out"]);
      assert.equal(detail.state, "failed");
    });

    await t.step("a removed hook: recorded as skipped, nothing runs", async () => {
      const detail = await settled(queued.get("removed")!);
      assert.equal(detail.state, "ignored");
      assert.deepEqual(detail.runs.map((run) => run.outcome), ["skipped"]);
      assert.match(detail.runs[0].error ?? "", /no hook is configured for push now/);
      assert.doesNotMatch(await Deno.readTextFile(ran), /removed-2/);
    });

    await t.step("a filter added: recorded as filtered, nothing runs", async () => {
      const detail = await settled(queued.get("filter")!);
      assert.equal(detail.state, "filtered");
      assert.equal(detail.filteredBy, "HOOKD_FILTER_MATCH_PUSH: ref=refs/heads/main");
      assert.deepEqual(detail.runs.map((run) => run.outcome), ["skipped"]);
      assert.doesNotMatch(await Deno.readTextFile(ran), /filter-2/);
    });
  },
);
