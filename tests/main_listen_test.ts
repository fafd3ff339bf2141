/**
 * Tests for `hookd serve` on an address already taken: the message names
 * the address, the variable and which listener it is, for the public and
 * the admin listener alike.
 *
 * @module
 */

import assert from "node:assert/strict";
import { envFileText, runHookd, tempDir } from "./harness.ts";

Deno.test("hookd serve names the listener whose address is in use", async (t) => {
  await using dir = await tempDir("hookd_listen_");
  // Taken by this test, so the daemon cannot have it.
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const cases = [
    {
      name: "the public listener",
      vars: { HOOKD_LISTEN: `127.0.0.1:${port}`, HOOKD_ADMIN_LISTEN: "127.0.0.1:0" },
      message:
        `hookd: cannot listen on 127.0.0.1:${port} (HOOKD_LISTEN, the public listener): address already in use`,
    },
    {
      name: "the admin listener",
      vars: { HOOKD_LISTEN: "127.0.0.1:0", HOOKD_ADMIN_LISTEN: `127.0.0.1:${port}` },
      message:
        `hookd: cannot listen on 127.0.0.1:${port} (HOOKD_ADMIN_LISTEN, the admin listener): address already in use`,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const envFile = `${dir.path}/hookd.env`;
      await Deno.writeTextFile(
        envFile,
        envFileText({
          HOOKD_ENDPOINTS: "gh",
          HOOKD_GH_PROVIDER: "github",
          HOOKD_GH_SECRET: "listen-test-secret-value",
          HOOKD_STATE_DIR: `${dir.path}/state`,
          HOOKD_LOG_FILE: `${dir.path}/hookd.log`,
          ...c.vars,
        }),
        { mode: 0o600 },
      );
      const { code, stderr } = await runHookd(["serve", "--env-file", envFile]);
      assert.equal(code, 1, stderr);
      assert.ok(stderr.includes(c.message), stderr);
      assert.doesNotMatch(stderr, /os error 98/);
    });
  }
});
