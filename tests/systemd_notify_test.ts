import assert from "node:assert/strict";
import { notifyCommand, notifySystemd } from "../lib/systemd_notify.ts";
import { childEnv, onPath, requireOrSkip, tempDir } from "./harness.ts";

const SOCKET = { NOTIFY_SOCKET: "/run/systemd/notify" };

Deno.test("notifyCommand() runs systemd-notify through /bin/sh with arguments, not code", async (t) => {
  await t.step("ready", () => {
    assert.deepEqual(notifyCommand("ready", { env: SOCKET, pid: 42 }), {
      command: "/bin/sh",
      args: ["-c", 'exec systemd-notify "$@"', "sh", "--pid=42", "--ready"],
    });
  });

  await t.step("reloading and stopping as assignments systemd 252 understands", () => {
    assert.deepEqual(notifyCommand("reloading", { env: SOCKET, pid: 7 })?.args.slice(3), [
      "--pid=7",
      "RELOADING=1",
    ]);
    assert.deepEqual(notifyCommand("stopping", { env: SOCKET, pid: 7 })?.args.slice(3), [
      "--pid=7",
      "STOPPING=1",
    ]);
  });

  await t.step("the pid defaults to this process", () => {
    assert.ok(notifyCommand("ready", { env: SOCKET })!.args.includes(`--pid=${Deno.pid}`));
  });
});

Deno.test("notifySystemd() does nothing without NOTIFY_SOCKET", async () => {
  assert.equal(notifyCommand("ready", { env: { PATH: "/usr/bin:/bin" } }), undefined);
  assert.equal(notifyCommand("ready", { env: { NOTIFY_SOCKET: "" } }), undefined);
  for (const state of ["ready", "reloading", "stopping"] as const) {
    assert.equal(await notifySystemd(state, { env: {} }), false);
  }
});

Deno.test("notifySystemd() runs systemd-notify from PATH with the environment given", async (t) => {
  await using dir = await tempDir();
  const out = `${dir.path}/args`;
  await Deno.writeTextFile(
    `${dir.path}/systemd-notify`,
    `#!/bin/sh\nprintf '%s|' "$NOTIFY_SOCKET" "$@" > "${out}"\n[ "$FAIL" = "" ] || { echo "$FAIL" >&2; exit 3; }\n`,
    { mode: 0o755 },
  );
  const env = { PATH: `${dir.path}:/usr/bin:/bin`, NOTIFY_SOCKET: "/tmp/fake.sock" };

  await t.step("ready", async () => {
    assert.equal(await notifySystemd("ready", { env, pid: 99 }), true);
    assert.equal(await Deno.readTextFile(out), "/tmp/fake.sock|--pid=99|--ready|");
  });

  await t.step("stopping", async () => {
    assert.equal(await notifySystemd("stopping", { env, pid: 99 }), true);
    assert.equal(await Deno.readTextFile(out), "/tmp/fake.sock|--pid=99|STOPPING=1|");
  });

  await t.step("a failure throws with systemd-notify's message", async () => {
    await assert.rejects(
      notifySystemd("reloading", { env: { ...env, FAIL: "no socket" }, pid: 99 }),
      /^Error: systemd-notify \(reloading\) failed with exit code 3: no socket$/,
    );
  });
});

const RECEIVER = `
const socket = Deno.listenDatagram({ transport: "unixpacket", path: Deno.args[0] });
console.log("listening");
for await (const [data] of socket) console.log(JSON.stringify(new TextDecoder().decode(data)));
`;

requireOrSkip(
  await onPath("systemd-notify")
    ? null
    : "systemd-notify is not installed (apt-get install systemd)",
  {
    name: "notifySystemd() reaches a real notify socket through the real systemd-notify",
    async fn() {
      await using dir = await tempDir();
      const socketPath = `${dir.path}/notify.sock`;
      await Deno.writeTextFile(`${dir.path}/receiver.ts`, RECEIVER);
      // Deno only binds Unix datagram sockets behind --unstable-net, so the
      // stand-in for systemd's socket is a child process.
      const receiver = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--unstable-net",
          `--allow-read=${dir.path}`,
          `--allow-write=${dir.path}`,
          `--allow-net=unix:${socketPath}`,
          `${dir.path}/receiver.ts`,
          socketPath,
        ],
        ...childEnv(),
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const lines = receiver.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "";
      async function nextLine(): Promise<string> {
        while (!buffered.includes("\n")) {
          const { value, done } = await lines.read();
          if (done) throw new Error(`receiver ended; got ${JSON.stringify(buffered)}`);
          buffered += value;
        }
        const line = buffered.slice(0, buffered.indexOf("\n"));
        buffered = buffered.slice(buffered.indexOf("\n") + 1);
        return line;
      }
      try {
        assert.equal(await nextLine(), "listening");
        const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NOTIFY_SOCKET: socketPath };
        assert.equal(await notifySystemd("ready", { env, pid: 4242 }), true);
        const message = JSON.parse(await nextLine()).split("\n");
        assert.ok(message.includes("READY=1"), message.join(" "));
        assert.ok(message.includes("MAINPID=4242"), message.join(" "));
      } finally {
        receiver.kill();
        await lines.cancel();
        await receiver.status;
      }
    },
  },
);
