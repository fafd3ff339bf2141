/**
 * Tests for the `zoom` provider: the sender's own vectors, then every way a
 * Zoom delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { zoom } from "../../lib/verify/zoom.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

// Zoom documents the scheme (https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events)
// and ships a sample (https://github.com/zoom/webhook-sample/blob/master/index.js)
// but no (secret, body, signature) vector: node:crypto is the oracle.
// The bodies are the ones Zoom's docs and sample README show.
const SECRET = "zoom_secret_token_1";
const PREVIOUS = "zoom_secret_token_0";
const TS = 1_658_940_994;
const NOW = TS * 1000;
const STARTED = JSON.stringify({
  event: "meeting.started",
  payload: { account_id: "AAAAAA", object: { id: "1234567890", topic: "standup" } },
  event_ts: 1635885799302,
});
const VALIDATION = JSON.stringify({
  payload: { plainToken: "qgg8vlvZRS6UYooatFL8Aw" },
  event_ts: 1654503849680,
  event: "endpoint.url_validation",
});

function oracle(secret: string, ts: number | string, body: string | Uint8Array): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${ts}:`).update(body).digest("hex")}`;
}

function headers(signature: string | string[], ts: number | string = TS): Headers {
  const h = new Headers({
    "x-zm-request-timestamp": String(ts),
    "x-zm-trackingid": "v=2.0;clid=aw1;rid=1234",
    "content-type": "application/json; charset=utf-8",
  });
  for (const value of [signature].flat()) h.append("x-zm-signature", value);
  return h;
}

async function verify(h: Headers, body: string | Uint8Array = STARTED, now = NOW) {
  const check = await zoom.create(endpointFor(zoom, [SECRET, PREVIOUS]));
  return check(delivery(h, body, now));
}

Deno.test("zoom verify() checks x-zm-signature and answers URL validation", async (t) => {
  await t.step("accepts a signed event; delivery id is x-zm-trackingid", async () => {
    const verdict = assertAccepted(await verify(headers(oracle(SECRET, TS, STARTED))));
    assert.equal(verdict.event, "meeting.started");
    assert.equal(verdict.deliveryId, "v=2.0;clid=aw1;rid=1234");
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(verdict.reply, undefined);
  });

  await t.step(
    "answers endpoint.url_validation with the token MACed under the secret",
    async () => {
      const verdict = assertAccepted(
        await verify(headers(oracle(SECRET, TS, VALIDATION)), VALIDATION),
      );
      const encryptedToken = createHmac("sha256", SECRET).update("qgg8vlvZRS6UYooatFL8Aw").digest(
        "hex",
      );
      assert.deepEqual(verdict.reply, {
        status: 200,
        body: { plainToken: "qgg8vlvZRS6UYooatFL8Aw", encryptedToken },
      });
    },
  );

  await t.step("during rotation, answers with the secret Zoom signed with", async () => {
    const verdict = assertAccepted(
      await verify(headers(oracle(PREVIOUS, TS, VALIDATION)), VALIDATION),
    );
    assert.equal(verdict.verifiedBy, "previous secret");
    const encryptedToken = createHmac("sha256", PREVIOUS).update("qgg8vlvZRS6UYooatFL8Aw").digest(
      "hex",
    );
    assert.equal(
      (verdict.reply?.body as { encryptedToken: string }).encryptedToken,
      encryptedToken,
    );
  });

  await t.step("refuses a one-byte change, a wrong secret, a truncated signature", async () => {
    const good = oracle(SECRET, TS, STARTED);
    assertRejected(await verify(headers(good), flipByte(STARTED, 12)), 401, /invalid signature/);
    assertRejected(await verify(headers(oracle("wrong", TS, STARTED))), 401, /invalid signature/);
    assertRejected(await verify(headers(good.slice(0, 40))), 401, /malformed x-zm-signature/);
  });

  await t.step("refuses an unsigned URL validation (no free oracle for the secret)", async () => {
    assertRejected(
      await verify(headers(oracle("wrong", TS, VALIDATION)), VALIDATION),
      401,
      /invalid signature/,
    );
  });

  await t.step("refuses the wrong encoding and an unknown version", async () => {
    const good = oracle(SECRET, TS, STARTED);
    assertRejected(
      await verify(headers(`v0=${Uint8Array.fromHex(good.slice(3)).toBase64()}`)),
      401,
      /malformed/,
    );
    assertRejected(await verify(headers(`v1=${good.slice(3)}`)), 401, /malformed/);
  });

  await t.step("refuses stale and future timestamps", async () => {
    for (const ts of [TS - 301, TS + 301]) {
      assertRejected(
        await verify(headers(oracle(SECRET, ts, STARTED), ts)),
        401,
        /^stale$/,
        "rejected.stale",
      );
    }
  });

  await t.step("refuses missing, repeated and malformed headers", async () => {
    const good = oracle(SECRET, TS, STARTED);
    assertRejected(await verify(headers([good, good])), 401, /more than once/);
    assertRejected(await verify(headers(good, "")), 401, /malformed x-zm-request-timestamp/);
    const h = headers(good);
    h.delete("x-zm-signature");
    assertRejected(await verify(h), 401, /missing x-zm-signature/);
  });

  await t.step("answers 400 for a signed body without an event", async () => {
    assertRejected(await verify(headers(oracle(SECRET, TS, "{}")), "{}"), 400, /no event/);
  });
});

Deno.test("zoom sign() writes what Zoom sends", async () => {
  const endpoint = endpointFor(zoom, [SECRET]);
  const body = new TextEncoder().encode(STARTED);
  const h = await zoom.sign!(endpoint, body, { now: NOW, deliveryId: "rid" });
  assert.equal(h["x-zm-signature"], oracle(SECRET, TS, STARTED));
  assert.equal(h["x-zm-request-timestamp"], String(TS));
  assert.equal(h["x-zm-trackingid"], "rid");
});
