/**
 * The public listener on a unix socket, behind a proxy (issue 13 item 5),
 * through the real daemon: the socket's mode and group, the client address
 * from `X-Forwarded-For` only when `HOOKD_TRUSTED_PROXIES` lists `unix`,
 * and `_ALLOW_FROM` refusing a client it cannot know.
 *
 * @module
 */

import assert from "node:assert/strict";
import { githubSignature, integrationTest, runHookd, startDaemon, tempDir } from "./harness.ts";

const SECRET = "unix-socket-secret-0123456789";

/** A GitHub push with a body of its own, signed. */
async function push(xff?: string): Promise<[string, Record<string, string>]> {
  const body = JSON.stringify({ ref: "refs/heads/main", after: crypto.randomUUID() });
  return [body, {
    "Content-Type": "application/json",
    "X-GitHub-Event": "push",
    "X-GitHub-Delivery": crypto.randomUUID(),
    "X-Hub-Signature-256": await githubSignature(body, SECRET),
    ...(xff ? { "X-Forwarded-For": xff } : {}),
  }];
}

/** The primary group of this process's user, by name (the test may chown to it). */
async function ownGroupName(): Promise<string> {
  const gid = Deno.gid();
  const line = (await Deno.readTextFile("/etc/group")).split("\n")
    .find((entry) => entry.split(":")[2] === String(gid));
  assert.ok(line, `group ${gid} is in /etc/group`);
  return line.split(":")[0];
}

integrationTest("hookd serves on a unix socket behind a trusted proxy", async (t) => {
  await using dir = await tempDir("hookd_unix_");
  const socket = `${dir.path}/run/hookd.sock`;
  await Deno.mkdir(`${dir.path}/run`);
  const group = await ownGroupName();
  await using daemon = await startDaemon({
    HOOKD_LISTEN: `unix:${socket}`,
    HOOKD_LISTEN_MODE: "0660",
    HOOKD_LISTEN_GROUP: group,
    HOOKD_TRUSTED_PROXIES: "unix",
    HOOKD_ENDPOINTS: "gh,open",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: SECRET,
    HOOKD_GH_ALLOW_FROM: "203.0.113.0/24",
    HOOKD_OPEN_PROVIDER: "github",
    HOOKD_OPEN_SECRET: SECRET,
  });

  await t.step("the socket has the mode and group asked for", async () => {
    const info = await Deno.lstat(socket);
    assert.ok(info.isSocket);
    assert.equal(info.mode! & 0o777, 0o660);
    assert.equal(info.gid, Deno.gid());
  });

  await t.step("the client is the proxy's X-Forwarded-For, and _ALLOW_FROM judges it", async () => {
    const [body, headers] = await push("198.51.100.9, 203.0.113.7");
    const allowed = await daemon.post("gh", body, headers);
    assert.equal(allowed.status, 202, await allowed.text());
    const record = await daemon.waitForRecord((r) => r.type === "request" && r.status === 202);
    assert.equal(record.remote, "203.0.113.7");
    assert.equal(record.peer, "unix");
    const [other, otherHeaders] = await push("198.51.100.9");
    const refused = await daemon.post("gh", other, otherHeaders);
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
  });

  await t.step(
    "without X-Forwarded-For the client is unknown: refused by _ALLOW_FROM only",
    async () => {
      const [body, headers] = await push();
      const refused = await daemon.post("gh", body, headers);
      assert.equal(refused.status, 403);
      await refused.body?.cancel();
      const [open, openHeaders] = await push();
      const accepted = await daemon.post("open", open, openHeaders);
      assert.equal(accepted.status, 202);
      await accepted.body?.cancel();
    },
  );

  await t.step("a second daemon on the same socket is refused, naming it", async () => {
    const second = await runHookd(["serve", "--env-file", daemon.envFile]);
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      new RegExp(
        `cannot listen on unix:${socket} \\(HOOKD_LISTEN, the public listener\\): address already in use`,
      ),
    );
  });
});

integrationTest(
  "without `unix` in HOOKD_TRUSTED_PROXIES the proxy's header is not believed",
  async () => {
    await using dir = await tempDir("hookd_unix_");
    await using daemon = await startDaemon({
      HOOKD_LISTEN: `unix:${dir.path}/hookd.sock`,
      HOOKD_ENDPOINTS: "gh",
      HOOKD_GH_PROVIDER: "github",
      HOOKD_GH_SECRET: SECRET,
      HOOKD_GH_ALLOW_FROM: "203.0.113.0/24",
    });
    const [body, headers] = await push("203.0.113.7");
    const refused = await daemon.post("gh", body, headers);
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
  },
);

Deno.test("hookd check describes a unix listener and refuses what a socket cannot take", async () => {
  await using dir = await tempDir("hookd_unix_");
  const envFile = `${dir.path}/hookd.env`;
  const base = [
    "HOOKD_ENDPOINTS=gh",
    "HOOKD_GH_PROVIDER=github",
    `HOOKD_GH_SECRET=${SECRET}`,
    `HOOKD_STATE_DIR=${dir.path}/state`,
  ];
  await Deno.writeTextFile(
    envFile,
    [...base, "HOOKD_LISTEN=unix:/run/hookd/hookd.sock", "HOOKD_LISTEN_GROUP=www-data", ""]
      .join("\n"),
    { mode: 0o600 },
  );
  const ok = await runHookd(["check", "--env-file", envFile]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /listen +unix:\/run\/hookd\/hookd\.sock \(mode 0660, group www-data\)/);

  await Deno.writeTextFile(
    envFile,
    [...base, "HOOKD_LISTEN=unix:relative.sock", "HOOKD_LISTEN_MODE=rw", ""].join("\n"),
    { mode: 0o600 },
  );
  const bad = await runHookd(["check", "--env-file", envFile]);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /HOOKD_LISTEN is "unix:relative\.sock": a unix socket needs an absolute path/,
  );
  assert.match(bad.stderr, /HOOKD_LISTEN_MODE is "rw": write octal permission bits/);

  await Deno.writeTextFile(
    envFile,
    [...base, "HOOKD_LISTEN=127.0.0.1:9000", "HOOKD_LISTEN_GROUP=www-data", ""].join("\n"),
    { mode: 0o600 },
  );
  const tcp = await runHookd(["check", "--env-file", envFile]);
  assert.equal(tcp.code, 1);
  assert.match(tcp.stderr, /HOOKD_LISTEN_GROUP is set but HOOKD_LISTEN is not a unix socket/);
});
