/**
 * Tests for the `stripe` provider: the sender's own vectors, then every way a
 * Stripe delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { stripe } from "../../lib/verify/stripe.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

// Stripe publishes no fixed (secret, body, header) vector: its SDK tests
// generate headers at run time. These use the secret and payload of
// stripe-node's test/Webhook.spec.ts
// (https://github.com/stripe/stripe-node/blob/master/test/Webhook.spec.ts)
// and node:crypto as an independent oracle for the documented scheme
// (https://docs.stripe.com/webhooks#verify-manually: HMAC-SHA256 of
// "<t>.<body>", hex, in v1).
const SECRET = "whsec_test_secret";
const PREVIOUS = "whsec_previous_secret";
const BODY = JSON.stringify(
  { id: "evt_test_webhook", object: "event", type: "invoice.paid" },
  null,
  2,
);
const T = 1_700_000_000;
const NOW = T * 1000;

function v1(secret: string | Uint8Array, t: number | string, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex");
}

async function verify(
  header: string | string[] | undefined,
  body: string | Uint8Array = BODY,
  now = NOW,
  settings = {},
) {
  const headers = new Headers();
  for (const value of [header ?? []].flat()) headers.append("Stripe-Signature", value);
  const check = await stripe.create(endpointFor(stripe, [SECRET, PREVIOUS], settings));
  return check(delivery(headers, body, now));
}

Deno.test("stripe verify() accepts what Stripe signs and refuses everything else", async (t) => {
  await t.step("accepts a v1 signature made with the secret as written", async () => {
    const verdict = assertAccepted(await verify(`t=${T},v1=${v1(SECRET, T, BODY)}`));
    assert.equal(verdict.event, "invoice.paid");
    assert.equal(verdict.deliveryId, "evt_test_webhook");
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(new TextDecoder().decode(verdict.payload), BODY);
  });

  await t.step("does not base64-decode a whsec_ secret (that is Standard Webhooks)", async () => {
    const decoded = Uint8Array.fromBase64("test+secret");
    assertRejected(await verify(`t=${T},v1=${v1(decoded, T, BODY)}`), 401, /invalid signature/);
  });

  await t.step("accepts the previous secret during rotation and says so", async () => {
    const verdict = assertAccepted(await verify(`t=${T},v1=${v1(PREVIOUS, T, BODY)}`));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step("accepts one good v1 among several and skips other schemes", async () => {
    const header = `t=${T},v0=${"ab".repeat(32)},v1=potato,v1=${"00".repeat(32)},v1=${
      v1(SECRET, T, BODY)
    }`;
    assert.equal(assertAccepted(await verify(header)).verifiedBy, "secret");
  });

  await t.step("refuses a header with only an unknown scheme", async () => {
    assertRejected(await verify(`t=${T},v0=${v1(SECRET, T, BODY)}`), 401, /no v1 signature/);
  });

  await t.step("refuses a one-byte change to the body", async () => {
    const header = `t=${T},v1=${v1(SECRET, T, BODY)}`;
    assertRejected(
      await verify(header, flipByte(BODY, 10)),
      401,
      /invalid signature/,
      "rejected.signature",
    );
  });

  await t.step("refuses a changed timestamp (it is signed)", async () => {
    assertRejected(await verify(`t=${T + 1},v1=${v1(SECRET, T, BODY)}`), 401, /invalid signature/);
  });

  await t.step("refuses a wrong secret", async () => {
    assertRejected(
      await verify(`t=${T},v1=${v1("whsec_wrong", T, BODY)}`),
      401,
      /invalid signature/,
    );
  });

  await t.step("refuses a truncated signature", async () => {
    assertRejected(await verify(`t=${T},v1=${v1(SECRET, T, BODY).slice(0, 63)}`), 401, /no v1/);
  });

  await t.step("refuses a signature in the wrong encoding", async () => {
    const base64 = Uint8Array.fromHex(v1(SECRET, T, BODY)).toBase64();
    assertRejected(await verify(`t=${T},v1=${base64}`), 401, /no v1/);
  });

  await t.step("refuses stale and future timestamps beyond the tolerance", async () => {
    for (const t of [T - 301, T + 301]) {
      assertRejected(
        await verify(`t=${t},v1=${v1(SECRET, t, BODY)}`),
        401,
        /^stale$/,
        "rejected.stale",
      );
    }
    for (const t of [T - 299, T + 299]) {
      assertAccepted(await verify(`t=${t},v1=${v1(SECRET, t, BODY)}`));
    }
  });

  await t.step("honours TOLERANCE (stripe-node's 10 s case)", async () => {
    const receivedAt = 20_000_000;
    const old = receivedAt / 1000 - 15;
    const recent = receivedAt / 1000 - 9;
    const settings = { TOLERANCE: "10s" };
    assertRejected(
      await verify(`t=${old},v1=${v1(SECRET, old, BODY)}`, BODY, receivedAt, settings),
      401,
      /stale/,
    );
    assertAccepted(
      await verify(`t=${recent},v1=${v1(SECRET, recent, BODY)}`, BODY, receivedAt, settings),
    );
  });

  await t.step("refuses a header sent twice", async () => {
    const good = `t=${T},v1=${v1(SECRET, T, BODY)}`;
    assertRejected(await verify([good, good]), 401, /more than once/);
  });

  await t.step("refuses missing, malformed and ambiguous headers", async () => {
    assertRejected(await verify(undefined), 401, /missing Stripe-Signature/);
    assertRejected(await verify("bad_header"), 401, /malformed/);
    assertRejected(await verify(`v1=${v1(SECRET, T, BODY)}`), 401, /malformed/);
    assertRejected(await verify(`t=1e9,v1=${v1(SECRET, "1e9", BODY)}`), 401, /malformed/);
    assertRejected(await verify(`t=${T},t=${T},v1=${v1(SECRET, T, BODY)}`), 401, /malformed/);
  });

  await t.step("answers 400 for a signed body that is not a Stripe event", async () => {
    assertRejected(await verify(`t=${T},v1=${v1(SECRET, T, "[]")}`, "[]"), 400, /type/);
    assertRejected(await verify(`t=${T},v1=${v1(SECRET, T, "{")}`, "{"), 400, /JSON/);
  });
});

Deno.test("stripe sign() writes the header Stripe would send", async () => {
  const endpoint = endpointFor(stripe, [SECRET, PREVIOUS]);
  const body = new TextEncoder().encode(BODY);
  const headers = await stripe.sign!(endpoint, body, { now: NOW + 999 });
  assert.equal(headers["Stripe-Signature"], `t=${T},v1=${v1(SECRET, T, BODY)}`);
  const check = await stripe.create(endpoint);
  assert.equal(assertAccepted(await check(delivery(headers, body, NOW))).verifiedBy, "secret");
});

Deno.test("stripe create() names a bad TOLERANCE", async () => {
  const endpoint = endpointFor(stripe, [SECRET], { TOLERANCE: "5 minutes" });
  await assert.rejects(() => stripe.create(endpoint), /HOOKD_STRIPE_TOLERANCE is "5 minutes"/);
  assert.match(stripe.settings.TOLERANCE.validate!("soon")!, /not a duration/);
  assert.equal(stripe.settings.TOLERANCE.validate!("30s"), undefined);
});
