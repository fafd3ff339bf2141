/**
 * Tests for the `standard` provider: the sender's own vectors, then every way a
 * Standard Webhooks delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { decodeStandardSecret, standard } from "../../lib/verify/standard.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

// Vector from the Standard Webhooks reference libraries' "sign function
// works" test:
// https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/javascript/src/webhook.test.ts
// https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/go/webhook_test.go
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// The "invalid signature" entry of the same test suites.
const OTHER = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
const NOW = TS * 1000;

const PREVIOUS = `whsec_${new Uint8Array(24).fill(7).toBase64()}`;

// node:crypto as an independent oracle for bodies the vectors do not cover.
function sign(secret: string, id: string, ts: number, body: string | Uint8Array): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${ts}.`).update(body).digest("base64")}`;
}

function headers(
  signature: string | string[],
  ts: number | string = TS,
  id = ID,
  family = "webhook",
) {
  const h = new Headers({ [`${family}-id`]: id, [`${family}-timestamp`]: String(ts) });
  for (const value of [signature].flat()) h.append(`${family}-signature`, value);
  return h;
}

async function verify(h: Headers, body: string | Uint8Array = BODY, now = NOW, settings = {}) {
  const check = await standard.create(endpointFor(standard, [SECRET, PREVIOUS], settings));
  return check(delivery(h, body, now));
}

Deno.test("standard verify() follows the Standard Webhooks reference tests", async (t) => {
  await t.step("accepts the reference signature; id is the delivery id", async () => {
    const verdict = assertAccepted(await verify(headers(SIGNATURE)));
    assert.equal(verdict.deliveryId, ID);
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(verdict.event, "webhook");
  });

  await t.step("accepts the secret with and without the whsec_ prefix", async () => {
    const bare = await standard.create(endpointFor(standard, [SECRET.slice(6)]));
    assertAccepted(await bare(delivery(headers(SIGNATURE), BODY, NOW)));
  });

  await t.step("decodes the secret as base64 rather than using its text", async () => {
    const text = `v1,${
      createHmac("sha256", SECRET).update(`${ID}.${TS}.${BODY}`).digest("base64")
    }`;
    assertRejected(await verify(headers(text)), 401, /invalid signature/);
    assert.deepEqual(decodeStandardSecret("whsec_AAEC"), new Uint8Array([0, 1, 2]));
  });

  await t.step("accepts the svix- header names", async () => {
    assertAccepted(await verify(headers(SIGNATURE, TS, ID, "svix")));
  });

  await t.step("accepts a multi-signature header and skips unknown versions", async () => {
    const list = [`v1,${OTHER}`, `v2,${OTHER}`, SIGNATURE, `v1,${OTHER}`].join(" ");
    assertAccepted(await verify(headers(list)));
    assertRejected(await verify(headers(`v1a,${SIGNATURE.slice(3)}`)), 401, /no v1 signature/);
  });

  await t.step("accepts the previous secret during rotation and says so", async () => {
    const verdict = assertAccepted(await verify(headers(sign(PREVIOUS, ID, TS, BODY))));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step("reads the event from EVENT_FIELD", async () => {
    const body = '{"type":"invoice.paid","data":{"kind":"x"}}';
    const h = headers(sign(SECRET, ID, TS, body));
    assert.equal(assertAccepted(await verify(h, body)).event, "invoice.paid");
    const byField = assertAccepted(await verify(h, body, NOW, { EVENT_FIELD: "data.kind" }));
    assert.equal(byField.event, "x");
  });

  await t.step("refuses the reference suite's invalid and partial signatures", async () => {
    assertRejected(await verify(headers(`v1,${OTHER}`)), 401, /invalid signature/);
    assertRejected(await verify(headers("v1,dawfeoifkpqwoekfpqoekf")), 401, /no v1/);
    assertRejected(await verify(headers(SIGNATURE.slice(0, 8))), 401, /no v1/);
    assertRejected(await verify(headers("v1,")), 401, /no v1/);
  });

  await t.step("refuses a one-byte change to the body or the id", async () => {
    assertRejected(await verify(headers(SIGNATURE), flipByte(BODY, 3)), 401, /invalid signature/);
    assertRejected(await verify(headers(SIGNATURE, TS, `${ID}x`)), 401, /invalid signature/);
  });

  await t.step("refuses a wrong secret", async () => {
    const wrong = `whsec_${new Uint8Array(24).fill(9).toBase64()}`;
    assertRejected(await verify(headers(sign(wrong, ID, TS, BODY))), 401, /invalid signature/);
  });

  await t.step("refuses a signature in the wrong encoding", async () => {
    const hex = Uint8Array.fromBase64(SIGNATURE.slice(3)).toHex();
    assertRejected(await verify(headers(`v1,${hex}`)), 401, /no v1/);
  });

  await t.step("refuses old and new timestamps beyond the tolerance", async () => {
    for (const ts of [TS - 301, TS + 301]) {
      assertRejected(
        await verify(headers(sign(SECRET, ID, ts, BODY), ts)),
        401,
        /^stale$/,
        "rejected.stale",
      );
    }
  });

  await t.step("refuses missing, repeated and malformed headers", async () => {
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const h = headers(SIGNATURE);
      h.delete(name);
      // Without webhook-signature the svix family is not present either.
      assertRejected(await verify(h), 401, /missing/);
    }
    assertRejected(await verify(headers([SIGNATURE, SIGNATURE])), 401, /more than once/);
    assertRejected(await verify(headers(SIGNATURE, "hello")), 401, /malformed webhook-timestamp/);
  });

  await t.step("answers 400 for a signed body that is not JSON", async () => {
    assertRejected(await verify(headers(sign(SECRET, ID, TS, "x")), "x"), 400, /JSON/);
  });
});

Deno.test("standard sign() reproduces the reference signature", async () => {
  const endpoint = endpointFor(standard, [SECRET]);
  const body = new TextEncoder().encode(BODY);
  const h = await standard.sign!(endpoint, body, { now: NOW, deliveryId: ID });
  assert.equal(h["webhook-signature"], SIGNATURE);
  assert.equal(h["webhook-id"], ID);
  assert.equal(h["webhook-timestamp"], String(TS));
  const fresh = await standard.sign!(endpoint, body, { now: NOW });
  assert.match(fresh["webhook-id"], /^msg_[0-9a-f]{32}$/);
});

Deno.test("standard create() names a secret that is not base64", async () => {
  await assert.rejects(
    () => standard.create(endpointFor(standard, [SECRET, "whsec_not base64!"])),
    /HOOKD_STANDARD_SECRET_PREVIOUS is not a Standard Webhooks secret/,
  );
  await assert.rejects(
    () => standard.create(endpointFor(standard, ["whsec_"])),
    /HOOKD_STANDARD_SECRET is not/,
  );
});
