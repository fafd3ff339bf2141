/**
 * Tests for the `contentful` provider: the canonical request its toolkit
 * signs (path, signed headers, body), the timestamp window, the public path.
 *
 * @module
 */

import assert from "node:assert/strict";
import { contentful, contentfulPath } from "../../lib/verify/contentful.ts";
import { assertAccepted, assertRejected, delivery, flipByte } from "./_timestamped.ts";
import { verifyOnce } from "./_body_signed.ts";

// Vectors from Contentful's own signing code, signRequest() of
// @contentful/node-apps-toolkit 3.16.1 (lib/requests/index.mjs, run with
// its dependency runtypes 5.1.0):
//   signRequest(SECRET, { method: "POST", path, headers, body: BODY }, 1700000000000)
const SECRET = "a".repeat(32) + "B".repeat(32);
const PREVIOUS = "c".repeat(64);
const BODY =
  '{"sys":{"type":"Entry","id":"5KsDBWseXY6QegucYAoacS"},"fields":{"title":{"en-US":"Hello"}}}';
const TIMESTAMP = "1700000000000";
const NOW = 1_700_000_000_000 + 10_000;
const TOPIC = "ContentManagement.Entry.publish";
const LOCAL = "http://127.0.0.1:9000/hooks/contentful";
/** path /hooks/contentful, headers { X-Contentful-Topic, Content-Type } */
const WITH_TYPE = {
  signature: "6822279e4d201b0bfffc8bee5e9b95fba2095bac8544c0b76ca05fb020a749b2",
  signed: "content-type,x-contentful-signed-headers,x-contentful-timestamp,x-contentful-topic",
};
/** path /hooks/contentful?space=abc&env=master, headers { X-Contentful-Topic } */
const WITH_QUERY = "60b63aab99db669eeb3a8aca3bc83094987471da878b58ff7ab4d025c46d85e2";
/** path /cms/webhook (the public path, rewritten by a proxy), headers { X-Contentful-Topic } */
const PUBLIC = "4ccafe62c1610a7d103229927ee9d597abbf15e4828f0f2693ce8ee460f6464a";
/** path /hooks/contentful, headers { X-Contentful-Topic }, secret PREVIOUS */
const WITH_PREVIOUS = "2aef3858264f712dce8c21e7e488728448c3e1ff751e6d867b51d6b42909e911";
/** path /hooks/contentful, no headers: only the timestamp and the list are signed */
const NO_HEADERS = "45802d8f8c8e6f0ba25813c930a64a0eba7e918c9f119368daeeeb4c1cb032ed";
const TOPIC_ONLY = "x-contentful-signed-headers,x-contentful-timestamp,x-contentful-topic";

function headers(
  signature: string,
  signed = TOPIC_ONLY,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "Content-Type": "application/vnd.contentful.management.v1+json",
    "X-Contentful-Topic": TOPIC,
    "X-Contentful-Webhook-Name": "Deploy",
    "X-Contentful-Timestamp": TIMESTAMP,
    "X-Contentful-Signed-Headers": signed,
    "X-Contentful-Signature": signature,
    ...extra,
  };
}

const run = (
  h: HeadersInit,
  options: {
    body?: string | Uint8Array;
    now?: number;
    url?: string;
    settings?: Record<string, string>;
  } = {},
) =>
  verifyOnce(
    contentful,
    [SECRET, PREVIOUS],
    delivery(h, options.body ?? BODY, options.now ?? NOW, options.url ?? LOCAL),
    options.settings,
  );

Deno.test("contentful verify() holds the toolkit's signatures", async (t) => {
  await t.step("signed content-type and topic", async () => {
    const verdict = assertAccepted(await run(headers(WITH_TYPE.signature, WITH_TYPE.signed)));
    assert.equal(verdict.event, TOPIC);
    assert.equal(verdict.verifiedBy, "secret");
    assert.deepEqual(verdict.replayKey, new TextEncoder().encode(BODY));
  });
  await t.step("a query string, as received", async () => {
    assertAccepted(await run(headers(WITH_QUERY), { url: `${LOCAL}?space=abc&env=master` }));
    assertRejected(await run(headers(WITH_QUERY)), 401, /invalid/);
  });
  await t.step("the public path when a proxy rewrote it", async () => {
    assertAccepted(await run(headers(PUBLIC), { settings: { PUBLIC_PATH: "/cms/webhook" } }));
    assertRejected(await run(headers(PUBLIC)), 401, /invalid/);
  });
  await t.step("the previous secret, said so", async () => {
    const verdict = assertAccepted(await run(headers(WITH_PREVIOUS)));
    assert.equal(verdict.verifiedBy, "previous secret");
  });
  await t.step("unsigned headers may come and go", async () => {
    assertAccepted(
      await run(headers(WITH_PREVIOUS, TOPIC_ONLY, { "X-Contentful-Webhook-Name": "Other" })),
    );
  });
});

Deno.test("contentful verify() refuses what Contentful would not send", async (t) => {
  const good = headers(WITH_TYPE.signature, WITH_TYPE.signed);
  await t.step("a one-byte change to the body, a signed header, the timestamp", async () => {
    assertRejected(await run(good, { body: flipByte(BODY, 30) }), 401, /invalid/);
    assertRejected(await run({ ...good, "Content-Type": "application/json" }), 401, /invalid/);
    assertRejected(
      await run({ ...good, "X-Contentful-Topic": "ContentManagement.Entry.delete" }),
      401,
      /invalid/,
    );
    assertRejected(
      await run({ ...good, "X-Contentful-Timestamp": "1700000000001" }),
      401,
      /invalid/,
    );
  });
  await t.step("a signed header left out of the list", async () => {
    assertRejected(
      await run({ ...good, "X-Contentful-Signed-Headers": TOPIC_ONLY }),
      401,
      /invalid/,
    );
  });
  await t.step("older or newer than 5 minutes", async () => {
    const stale = Number(TIMESTAMP) + 301_000;
    assertRejected(await run(good, { now: stale }), 401, /stale/, "rejected.stale");
    assertRejected(await run(good, { now: Number(TIMESTAMP) - 301_000 }), 401, /stale/);
  });
  await t.step("missing or malformed headers", async () => {
    for (
      const name of [
        "X-Contentful-Signature",
        "X-Contentful-Signed-Headers",
        "X-Contentful-Timestamp",
      ]
    ) {
      const h = { ...good };
      delete h[name as keyof typeof h];
      assertRejected(await run(h), 401, new RegExp(`missing ${name}`, "i"));
    }
    assertRejected(
      await run({ ...good, "X-Contentful-Timestamp": "2023-11-14" }),
      401,
      /malformed/,
    );
    assertRejected(
      await run({ ...good, "X-Contentful-Signature": WITH_TYPE.signature.slice(2) }),
      401,
      /malformed/,
    );
    assertRejected(
      await run({ ...good, "X-Contentful-Signed-Headers": "x-contentful-topic" }),
      401,
      /malformed/,
    );
  });
  await t.step(
    "odd names in the list are skipped as the toolkit skips them, never thrown on",
    async () => {
      // The toolkit's verifyRequest() accepts this too: only lower-case names
      // that were sent count, and the list is recomputed from them.
      const odd = `${WITH_TYPE.signed},,Bad Name,X-CONTENTFUL-TOPIC`;
      assertAccepted(await run({ ...good, "X-Contentful-Signed-Headers": odd }));
    },
  );
  await t.step("a signed delivery without a topic is a 400", async () => {
    const h: Record<string, string> = headers(
      NO_HEADERS,
      "x-contentful-signed-headers,x-contentful-timestamp",
    );
    assertAccepted(await run(h));
    delete h["X-Contentful-Topic"];
    assertRejected(await run(h), 400, /missing X-Contentful-Topic/);
  });
});

Deno.test("contentfulPath() encodes as the toolkit does", () => {
  assert.equal(contentfulPath("/hooks/contentful"), "/hooks/contentful");
  assert.equal(contentfulPath("/a b"), "/a%20b");
  assert.equal(contentfulPath("/p?a=1&b=x%20y"), "/p?a%253D1%2526b%253Dx%252520y");
  // Only up to a second "?", as the toolkit splits.
  assert.equal(contentfulPath("/p?a?b"), "/p?a");
});

Deno.test("contentful sign() signs what verify() holds, the public path included", async () => {
  const endpoint = {
    name: "cf",
    prefix: "HOOKD_CF_",
    provider: "contentful",
    secrets: [SECRET],
    settings: { PUBLIC_PATH: "/cms/webhook", TOLERANCE: "5m" },
  };
  const body = new TextEncoder().encode(BODY);
  const signed = await contentful.sign!(endpoint, body, {
    now: Number(TIMESTAMP),
    url: `${LOCAL}?x=1`,
    event: TOPIC,
  });
  const verify = await contentful.create(endpoint);
  assertAccepted(await verify(delivery(signed, body, NOW, `${LOCAL}?x=1`)));
  // Without the query it was signed with, or at the toolkit's own path, it fails.
  assertRejected(await verify(delivery(signed, body, NOW, LOCAL)), 401, /invalid/);
  assert.equal(signed["X-Contentful-Signature"].length, 64);
});
