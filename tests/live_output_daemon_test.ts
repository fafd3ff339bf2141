/**
 * Watching hook runs end to end, against the real daemon: the admin
 * listener's event stream (`GET /deliveries/:id/output`) and
 * `_RESPOND=stream`. Hooks wait for a gate file the test creates, so "while
 * it runs" is a fact, not a sleep.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hookScript, integrationTest, startDaemon, tempDir, waitForFile } from "./harness.ts";

/** One parsed Server-Sent Event. */
interface Sse {
  id: string;
  event: string;
  data: string;
}

/** An event-stream reader: events as they arrive, and a way to hang up. */
class Watcher {
  events: Sse[] = [];
  comments = 0;
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  private constructor(reader: ReadableStreamDefaultReader<string>) {
    this.#reader = reader;
  }

  static async open(url: string, headers: HeadersInit = {}): Promise<Watcher> {
    const res = await fetch(url, { headers });
    if (res.status !== 200) assert.fail(`${res.status}: ${await res.text()}`);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(res.headers.get("x-accel-buffering"), "no");
    return new Watcher(res.body!.pipeThrough(new TextDecoderStream()).getReader());
  }

  /** Read until `done(events)` holds; fails if the stream ends first. */
  async until(done: (events: Sse[]) => boolean): Promise<Sse[]> {
    while (!done(this.events)) {
      const { value, done: ended } = await this.#reader.read();
      if (ended) throw new Error(`stream ended first: ${JSON.stringify(this.events)}`);
      this.#buffer += value;
      let cut;
      while ((cut = this.#buffer.indexOf("\n\n")) !== -1) {
        const block = this.#buffer.slice(0, cut);
        this.#buffer = this.#buffer.slice(cut + 2);
        const lines = block.split("\n");
        if (lines.every((l) => l.startsWith(":"))) {
          this.comments++;
          continue;
        }
        const field = (name: string) =>
          lines.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2));
        if (field("event").length === 0) continue; // retry:
        this.events.push({
          id: field("id")[0],
          event: field("event")[0],
          data: field("data").join("\n"),
        });
      }
    }
    return this.events;
  }

  async rest(): Promise<void> {
    for (;;) {
      const { done } = await this.#reader.read();
      if (done) return;
    }
  }

  hangUp(): Promise<void> {
    return this.#reader.cancel();
  }
}

const text = (events: Sse[], stream: string) =>
  events.filter((e) => e.event === stream).map((e) => e.data).join("");
const ended = (events: Sse[]) => events.some((e) => e.event === "end");

integrationTest("the admin listener streams a running hook's output live", async (t) => {
  await using dir = await tempDir();
  const gate = `${dir.path}/gate`;
  const hook = await hookScript(
    dir.path,
    "slow",
    `echo first; echo oops >&2\nwhile [ ! -e ${gate} ]; do sleep 0.05; done\necho second`,
  );
  const big = await hookScript(
    dir.path,
    "big",
    `head -c 100000 /dev/zero | tr '\\0' x\nwhile [ ! -e ${gate}.big ]; do sleep 0.05; done\necho after`,
  );
  const slow = await hookScript(dir.path, "sleepy", "echo started; sleep 30");
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "live,big,slow",
    HOOKD_LIVE_PROVIDER: "none",
    HOOKD_LIVE_HOOK_DEFAULT: hook,
    HOOKD_BIG_PROVIDER: "none",
    HOOKD_BIG_HOOK_DEFAULT: big,
    HOOKD_SLOW_PROVIDER: "none",
    HOOKD_SLOW_HOOK_DEFAULT: slow,
    HOOKD_SLOW_TIMEOUT: "1s",
  });
  const admin = daemon.adminUrl!;
  const deliver = async (endpoint: string) => {
    const res = await daemon.post(endpoint, "{}", { "Content-Type": "application/json" });
    assert.equal(res.status, 202);
    return (await res.json()).id as string;
  };

  const id = await deliver("live");
  const url = `${admin}/deliveries/${id}/output`;
  let afterFirst = "";

  await t.step("two watchers see the first line while the hook still waits", async () => {
    const [a, b] = await Promise.all([Watcher.open(url), Watcher.open(url)]);
    const quitter = await Watcher.open(url);
    await Promise.all([a, b, quitter].map((w) => w.until((e) => text(e, "stdout") === "first\n")));
    afterFirst = a.events.find((e) => e.event === "stdout")!.id;
    // One of them hangs up mid-run: the others and the hook go on.
    await quitter.hangUp();
    await Deno.writeTextFile(gate, "");
    for (const w of [a, b]) {
      const events = await w.until(ended);
      await w.rest();
      assert.equal(text(events, "stdout"), "first\nsecond\n");
      assert.equal(text(events, "stderr"), "oops\n");
      assert.ok(events.every((e) => e.id), "every event has an id");
      const end = JSON.parse(events.at(-1)!.data);
      assert.equal(events.at(-1)!.event, "end");
      assert.deepEqual(
        { exitCode: end.exitCode, outcome: end.outcome, timedOut: end.timedOut, state: end.state },
        { exitCode: 0, outcome: "succeeded", timedOut: false, state: "done" },
      );
    }
  });

  await t.step("after the run: the stored excerpt and end at once", async () => {
    const w = await Watcher.open(url);
    const events = await w.until(ended);
    assert.equal(text(events, "stdout"), "first\nsecond\n");
    assert.equal(text(events, "stderr"), "oops\n");
  });

  await t.step("Last-Event-ID resumes without repeating output", async () => {
    const w = await Watcher.open(url, { "Last-Event-ID": afterFirst });
    const events = await w.until(ended);
    assert.equal(text(events, "stdout"), "second\n");
    const endId = events.at(-1)!.id;
    const again = await fetch(url, { headers: { "Last-Event-ID": endId } });
    assert.equal(again.status, 204, "the end was seen: EventSource stops");
    await again.body?.cancel();
    const bad = await fetch(url, { headers: { "Last-Event-ID": "garbage" } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Last-Event-ID/);
  });

  await t.step("output past 64 KiB: the bound, then one truncated event", async () => {
    const bigId = await deliver("big");
    const w = await Watcher.open(`${admin}/deliveries/${bigId}/output`);
    await w.until((e) => e.some((x) => x.event === "truncated"));
    await Deno.writeTextFile(`${gate}.big`, "");
    const events = await w.until(ended);
    assert.equal(text(events, "stdout"), "x".repeat(65536));
    assert.equal(events.filter((e) => e.event === "truncated").length, 1);
  });

  await t.step("a run that times out ends with timedOut", async () => {
    const slowId = await deliver("slow");
    const w = await Watcher.open(`${admin}/deliveries/${slowId}/output`);
    const events = await w.until(ended);
    assert.equal(text(events, "stdout"), "started\n");
    const end = JSON.parse(events.at(-1)!.data);
    assert.equal(end.timedOut, true);
    assert.equal(end.outcome, "timed_out");
  });

  await t.step("an unknown delivery is a 404, a foreign Host a 421", async () => {
    const missing = await fetch(`${admin}/deliveries/01ARZ3NDEKTSV4RRFFQ69G5FAV/output`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    // fetch() sets Host itself: a raw request says what a rebinding page's browser sends.
    const { port } = new URL(admin);
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    const request =
      `GET /deliveries/${id}/output HTTP/1.1\r\nHost: rebind.attacker.test:${port}\r\n` +
      "Connection: close\r\n\r\n";
    await conn.write(new TextEncoder().encode(request));
    const answer = await new Response(conn.readable).text();
    assert.match(answer, /^HTTP\/1\.1 421 /);
  });
});

integrationTest("RESPOND=stream streams the hook's output in the response", async (t) => {
  await using dir = await tempDir();
  const gate = `${dir.path}/gate`;
  const hook = await hookScript(
    dir.path,
    "slow",
    `echo first\nwhile [ ! -e ${gate}.$HOOKD_DELIVERY_ID ]; do sleep 0.05; done\necho second; echo done > ${dir.path}/effect.$HOOKD_DELIVERY_ID; exit 4`,
  );
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "ci",
    HOOKD_CI_PROVIDER: "none",
    HOOKD_CI_HOOK_DEFAULT: hook,
    HOOKD_CI_RESPOND: "stream",
  });
  const read = async (
    reader: ReadableStreamDefaultReader<string>,
    until: (s: string) => boolean,
  ) => {
    let got = "";
    while (!until(got)) {
      const { value, done } = await reader.read();
      if (done) break;
      got += value;
    }
    return got;
  };

  await t.step("first line once stored, output as written, last line the exit", async () => {
    const res = await daemon.post("ci", "{}", { "Content-Type": "application/json" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    const id = res.headers.get("x-hookd-delivery")!;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const early = await read(reader, (s) => s.includes("first\n"));
    assert.match(early, new RegExp(`^hookd: stored ${id} \\(ci `));
    assert.ok(!early.includes("second"), "second is not written yet");
    await Deno.writeTextFile(`${gate}.${id}`, "");
    const all = early + await read(reader, () => false);
    assert.ok(all.endsWith("first\nsecond\nhookd: exit 4\n"), all);
  });

  await t.step("a caller that hangs up does not stop the hook", async () => {
    const res = await daemon.post("ci", "{}", { "Content-Type": "application/json" });
    const id = res.headers.get("x-hookd-delivery")!;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    await read(reader, (s) => s.includes("first\n"));
    await reader.cancel();
    await Deno.writeTextFile(`${gate}.${id}`, "");
    assert.equal(await waitForFile(`${dir.path}/effect.${id}`), "done\n");
    const w = await Watcher.open(`${daemon.adminUrl}/deliveries/${id}/output`);
    const events = await w.until(ended);
    assert.equal(JSON.parse(events.at(-1)!.data).exitCode, 4);
  });
});
