/**
 * Tests for `requeue`'s `hookFor`: a replay stores, and so runs, the hook
 * the caller gives, not the one stored when the delivery arrived.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openStore, type RequeueOptions } from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import { tempDir } from "../harness.ts";
import { waitUntil } from "../_proc.ts";

const END = {
  endedAt: 0,
  durationMs: 1,
  exitCode: 127,
  signal: null,
  stdout: "",
  stderr: "",
  stdoutTruncated: false,
  stderrTruncated: false,
};

Deno.test("requeue() with hookFor stores the hook the queue then claims", async (t) => {
  await using store = openStore(":memory:");
  const failed = (await store.insert(delivery({ hook: "/wrong/deploy.sh" }))).id;
  const claimed = (await store.claim(failed))!;
  await store.finishRun(claimed, { ...END, outcome: "failed" }, { state: "failed" });
  const ignored = (await store.insert(delivery({ event: "release", hook: null }))).id;
  const seen: unknown[] = [];
  const options: RequeueOptions = {
    hookFor(d) {
      seen.push(d);
      return d.event === "push"
        ? "/right/deploy.sh"
        : d.event === "release"
        ? "./release.sh"
        : null;
    },
  };

  await t.step("a failed delivery gets the new hook", async () => {
    assert.deepEqual(await store.requeue([failed], options), { requeued: [failed], skipped: [] });
    assert.deepEqual(seen, [{
      id: failed,
      endpoint: "deploy",
      event: "push",
      hook: "/wrong/deploy.sh",
    }]);
    assert.equal((await store.claim(failed))?.hook, "/right/deploy.sh");
  });

  await t.step("an ignored delivery given a hook is queued", async () => {
    assert.deepEqual(await store.requeue([ignored], options), { requeued: [ignored], skipped: [] });
    assert.equal((await store.get(ignored))?.state, "queued");
    assert.equal((await store.counts()).byState.ignored, 0);
    assert.equal((await store.claim(ignored))?.hook, "./release.sh");
  });

  await t.step(
    "requeueMatching() considers ignored ones and skips those still without",
    async () => {
      const still = (await store.insert(delivery({ event: "issues", hook: null }))).id;
      const result = await store.requeueMatching({ state: "ignored" }, options);
      assert.deepEqual(result, { requeued: [], skipped: [{ id: still, reason: "no hook" }] });
      assert.equal((await store.get(still))?.state, "ignored");
      assert.deepEqual(await store.requeueMatching({ state: "ignored" }), {
        requeued: [],
        skipped: [],
      });
    },
  );
});

Deno.test("listen() hears what another process's store re-queues, without a poll", async () => {
  await using dir = await tempDir("hookd_listen_");
  const path = `${dir.path}/hookd.db`;
  await using daemon = openStore(path);
  await using cli = openStore(path);
  const id = (await daemon.insert(delivery())).id;
  const claimed = (await daemon.claim(id))!;
  await daemon.finishRun(claimed, { ...END, outcome: "failed" }, { state: "failed" });
  let heard = false;
  const listener = await daemon.listen(() => heard = true);
  try {
    assert.deepEqual((await cli.requeue([id])).requeued, [id]);
    await waitUntil("the daemon's store hears the re-queue", () => heard, 5_000);
  } finally {
    await listener.unlisten();
  }
});
