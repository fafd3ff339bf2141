/**
 * Tests for the body limit: refusals before reading, a running byte count
 * whatever the headers claim, and 400 for headers that cannot be trusted.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { bodyLimit, type BodyLimitVariables } from "../../lib/http/body_limit.ts";
import { HttpError } from "../../lib/http/http_error.ts";

const LIMIT = 16;
const encoder = new TextEncoder();

/** An app that answers with the byte count it got, and maps refusals as lib/http/app.ts does. */
function limitedApp(
  maxBytes = LIMIT,
): { app: Hono<{ Variables: BodyLimitVariables }>; reached: () => number } {
  let reached = 0;
  const app = new Hono<{ Variables: BodyLimitVariables }>();
  app.onError((error, c) => {
    if (error instanceof HttpError) {
      return c.json(
        { error: error.message, outcome: error.outcome },
        error.status as ContentfulStatusCode,
      );
    }
    return c.json({ error: String(error) }, 500);
  });
  app.post("/", bodyLimit({ maxBytes }), (c) => {
    reached++;
    return c.json({
      bytes: c.get("body").byteLength,
      text: new TextDecoder().decode(c.get("body")),
    });
  });
  return { app, reached: () => reached };
}

/**
 * A body stream that records every pull. `highWaterMark: 0` so that the
 * stream never pulls on its own: a pull means someone read it.
 */
function recordingStream(
  chunks: Uint8Array[],
  options: { failAfter?: number } = {},
): { stream: ReadableStream<Uint8Array>; pulls: () => number; cancelled: () => boolean } {
  let pulls = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      if (options.failAfter !== undefined && pulls > options.failAfter) {
        controller.error(new Error("connection reset"));
        return;
      }
      const chunk = chunks.shift();
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, pulls: () => pulls, cancelled: () => cancelled };
}

function post(body: BodyInit | null, headers: HeadersInit = {}): Request {
  return new Request("http://hookd.test/", {
    method: "POST",
    body,
    headers,
    // A stream body needs this; it is harmless for the others.
    duplex: "half",
  } as RequestInit);
}

function bytes(n: number): Uint8Array {
  return new Uint8Array(n).fill(0x61);
}

Deno.test("bodyLimit() answers 413 on a declared length before reading", async (t) => {
  for (const declared of [LIMIT + 1, 52_428_800]) {
    await t.step(`Content-Length ${declared}: the body stream is never pulled`, async () => {
      const { app, reached } = limitedApp();
      const body = recordingStream([bytes(LIMIT + 1)]);
      const response = await app.request(post(body.stream, { "Content-Length": String(declared) }));
      assert.equal(response.status, 413);
      assert.deepEqual(await response.json(), {
        error: `Body exceeds ${LIMIT} bytes`,
        outcome: "rejected.too_large",
      });
      assert.equal(body.pulls(), 0, "not one byte was read");
      assert.equal(reached(), 0);
    });
  }

  await t.step("the control: an acceptable declared length is read", async () => {
    const { app } = limitedApp();
    const body = recordingStream([encoder.encode("hello")]);
    const response = await app.request(post(body.stream, { "Content-Length": "5" }));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { bytes: 5, text: "hello" });
    assert.ok(body.pulls() > 0, "the stream was read");
  });
});

Deno.test("bodyLimit() counts the bytes of a body with no Content-Length", async (t) => {
  await t.step("limit+1 bytes in small chunks: 413, and reading stops there", async () => {
    const { app, reached } = limitedApp();
    const chunks = [bytes(10), bytes(7), bytes(100), bytes(100)];
    const body = recordingStream(chunks);
    const response = await app.request(post(body.stream));
    assert.equal(response.status, 413);
    assert.equal((await response.json()).outcome, "rejected.too_large");
    assert.equal(body.pulls(), 2, "stopped at the chunk that crossed the limit");
    assert.ok(body.cancelled(), "the rest of the stream was cancelled");
    assert.equal(reached(), 0);
  });

  await t.step("exactly limit+1 bytes in one chunk: 413", async () => {
    const { app } = limitedApp();
    const response = await app.request(post(recordingStream([bytes(LIMIT + 1)]).stream));
    assert.equal(response.status, 413);
    await response.body?.cancel();
  });

  await t.step("exactly the limit, in pieces: accepted, every byte kept in order", async () => {
    const { app, reached } = limitedApp();
    const text = "0123456789abcdef";
    assert.equal(text.length, LIMIT);
    const chunks = [text.slice(0, 3), text.slice(3, 4), text.slice(4)].map((s) =>
      encoder.encode(s)
    );
    const response = await app.request(post(recordingStream(chunks).stream));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { bytes: LIMIT, text });
    assert.equal(reached(), 1);
  });

  await t.step("exactly the limit with a matching Content-Length: accepted", async () => {
    const { app } = limitedApp();
    const response = await app.request(
      post(bytes(LIMIT) as Uint8Array<ArrayBuffer>, { "Content-Length": String(LIMIT) }),
    );
    assert.equal(response.status, 200);
    assert.equal((await response.json()).bytes, LIMIT);
  });

  await t.step("a Content-Length that understates the body does not lift the limit", async () => {
    const { app } = limitedApp();
    const body = recordingStream([bytes(LIMIT), bytes(1)]);
    const response = await app.request(post(body.stream, { "Content-Length": "3" }));
    assert.equal(response.status, 413);
    await response.body?.cancel();
  });

  await t.step("no body at all: an empty body", async () => {
    const { app } = limitedApp();
    const response = await app.request(post(null));
    assert.equal(response.status, 200);
    assert.equal((await response.json()).bytes, 0);
  });
});

Deno.test("bodyLimit() answers 400 to headers it cannot trust", async (t) => {
  const cases: [string, HeadersInit][] = [
    ["non-numeric", { "Content-Length": "five" }],
    ["negative", { "Content-Length": "-1" }],
    ["fractional", { "Content-Length": "1.5" }],
    ["hex", { "Content-Length": "0x10" }],
    ["empty", { "Content-Length": "" }],
    ["duplicated", [["Content-Length", "5"], ["Content-Length", "5"]]],
    ["two values in one", { "Content-Length": "5, 5" }],
    ["with Transfer-Encoding", { "Content-Length": "5", "Transfer-Encoding": "chunked" }],
  ];
  for (const [name, headers] of cases) {
    await t.step(`Content-Length ${name}: 400 before reading`, async () => {
      const { app, reached } = limitedApp();
      const body = recordingStream([encoder.encode("hello")]);
      const response = await app.request(post(body.stream, headers));
      assert.equal(response.status, 400);
      assert.equal((await response.json()).outcome, "rejected.malformed");
      assert.equal(body.pulls(), 0);
      assert.equal(reached(), 0);
    });
  }

  await t.step("a body that breaks off mid-way", async () => {
    const { app, reached } = limitedApp();
    const body = recordingStream([bytes(4), bytes(4)], { failAfter: 1 });
    const response = await app.request(post(body.stream));
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: "Body could not be read to its end",
      outcome: "rejected.incomplete",
    });
    assert.equal(reached(), 0);
  });
});

Deno.test("bodyLimit() checks its options when it is built", async (t) => {
  for (const maxBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    await t.step(`maxBytes ${maxBytes} throws`, () => {
      assert.throws(() => bodyLimit({ maxBytes }), RangeError);
    });
  }
  await t.step("maxBytes 1 is fine", () => {
    assert.equal(typeof bodyLimit({ maxBytes: 1 }), "function");
  });
});

Deno.test("bodyLimit() answers 408 to each stalled body and reads the bodies that arrive meanwhile", async () => {
  const app = new Hono<{ Variables: BodyLimitVariables }>();
  app.onError((error, c) => {
    assert.ok(error instanceof HttpError);
    return c.json({ outcome: error.outcome }, error.status as ContentfulStatusCode);
  });
  app.post("/", bodyLimit({ maxBytes: 1024, timeoutMs: 150 }), (c) => c.text("read"));
  /** A body that sends one byte and then nothing: its pull never settles. */
  const stalled = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(1));
      },
      pull: () => new Promise<void>(() => {}),
    });
  /** Send a request; resolve with its status and answer. */
  const send = async (request: Request) => {
    const response = await app.request(request);
    return { status: response.status, text: await response.text() };
  };
  // Two stalled bodies (declared length and chunked), and bodies that arrive in time before,
  // between and after them.
  const declared = send(post(stalled(), { "Content-Length": "10" }));
  assert.equal((await send(post(bytes(8) as Uint8Array<ArrayBuffer>))).text, "read");
  const chunked = send(post(stalled()));
  assert.equal(
    (await send(post(bytes(4) as Uint8Array<ArrayBuffer>, { "Content-Length": "4" }))).text,
    "read",
  );
  for (const answer of [await declared, await chunked]) {
    assert.equal(answer.status, 408);
    assert.equal(JSON.parse(answer.text).outcome, "rejected.timeout");
  }
  // Nothing under way is left behind (the sanitizers check timers), and a stalled body after
  // that is answered the same way.
  assert.equal((await send(post(stalled(), { "Content-Length": "3" }))).status, 408);
  assert.equal((await send(post(bytes(2) as Uint8Array<ArrayBuffer>))).text, "read");
});
