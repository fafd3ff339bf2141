/**
 * Tests for the `paddle` provider: the sender's own vectors, then every way a
 * Paddle delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { paddle } from "../../lib/verify/paddle.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

// Vectors from Paddle's SDK tests:
// https://github.com/PaddleHQ/paddle-python-sdk/blob/main/tests/Unit/Notification/test_Verifier.py
// (the "Standard payload" case; body is tests/Unit/Notifications/_fixtures/standard_payload.json
// of https://github.com/PaddleHQ/paddle-php-sdk, stripped of its final newline as the test does)
const SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_GrOWLNef+vmtjJYq4mSnHNzvc8uWoJ1I";
const HEADER = "ts=1710498758;h1=558bf93944dbeb4790c7a8af6cb2ea435c8ca9c8396aafc1a4e37424ac132744";
const BODY =
  '{"data":{"id":"ctm_01hs0tqf76sxmp7ba5e4mw1sc8","name":"John Doe","email":"blackhole+verification2@paddle.com","locale":"en","status":"active","created_at":"2024-03-15T10:32:37.862Z","updated_at":"2024-03-15T10:32:37.862Z","custom_data":null,"import_meta":null,"marketing_consent":false},"event_id":"evt_01hs0tqfme2xwb2hvwv87p8y3w","event_type":"customer.created","occurred_at":"2024-03-15T10:32:38.286848Z","notification_id":"ntf_01hs0tqfrhgkyp39x4wyvy7h6n"}';
const TS = 1710498758;
const NOW = TS * 1000;
// ...and the "header integrity" case: a dummy h1 before the real one, three
// candidate secrets of which only the last verifies.
const HELLO_HEADER =
  "ts=1696195954;h1=dummy;h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02";
const HELLO_WRONG = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_TjIG2BXbm83HPXqNfziwe506sBEdqL/4";
const HELLO_RIGHT = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh";
const PREVIOUS = "pdl_ntfset_previous";

function oracle(secret: string, ts: number | string, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${ts}:`).update(body).digest("hex");
}

async function verify(
  header: string | string[] | undefined,
  body: string | Uint8Array = BODY,
  now = NOW,
  secrets = [SECRET, PREVIOUS],
) {
  const h = new Headers({ "Content-Type": "application/json" });
  for (const value of [header ?? []].flat()) h.append("Paddle-Signature", value);
  const check = await paddle.create(endpointFor(paddle, secrets));
  return check(delivery(h, body, now));
}

Deno.test("paddle verify() matches Paddle's SDK vectors and refuses tampering", async (t) => {
  await t.step("accepts the SDK's standard payload; event_type and event_id", async () => {
    const verdict = assertAccepted(await verify(HEADER));
    assert.equal(verdict.event, "customer.created");
    assert.equal(verdict.deliveryId, "evt_01hs0tqfme2xwb2hvwv87p8y3w");
    assert.equal(verdict.verifiedBy, "secret");
  });

  await t.step("skips a dummy h1 and uses the secret exactly as written", async () => {
    // The body is not an event, so a verified delivery is a 400, never a 401.
    const right = await verify(HELLO_HEADER, "hello-world", 1696195954_000, [HELLO_RIGHT]);
    assertRejected(right, 400, /JSON/);
    const rotated = await verify(HELLO_HEADER, "hello-world", 1696195954_000, [
      HELLO_WRONG,
      HELLO_RIGHT,
    ]);
    assertRejected(rotated, 400, /JSON/);
    const wrong = await verify(HELLO_HEADER, "hello-world", 1696195954_000, [HELLO_WRONG]);
    assertRejected(wrong, 401, /invalid signature/);
  });

  await t.step("accepts the previous secret during rotation and says so", async () => {
    const verdict = assertAccepted(await verify(`ts=${TS};h1=${oracle(PREVIOUS, TS, BODY)}`));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step("accepts several h1 entries and skips unknown versions", async () => {
    const header = `ts=${TS};h2=${"ab".repeat(32)};h1=${"00".repeat(32)};h1=${
      oracle(SECRET, TS, BODY)
    }`;
    assertAccepted(await verify(header));
    assertRejected(await verify(`ts=${TS};h2=${oracle(SECRET, TS, BODY)}`), 401, /no h1 signature/);
  });

  await t.step("refuses a one-byte change, a wrong secret, a truncated signature", async () => {
    assertRejected(await verify(HEADER, flipByte(BODY, 40)), 401, /invalid signature/);
    assertRejected(
      await verify(`ts=${TS};h1=${oracle("pdl_wrong", TS, BODY)}`),
      401,
      /invalid signature/,
    );
    assertRejected(await verify(HEADER.slice(0, -1)), 401, /no h1/);
  });

  await t.step("refuses comma separators and the wrong encoding", async () => {
    assertRejected(await verify(HEADER.replace(";", ",")), 401, /malformed/);
    const base64 = Uint8Array.fromHex(oracle(SECRET, TS, BODY)).toBase64();
    assertRejected(await verify(`ts=${TS};h1=${base64}`), 401, /no h1/);
  });

  await t.step("refuses stale and future timestamps", async () => {
    for (const ts of [TS - 301, TS + 301]) {
      assertRejected(
        await verify(`ts=${ts};h1=${oracle(SECRET, ts, BODY)}`),
        401,
        /^stale$/,
        "rejected.stale",
      );
    }
    assertRejected(await verify(HEADER, BODY, Date.now()), 401, /stale/);
  });

  await t.step("refuses missing and repeated headers", async () => {
    assertRejected(await verify(undefined), 401, /missing Paddle-Signature/);
    assertRejected(await verify([HEADER, HEADER]), 401, /more than once/);
    assertRejected(await verify(`h1=${oracle(SECRET, TS, BODY)}`), 401, /malformed/);
  });
});

Deno.test("paddle sign() reproduces the SDK's header", async () => {
  const h = await paddle.sign!(endpointFor(paddle, [SECRET]), new TextEncoder().encode(BODY), {
    now: NOW,
  });
  assert.equal(h["Paddle-Signature"], HEADER);
});
