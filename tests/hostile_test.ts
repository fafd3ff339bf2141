/**
 * The hostile-input suite: requests built to hurt, against the real daemon.
 * Each gets its precise status and exactly one log record when it reaches
 * hookd (none when Deno's HTTP server, hyper, refuses it first), and the
 * daemon goes on serving signed deliveries with bounded memory.
 *
 * What hyper answers itself in Deno 2.9: a Content-Length that is negative,
 * non-numeric, signed, past 2^64, a list or two different values; both
 * Content-Length and Transfer-Encoding; a transfer coding other than
 * chunked; more than 100 headers or a header block past ~400 KB; a path
 * past 64 KB (all 400); a malformed chunk size, when hyper parses it
 * before handing the request over (connection closed, no answer; else
 * hookd's body read fails: 400). Headers sent then silence (slowloris) are
 * held open: neither hyper nor hookd has a header read time-out, so the
 * suite shows that the daemon serves others meanwhile.
 *
 * @module
 */

import assert from "node:assert/strict";
import { rssKb, waitUntil } from "./_proc.ts";
import fc from "fast-check";
import { Hono } from "hono";
import { bodyLimit, type BodyLimitVariables } from "../lib/http/body_limit.ts";
import { HttpError } from "../lib/http/http_error.ts";
import {
  type Daemon,
  envFileText,
  githubSignature,
  hmacHex,
  integrationTest,
  type LogRecord,
  runHookd,
  startDaemon,
  tempDir,
} from "./harness.ts";

const SECRET = "hostile-suite-secret";
const LIMIT = 256 * 1024;
/** A generous ceiling for the daemon's resident memory after any burst. */
const RSS_BOUND_KB = 300 * 1024;
const encoder = new TextEncoder();

type Part = string | Uint8Array;

/** Options for {@linkcode rawStatus}. */
interface RawOptions {
  /** Half-close after writing: the body ends here. */
  closeWrite?: boolean;
  /** Fail when no answer and no close came within this time. */
  timeoutMs?: number;
}

/**
 * Write `parts` on a new connection and read the answer's status line.
 *
 * @returns the status, or `null` when the server closed without answering
 */
async function rawStatus(
  port: number,
  parts: Part[],
  options: RawOptions = {},
): Promise<number | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    return await exchange(conn, parts, options);
  } finally {
    closeQuietly(conn);
  }
}

async function exchange(
  conn: Deno.Conn,
  parts: Part[],
  options: RawOptions,
): Promise<number | null> {
  try {
    for (const part of parts) await writeAll(conn, part);
    if (options.closeWrite) await conn.closeWrite();
  } catch {
    // The server answered and closed before taking everything: read on.
  }
  return await readStatus(conn, options.timeoutMs ?? 10_000);
}

async function writeAll(conn: Deno.Conn, part: Part): Promise<void> {
  let bytes = typeof part === "string" ? encoder.encode(part) : part;
  while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
}

/** Reads up to the end of the status line; `null` on a close without one. */
async function readStatus(conn: Deno.Conn, timeoutMs: number): Promise<number | null> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    closeQuietly(conn);
  }, timeoutMs);
  const buffer = new Uint8Array(4096);
  let text = "";
  try {
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch (error) {
    if (expired) throw new Error(`No answer within ${timeoutMs} ms`);
    if (text === "" && error instanceof Deno.errors.ConnectionReset) return null;
    if (text === "") throw error;
  } finally {
    clearTimeout(timer);
  }
  if (expired) throw new Error(`No answer within ${timeoutMs} ms`);
  if (text === "") return null;
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  assert.ok(match, `not a status line: ${JSON.stringify(text.slice(0, 80))}`);
  return Number(match[1]);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** A request head for `POST path` with these header lines. */
function head(lines: string[], path = "/hooks/gh"): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;
}

/** The header lines of a correctly signed GitHub push for `body`. */
async function signedLines(body: string | Uint8Array): Promise<string[]> {
  return [
    "Content-Type: application/json",
    "X-GitHub-Event: push",
    `X-GitHub-Delivery: ${crypto.randomUUID()}`,
    `X-Hub-Signature-256: ${await githubSignature(body, SECRET)}`,
  ];
}

async function signedHeaders(body: string | Uint8Array, deliveryId: string): Promise<Headers> {
  return new Headers({
    "Content-Type": "application/json",
    "X-GitHub-Event": "push",
    "X-GitHub-Delivery": deliveryId,
    "X-Hub-Signature-256": await githubSignature(body, SECRET),
  });
}

function openFds(pid: number): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}

function openSockets(pid: number): number {
  let count = 0;
  for (const { name } of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      if (Deno.readLinkSync(`/proc/${pid}/fd/${name}`).startsWith("socket:")) count++;
    } catch {
      // Closed while listed.
    }
  }
  return count;
}

/**
 * The daemon under test and what the suite knows about it: the request
 * records seen so far, split by marker deliveries, and every id it accepted.
 */
class Harness {
  readonly accepted = new Set<string>();
  #marks = 0;
  /** Index (among request records) of the last marker. */
  #last = -1;

  constructor(readonly daemon: Daemon) {}

  async requests(): Promise<LogRecord[]> {
    return (await this.daemon.records()).filter((r) => r.type === "request");
  }

  /**
   * Send a signed delivery, which must be accepted (the daemon still
   * serves), and wait for its record: the records between two marks are
   * those of the requests made in between.
   *
   * @returns the records since the previous mark
   */
  async mark(): Promise<LogRecord[]> {
    const sourceId = `mark-${++this.#marks}`;
    const body = JSON.stringify({ mark: this.#marks });
    const response = await this.daemon.post("gh", body, await signedHeaders(body, sourceId));
    const answer = await response.json();
    assert.equal(response.status, 202, `marker ${sourceId}: ${JSON.stringify(answer)}`);
    this.accepted.add(answer.id);
    await this.daemon.waitForRecord((r) => r.type === "request" && r.sourceId === sourceId);
    const requests = await this.requests();
    const at = requests.findIndex((r) => r.sourceId === sourceId);
    const between = requests.slice(this.#last + 1, at);
    this.#last = at;
    return between;
  }

  /** Wait for a request record, logged since the last mark, that matches. */
  async waitForNew(match: (r: LogRecord) => boolean): Promise<void> {
    await waitUntil(
      "a matching new request record",
      async () => (await this.requests()).slice(this.#last + 1).some(match),
    );
  }

  /** Assert the requests since the last mark left exactly these outcomes. */
  async expectRecords(name: string, outcomes: string[]): Promise<LogRecord[]> {
    const records = await this.mark();
    assert.deepEqual(records.map((r) => r.outcome), outcomes, name);
    return records;
  }

  assertBoundedMemory(when: string): void {
    const rss = rssKb(this.daemon.process.pid);
    assert.ok(rss < RSS_BOUND_KB, `RSS ${rss} kB after ${when}`);
  }
}

interface RawCase {
  name: string;
  parts: () => Part[] | Promise<Part[]>;
  closeWrite?: boolean;
  /** The answer; `null`: the connection is closed without one. */
  status: number | null;
  /** The outcome of the one record; `null`: hyper refused it, hookd never saw it. */
  outcome: string | null;
  /**
   * The other answer allowed, when who sees the fault depends on timing:
   * hyper, if it parses the bad bytes before handing the request over.
   */
  or?: { status: number | null; outcome: string | null };
}

async function runCases(t: Deno.TestContext, h: Harness, cases: RawCase[]): Promise<void> {
  for (const c of cases) {
    await t.step(c.name, async () => {
      const status = await rawStatus(h.daemon.port, await c.parts(), { closeWrite: c.closeWrite });
      const expected = c.or && status === c.or.status ? c.or : c;
      assert.equal(status, expected.status);
      const records = await h.expectRecords(c.name, expected.outcome ? [expected.outcome] : []);
      if (expected.outcome !== null) assert.equal(records[0].status, expected.status);
    });
  }
}

const PUSH = ["X-GitHub-Event: push", "Content-Type: application/json"];

const DECLARED_LENGTHS: RawCase[] = [
  {
    name: "a declared length over the limit is refused at once, the body never sent",
    parts: () => [head([...PUSH, "Content-Length: 99999999999"]), "{"],
    status: 413,
    outcome: "rejected.too_large",
  },
  {
    name: "a declared length past 2^53 is refused as too large",
    parts: () => [head([...PUSH, "Content-Length: 9007199254740993"])],
    status: 413,
    outcome: "rejected.too_large",
  },
  {
    name: "a declared length past 2^64 is refused by hyper",
    parts: () => [head([...PUSH, "Content-Length: 99999999999999999999999"])],
    status: 400,
    outcome: null,
  },
  {
    name: "a negative declared length is refused by hyper",
    parts: () => [head([...PUSH, "Content-Length: -1"]), "{}"],
    status: 400,
    outcome: null,
  },
  {
    name: "a non-numeric declared length is refused by hyper",
    parts: () => [head([...PUSH, "Content-Length: abc"]), "{}"],
    status: 400,
    outcome: null,
  },
  {
    name: "a signed declared length is refused by hyper",
    parts: () => [head([...PUSH, "Content-Length: +2"]), "{}"],
    status: 400,
    outcome: null,
  },
  {
    name: "a declared length repeated with the same value is refused as malformed",
    parts: async () => [
      head([...(await signedLines("{}")), "Content-Length: 2", "Content-Length: 2"]),
      "{}",
    ],
    status: 400,
    outcome: "rejected.malformed",
  },
  {
    name: "a declared length repeated with two values is refused by hyper",
    parts: () => [head([...PUSH, "Content-Length: 2", "Content-Length: 3"]), "{}x"],
    status: 400,
    outcome: null,
  },
  {
    name: "a declared length written as a list is refused by hyper",
    parts: () => [head([...PUSH, "Content-Length: 2, 2"]), "{}"],
    status: 400,
    outcome: null,
  },
  {
    name: "Content-Length with Transfer-Encoding is refused by hyper",
    parts: () => [
      head([...PUSH, "Content-Length: 5", "Transfer-Encoding: chunked"]),
      "0\r\n\r\n",
    ],
    status: 400,
    outcome: null,
  },
  {
    name: "a declared length shorter than the body cuts it, so the signature fails",
    parts: async () => {
      const body = '{"zen":"Keep it logically awesome."}';
      return [head([...(await signedLines(body)), "Content-Length: 10"]), body];
    },
    status: 401,
    outcome: "rejected.signature",
  },
  {
    name: "a declared length longer than the body, then end of input: 400",
    parts: async () => {
      const body = '{"zen":"short"}';
      return [head([...(await signedLines(body)), `Content-Length: ${body.length + 50}`]), body];
    },
    closeWrite: true,
    status: 400,
    outcome: "rejected.incomplete",
  },
];

const chunk = (data: string) => `${data.length.toString(16)}\r\n${data}\r\n`;

const CHUNKED: RawCase[] = [
  {
    name: "a chunked body over the limit is refused",
    parts: () => [
      head([...PUSH, "Transfer-Encoding: chunked"]),
      chunk("a".repeat(LIMIT / 2)).repeat(3) + "0\r\n\r\n",
    ],
    status: 413,
    outcome: "rejected.too_large",
  },
  {
    name: "a chunked body past the limit is refused before it ends",
    parts: () => [head([...PUSH, "Transfer-Encoding: chunked"]), chunk("a".repeat(LIMIT + 1))],
    status: 413,
    outcome: "rejected.too_large",
  },
  {
    name: "a transfer coding other than chunked is refused by hyper",
    parts: () => [head([...PUSH, "Transfer-Encoding: gzip"]), "0\r\n\r\n"],
    status: 400,
    outcome: null,
  },
  {
    name: "a malformed chunk size is refused as an incomplete body",
    parts: () => [head([...PUSH, "Transfer-Encoding: chunked"]), "zz\r\n\r\n"],
    status: 400,
    outcome: "rejected.incomplete",
    or: { status: null, outcome: null },
  },
];

const BIG_HEADERS: RawCase[] = [
  {
    name: "10,000 headers are refused by hyper",
    parts: () => [
      head([
        ...PUSH,
        ...Array.from({ length: 10_000 }, (_, i) => `X-Filler-${i}: ${i}`),
        "Content-Length: 0",
      ]),
    ],
    status: 400,
    outcome: null,
  },
  {
    name: "a 1 MB header value is refused by hyper",
    parts: () => [head([...PUSH, `X-Big: ${"a".repeat(1 << 20)}`, "Content-Length: 0"])],
    status: 400,
    outcome: null,
  },
  {
    name: "a 70 KB path is refused by hyper",
    parts: () => [head(["Content-Length: 0"], `/hooks/${"a".repeat(70_000)}`)],
    status: 400,
    outcome: null,
  },
];

/** Paths that must never reach an endpoint, each with a correctly signed body. */
const BAD_NAMES = [
  "/hooks/..",
  "/hooks/%2e%2e",
  "/hooks/%2E%2E/gh",
  "/hooks/..%2fgh",
  "/hooks/gh/..",
  "/hooks/gh/../gh",
  "/hooks/../hooks/gh",
  "/hooks/gh%00",
  "/hooks/GH",
  "/hooks/%C3%A9t%C3%A9",
  "/hooks/\u00e9t\u00e9",
  "/hooks/%EF%BD%87%EF%BD%88", // fullwidth "ｇｈ", "gh" under NFKC
  `/hooks/${"g".repeat(10 * 1024)}`,
];

integrationTest("hookd answers hostile requests precisely and keeps serving", async (t) => {
  await using ran = await tempDir("hookd_hostile_ran_");
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: SECRET,
    HOOKD_MAX_BODY_BYTES: String(LIMIT),
    // Every accepted delivery leaves a file named by its id.
    HOOKD_GH_HOOK_DEFAULT: `cat > "${ran.path}/$HOOKD_DELIVERY_ID"`,
  });
  const h = new Harness(daemon);
  const pid = daemon.process.pid;
  await h.mark();

  await t.step("declared lengths", (t) => runCases(t, h, DECLARED_LENGTHS));
  h.assertBoundedMemory("declared lengths");

  await t.step("chunked bodies", async (t) => {
    await runCases(t, h, CHUNKED);
    await t.step("a signed body in 10,000 one-byte chunks arrives whole", async () => {
      const body = JSON.stringify({ padding: "p".repeat(10_000 - 14) });
      assert.equal(body.length, 10_000);
      const status = await rawStatus(daemon.port, [
        head([...(await signedLines(body)), "Transfer-Encoding: chunked"]),
        [...body].map(chunk).join("") + "0\r\n\r\n",
      ]);
      assert.equal(status, 202);
      const [record] = await h.expectRecords("one-byte chunks", ["accepted"]);
      h.accepted.add(String(record.id));
      assert.equal(record.bytes, 10_000);
      // Deno reads each chunk into its own 64 KiB buffer: kept, these
      // 10,000 reads would hold 640 MB.
      h.assertBoundedMemory("one-byte chunks");
    });
  });
  h.assertBoundedMemory("chunked bodies");

  await t.step("huge headers", (t) => runCases(t, h, BIG_HEADERS));
  h.assertBoundedMemory("huge headers");

  await t.step("bodies under a valid signature", async (t) => {
    const post = async (body: string | Uint8Array<ArrayBuffer>) => {
      const response = await daemon.post(
        "gh",
        body,
        await signedHeaders(body, crypto.randomUUID()),
      );
      return { status: response.status, answer: await response.json() };
    };
    await t.step("invalid UTF-8 is refused as malformed", async () => {
      const { status } = await post(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
      assert.equal(status, 400);
      await h.expectRecords("invalid UTF-8", ["rejected.malformed"]);
    });
    await t.step("invalid JSON is refused as malformed", async () => {
      const { status } = await post('{"ref": "refs/heads/main",');
      assert.equal(status, 400);
      await h.expectRecords("invalid JSON", ["rejected.malformed"]);
    });
    await t.step("JSON opened 100,000 deep and never closed is refused as malformed", async () => {
      const { status } = await post("[".repeat(100_000));
      assert.equal(status, 400);
      await h.expectRecords("unclosed deep JSON", ["rejected.malformed"]);
    });
    await t.step("JSON nested 100,000 deep is valid JSON: accepted, daemon alive", async () => {
      // V8's JSON.parse is not recursive: no stack to overflow. The body is
      // valid JSON and hookd passes it on unread; refusing it would be a
      // policy (a depth limit), not a parse error.
      const { status, answer } = await post("[".repeat(100_000) + "]".repeat(100_000));
      assert.equal(status, 202);
      h.accepted.add(answer.id);
      await h.expectRecords("deep JSON", ["accepted"]);
    });
  });
  h.assertBoundedMemory("bodies under a valid signature");

  await t.step("endpoint names that are not endpoints get 404", async (t) => {
    const body = '{"ref":"refs/heads/main"}';
    for (const path of BAD_NAMES) {
      await t.step(
        path.length > 60 ? `${path.slice(0, 20)}… (${path.length} chars)` : path,
        async () => {
          const status = await rawStatus(daemon.port, [
            head([...(await signedLines(body)), `Content-Length: ${body.length}`], path),
            body,
          ]);
          assert.equal(status, 404);
          const [record] = await h.expectRecords(path, ["rejected.not_found"]);
          assert.equal(record.status, 404);
          assert.ok(String(record.path).length <= 200, "the logged path is cut");
        },
      );
    }
  });

  await t.step("a repeated signature header is refused, even when both are right", async () => {
    const body = '{"ref":"refs/heads/main"}';
    const good = await githubSignature(body, SECRET);
    const bad = await githubSignature(body, "not-the-secret");
    for (const pair of [[good, good], [bad, good], [good, bad]]) {
      const status = await rawStatus(daemon.port, [
        head([
          ...PUSH,
          ...pair.map((sig) => `X-Hub-Signature-256: ${sig}`),
          `Content-Length: ${body.length}`,
        ]),
        body,
      ]);
      assert.equal(status, 401);
      const [record] = await h.expectRecords("repeated signature", ["rejected.signature"]);
      assert.match(String(record.reason), /more than once/);
    }
  });

  await t.step("headers then silence, and bodies that never end, do not stop others", async () => {
    const base = openFds(pid);
    const loris = await Promise.all(
      Array.from({ length: 50 }, () => Deno.connect({ hostname: "127.0.0.1", port: daemon.port })),
    );
    const stalled = await Deno.connect({ hostname: "127.0.0.1", port: daemon.port });
    try {
      for (const conn of loris) await writeAll(conn, "POST /hooks/gh HTTP/1.1\r\nHost: x\r\n");
      const body = '{"ref":"refs/heads/main"}';
      await writeAll(stalled, head([...(await signedLines(body)), "Content-Length: 1000"]));
      await writeAll(stalled, body);
      await waitUntil("the daemon holds every connection", () => openFds(pid) >= base + 51);
      // Others are served meanwhile: a signed delivery, and a 413 on a
      // declared length, which needs no body.
      assert.deepEqual(await h.mark(), []);
      const status = await rawStatus(daemon.port, [
        head([...PUSH, `Content-Length: ${LIMIT + 1}`]),
      ]);
      assert.equal(status, 413);
      await h.expectRecords("413 beside stalled clients", ["rejected.too_large"]);
    } finally {
      for (const conn of loris) closeQuietly(conn);
      closeQuietly(stalled);
    }
    // The stalled body ends with its connection; the silent heads never
    // reached hookd.
    await h.waitForNew((r) => r.outcome === "rejected.incomplete");
    await h.expectRecords("stalled body closed", ["rejected.incomplete"]);
    await waitUntil("the connections are released", () => openFds(pid) <= base + 5);
  });
  h.assertBoundedMemory("slow clients");

  await t.step("2,000 connections at once are all answered and all released", async () => {
    const base = openFds(pid);
    const conns = await Promise.all(
      Array.from(
        { length: 2_000 },
        () => Deno.connect({ hostname: "127.0.0.1", port: daemon.port }),
      ),
    );
    try {
      // Sockets, not every descriptor: a file another step left open may close meanwhile. The
      // cheap count first (reading 2,000 links every poll slows a loaded machine), and a wide
      // bound: on a busy 2-core machine accepting 2,000 connections can take a while.
      await waitUntil(
        "the daemon holds 2,000 connections",
        () => openFds(pid) >= base + 1_990 && openSockets(pid) >= 2_000,
        60_000,
      );
      assert.deepEqual(await h.mark(), [], "served while 2,000 connections are open");
      const request = head([...PUSH, "Connection: close", "Content-Length: 2"]) + "{}";
      const statuses = await Promise.all(conns.map((conn) => exchange(conn, [request], {})));
      assert.deepEqual(new Set(statuses), new Set([401]));
    } finally {
      for (const conn of conns) closeQuietly(conn);
    }
    const records = await h.mark();
    assert.equal(records.length, 2_000);
    assert.ok(records.every((r) => r.outcome === "rejected.signature" && r.status === 401));
    await waitUntil("the connections are released", () => openFds(pid) <= base + 5);
  });
  h.assertBoundedMemory("2,000 connections");

  await t.step("random bodies and headers: never a 5xx, a hook only when signed", async () => {
    let sent = 0;
    const acceptedBodies = new Set<string>();
    const tokenChars = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-");
    const headerName = fc.string({ unit: tokenChars, minLength: 1, maxLength: 16 })
      .map((s) => `x-${s}`);
    const headerValue = fc.stringMatching(/^[!-~]([ -~]{0,62}[!-~])?$/);
    // Weighted so that a fair share is signed, named and JSON: accepted.
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      { arbitrary: fc.json().map((text) => encoder.encode(text)), weight: 2 },
      fc.string({ unit: "grapheme", maxLength: 512 }).map((text) => encoder.encode(text)),
    );
    const signature = fc.oneof(
      { arbitrary: fc.constant("right"), weight: 3 },
      fc.constantFrom("absent", "wrong secret", "garbage", "repeated"),
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.dictionary(headerName, headerValue, { maxKeys: 8 }),
        fc.option(fc.stringMatching(/^[!-~]{1,40}$/), { nil: undefined, freq: 5 }),
        fc.constantFrom(
          undefined,
          "application/json",
          "application/x-www-form-urlencoded",
          "text/plain",
        ),
        signature,
        fc.stringMatching(/^[0-9a-f]{0,80}$/),
        async (bytes, extra, event, contentType, kind, garbage) => {
          const headers = new Headers(extra);
          if (event !== undefined) headers.set("X-GitHub-Event", event);
          if (contentType !== undefined) headers.set("Content-Type", contentType);
          headers.set("X-GitHub-Delivery", `prop-${++sent}`);
          const right = await githubSignature(bytes, SECRET);
          if (kind === "right") headers.set("X-Hub-Signature-256", right);
          if (kind === "wrong secret") {
            headers.set("X-Hub-Signature-256", await githubSignature(bytes, `${SECRET}!`));
          }
          if (kind === "garbage") headers.set("X-Hub-Signature-256", `sha256=${garbage}`);
          if (kind === "repeated") {
            headers.append("X-Hub-Signature-256", right);
            headers.append("X-Hub-Signature-256", right);
          }
          const response = await daemon.post("gh", new Uint8Array(bytes), headers);
          const answer = await response.json();
          assert.ok(response.status < 500, `${response.status}: ${JSON.stringify(answer)}`);
          if (kind !== "right") {
            assert.equal(response.status, 401);
            return;
          }
          assert.ok([200, 202, 400].includes(response.status), `${response.status}`);
          // GitHub signs the body only: the same signed bytes again are the same delivery.
          const signed = bytes.join(",");
          if (response.status === 200) {
            assert.equal(answer.duplicate, true);
            assert.ok(acceptedBodies.has(signed), "a duplicate only of a body accepted before");
          }
          if (response.status === 202) {
            assert.notEqual(event, undefined);
            assert.ok(!acceptedBodies.has(signed), "a body accepted before is a duplicate");
            acceptedBodies.add(signed);
            h.accepted.add(answer.id);
          }
        },
      ),
      { numRuns: 120 },
    );
    const records = await h.mark();
    assert.equal(records.length, sent, "one record per request");
  });
  h.assertBoundedMemory("random requests");

  await t.step("hooks ran exactly for the accepted deliveries", async () => {
    for (const id of h.accepted) {
      await daemon.waitForRecord((r) => r.type === "hook" && r.id === id);
    }
    const ranFor = new Set<string>();
    for await (const entry of Deno.readDir(ran.path)) ranFor.add(entry.name);
    assert.deepEqual(ranFor, h.accepted);
    const hooks = (await daemon.records()).filter((r) => r.type === "hook");
    assert.equal(hooks.length, h.accepted.size);
    assert.ok(hooks.every((r) => r.exitCode === 0), "every hook succeeded");
  });
});

Deno.test("hookd check refuses an empty secret and names the variable", async (t) => {
  await using dir = await tempDir("hookd_hostile_check_");
  for (const secret of ["", "   "]) {
    await t.step(JSON.stringify(secret), async () => {
      const envFile = `${dir.path}/hookd.env`;
      await Deno.writeTextFile(
        envFile,
        envFileText({
          HOOKD_ENDPOINTS: "gh",
          HOOKD_GH_PROVIDER: "github",
          HOOKD_GH_SECRET: secret,
          HOOKD_STATE_DIR: `${dir.path}/state`,
          HOOKD_LOG_FILE: `${dir.path}/hookd.log`,
        }),
        { mode: 0o600 },
      );
      const { code, stderr } = await runHookd(["check", "--env-file", envFile]);
      assert.equal(code, 1);
      assert.match(stderr, /HOOKD_GH_SECRET is empty/);
    });
  }
});

Deno.test("bodyLimit() answers 408 to a body that stalls past its time limit", async () => {
  const app = new Hono<{ Variables: BodyLimitVariables }>();
  app.onError((error, c) => {
    assert.ok(error instanceof HttpError);
    return c.json({ outcome: error.outcome }, error.status as 408);
  });
  app.post("/", bodyLimit({ maxBytes: 1024, timeoutMs: 200 }), (c) => c.text("read"));
  const stop = new AbortController();
  const server = Deno.serve({ port: 0, signal: stop.signal, onListen() {} }, app.fetch);
  try {
    // A drip that never ends: one byte now, the rest never. Only the time-out can answer it
    // (rawStatus gives up after 10 s without an answer).
    const status = await rawStatus(server.addr.port, [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
      "{",
    ]);
    assert.equal(status, 408);
    // A body that arrives in time is read.
    const ok = await rawStatus(server.addr.port, [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n",
      "{}",
    ]);
    assert.equal(ok, 200);
  } finally {
    stop.abort();
    await server.finished;
  }
});

integrationTest(
  "hookd refuses a signature list too long to check, and keeps serving",
  async (t) => {
    const secret = "whsec_hostile_stripe";
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "stripe",
      HOOKD_STRIPE_PROVIDER: "stripe",
      HOOKD_STRIPE_SECRET: secret,
      HOOKD_STRIPE_SECRET_PREVIOUS: `${secret}_previous`,
      HOOKD_MAX_BODY_BYTES: String(2 << 20),
      HOOKD_STRIPE_HOOK_DEFAULT: "true",
    });
    const healthz = async () => {
      const response = await fetch(`${daemon.adminUrl}/healthz`);
      await response.body?.cancel();
      return response.status;
    };
    const prefix = '{"id":"evt_big","type":"invoice.paid","padding":"';
    const body = encoder.encode(prefix + "p".repeat((1 << 20) - prefix.length - 2) + '"}');
    assert.equal(body.length, 1 << 20);

    await t.step("a 1 MB body with 900 v1 entries: 401 too many signatures", async () => {
      const t0 = Math.floor(Date.now() / 1000);
      const entries = Array.from(
        { length: 900 },
        () => `v1=${crypto.getRandomValues(new Uint8Array(32)).toHex()}`,
      );
      const header = `t=${t0},${entries.join(",")}`;
      // Several at once, and /healthz asked while they are in flight.
      const refusals = Array.from({ length: 4 }, () =>
        daemon.post("stripe", body, {
          "Content-Type": "application/json",
          "Stripe-Signature": header,
        }));
      assert.equal(await healthz(), 200);
      for (const response of await Promise.all(refusals)) {
        assert.equal(response.status, 401);
        assert.deepEqual(await response.json(), { error: "Too many signatures" });
      }
      const records = await daemon.waitForRecords(
        (r) => r.type === "request" && r.outcome === "rejected.signature",
        4,
      );
      assert.ok(records.every((r) => r.reason === "Too many signatures" && r.status === 401));
      assert.equal(await healthz(), 200);
    });

    await t.step("the same body, correctly signed, is still accepted", async () => {
      const t0 = Math.floor(Date.now() / 1000);
      const mac = await hmacHex(
        "SHA-256",
        secret,
        new Uint8Array([...encoder.encode(`${t0}.`), ...body]),
      );
      const response = await daemon.post("stripe", body, {
        "Content-Type": "application/json",
        "Stripe-Signature": `t=${t0},v1=${mac}`,
      });
      const answer = await response.json();
      assert.equal(response.status, 202, JSON.stringify(answer));
    });
  },
);

integrationTest(
  "hookd answers a reused Mailgun signature as a duplicate and runs nothing",
  async () => {
    const key = "key-hostile-mailgun";
    await using ran = await tempDir("hookd_hostile_mailgun_");
    const events = `${ran.path}/events`;
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "mailgun",
      HOOKD_MAILGUN_PROVIDER: "mailgun",
      HOOKD_MAILGUN_SECRET: key,
      // One at a time, in order: once a later delivery's hook ran, an earlier one would have.
      HOOKD_MAILGUN_CONCURRENCY: "1",
      HOOKD_MAILGUN_HOOK_DEFAULT: `printf '%s\\n' "$HOOKD_EVENT" >> "${events}"`,
    });
    const signatureBlock = async (token: string) => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      return { timestamp, token, signature: await hmacHex("SHA-256", key, timestamp + token) };
    };
    const post = async (signature: object, eventData: object) => {
      const response = await daemon.post(
        "mailgun",
        JSON.stringify({ signature, "event-data": eventData }),
        { "Content-Type": "application/json" },
      );
      return { status: response.status, answer: await response.json() };
    };

    const captured = await signatureBlock(crypto.randomUUID().replaceAll("-", ""));
    const first = await post(captured, { event: "delivered", id: "mg-1" });
    assert.equal(first.status, 202, JSON.stringify(first.answer));

    const forged = await post(captured, { event: "complained", id: "chosen-by-the-sender" });
    assert.equal(forged.status, 200, JSON.stringify(forged.answer));
    assert.equal(forged.answer.duplicate, true);
    assert.equal(forged.answer.id, first.answer.id);
    await daemon.waitForRecord((r) => r.type === "request" && r.outcome === "duplicate");

    const next = await post(await signatureBlock(crypto.randomUUID().replaceAll("-", "")), {
      event: "opened",
      id: "mg-2",
    });
    assert.equal(next.status, 202, JSON.stringify(next.answer));
    await daemon.waitForRecord((r) => r.type === "hook" && r.id === next.answer.id);
    assert.equal(await Deno.readTextFile(events), "delivered\nopened\n");
    const hooks = (await daemon.records()).filter((r) => r.type === "hook");
    assert.deepEqual(hooks.map((r) => r.id), [first.answer.id, next.answer.id]);
  },
);

integrationTest(
  "hookd answers a captured GitHub body replayed under another event and id as a duplicate",
  async () => {
    await using ran = await tempDir("hookd_hostile_replay_");
    const events = `${ran.path}/events`;
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "gh,open",
      HOOKD_OPEN_PROVIDER: "github",
      HOOKD_OPEN_SECRET: SECRET,
      HOOKD_OPEN_DEDUPE_BODY: "false",
      HOOKD_GH_PROVIDER: "github",
      HOOKD_GH_SECRET: SECRET,
      HOOKD_GH_CONCURRENCY: "1",
      HOOKD_GH_HOOK_PUSH: `printf 'push %s\\n' "$HOOKD_SOURCE_DELIVERY_ID" >> "${events}"`,
      HOOKD_GH_HOOK_RELEASE: `printf 'release %s\\n' "$HOOKD_SOURCE_DELIVERY_ID" >> "${events}"`,
    });
    const body = JSON.stringify({ ref: "refs/heads/main", after: "1".repeat(40) });
    const send = async (event: string, id: string, payload = body, endpoint = "gh") => {
      const response = await daemon.post(endpoint, payload, {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": id,
        "X-Hub-Signature-256": await githubSignature(payload, SECRET),
      });
      return { status: response.status, answer: await response.json() };
    };

    const first = await send("push", "delivery-1");
    assert.equal(first.status, 202, JSON.stringify(first.answer));
    // The signature covers the body only: a fresh id and another event header change nothing
    // the sender signed, so the replay is the same delivery.
    const replayed = await send("release", "delivery-2");
    assert.equal(replayed.status, 200, JSON.stringify(replayed.answer));
    assert.equal(replayed.answer.duplicate, true);
    assert.equal(replayed.answer.id, first.answer.id);
    assert.equal(replayed.answer.event, "push", "the answer names what is stored");

    const other = JSON.stringify({ ref: "refs/heads/main", after: "2".repeat(40) });
    const next = await send("push", "delivery-3", other);
    assert.equal(next.status, 202, JSON.stringify(next.answer));
    await daemon.waitForRecord((r) => r.type === "hook" && r.id === next.answer.id);
    assert.equal(await Deno.readTextFile(events), "push delivery-1\npush delivery-3\n");

    // An endpoint that opts out keeps identical bodies apart (deduping on the id only).
    const again = await send("push", "delivery-4", other, "open");
    const twice = await send("push", "delivery-5", other, "open");
    assert.deepEqual([again.status, twice.status], [202, 202]);
    assert.notEqual(again.answer.id, twice.answer.id);
  },
);

integrationTest(
  "hookd refuses a long dotted event name before any lookup, and keeps serving",
  async (t) => {
    await using daemon = await startDaemon({
      HOOKD_ENDPOINTS: "open",
      HOOKD_OPEN_PROVIDER: "none",
      HOOKD_OPEN_EVENT_HEADER: "X-Event",
      HOOKD_OPEN_HOOK_DEFAULT: "true",
    });
    const healthz = async () => {
      const response = await fetch(`${daemon.adminUrl}/healthz`);
      await response.body?.cancel();
      return response.status;
    };
    const sizes = [8, 30];
    for (const [i, kb] of sizes.entries()) {
      await t.step(`${kb} KB of dotted event header: 400, /healthz answers meanwhile`, async () => {
        const event = "a.".repeat(kb * 512).slice(0, -1);
        const refused = daemon.post("open", "{}", {
          "Content-Type": "application/json",
          "X-Event": event,
        });
        // Asked while the refusal is in flight: a daemon busy with the name would not answer.
        assert.equal(await healthz(), 200);
        const response = await refused;
        assert.equal(response.status, 400);
        assert.deepEqual(await response.json(), { error: "Event name too long" });
        const [record] = await daemon.waitForRecords(
          (r) => r.type === "request" && r.reason === "Event name too long",
          i + 1,
        ).then((found) => found.slice(i));
        assert.equal(record.outcome, "rejected.malformed");
        assert.ok(String(record.event ?? "").length <= 200, "the logged name is cut");
        assert.equal(await healthz(), 200);
      });
    }
    await t.step("one record per refusal, and nothing ran", async () => {
      const records = (await daemon.records()).filter((r) => r.type === "request");
      assert.equal(records.length, sizes.length);
      assert.equal((await daemon.records()).filter((r) => r.type === "hook").length, 0);
    });
  },
);
