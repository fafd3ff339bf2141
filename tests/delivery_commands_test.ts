import assert from "node:assert/strict";
import { parseCommandLine } from "../lib/cli.ts";
import { parseConfig } from "../lib/config.ts";
import { storePath } from "../lib/daemon.ts";
import { runDeliveryCommand } from "../lib/delivery_commands.ts";
import { openStore } from "../lib/store.ts";
import { tempDir } from "./_daemon.ts";

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
    using store = openStore(storePath(dir.path));
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

  await t.step("deliveries --json lists it", () => {
    const { output, code } = run("deliveries", "--json");
    assert.equal(code, 0);
    const rows = output.split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(rows.map((r) => [r.id, r.event, r.state]), [[id, "push", "ignored"]]);
  });

  await t.step("show prints its body; an unknown id exits 1", () => {
    const shown = run("show", id);
    assert.equal(shown.code, 0);
    assert.match(shown.output, /"ref":"main"/);
    assert.equal(run("show", "01NOSUCHDELIVERY000000000").code, 1);
  });

  await t.step("replay needs ids or a selection, and skips what has no hook", () => {
    assert.equal(run("replay").code, 2);
    const replayed = run("replay", id);
    assert.equal(replayed.code, 1);
    assert.match(replayed.output, /no hook/);
  });
});
