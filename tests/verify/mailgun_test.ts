/**
 * Tests for the `mailgun` provider: the sender's own vectors, then every way a
 * Mailgun delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mailgun } from "../../lib/verify/mailgun.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";

// Vector from Mailgun's PHP SDK, tests/Api/WebhookTest.php
// (https://github.com/mailgun/mailgun-php/blob/master/tests/Api/WebhookTest.php),
// testVerifyWebhookGood / testVerifyWebhookBad. The body around it follows
// the webhook payload shown in Mailgun's docs
// (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks).
const KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
const TS = 1403645220;
const TOKEN = "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6";
const SIGNATURE = "9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33";
const BAD_TOKEN = "owyldpe6nxhmrn78epljl6bj0orrki1u3d2v5e6cnlmmuox8jr";
const NOW = TS * 1000;
const PREVIOUS = "key-previous";

function body(
  signature: Record<string, unknown>,
  eventData: Record<string, unknown> = { event: "delivered", id: "CPgfbmQMTCKtHW6uIWtuVe" },
): string {
  return JSON.stringify({ signature, "event-data": eventData });
}

function oracle(key: string, ts: number | string, token: string): string {
  return createHmac("sha256", key).update(`${ts}${token}`).digest("hex");
}

async function verify(text: string, now = NOW, type = "application/json") {
  const check = await mailgun.create(endpointFor(mailgun, [KEY, PREVIOUS]));
  return check(delivery({ "Content-Type": type }, text, now));
}

const GOOD = { timestamp: String(TS), token: TOKEN, signature: SIGNATURE };

Deno.test("mailgun verify() checks the signature Mailgun puts in the body", async (t) => {
  await t.step(
    "accepts the SDK's good vector; event-data.event, the token as delivery id",
    async () => {
      const verdict = assertAccepted(await verify(body(GOOD)));
      assert.equal(verdict.event, "delivered");
      assert.equal(verdict.deliveryId, TOKEN);
      assert.equal(verdict.verifiedBy, "secret");
    },
  );

  await t.step("refuses the SDK's bad vector (another token)", async () => {
    assertRejected(await verify(body({ ...GOOD, token: BAD_TOKEN })), 401, /invalid signature/);
  });

  await t.step("reads a numeric timestamp, and legacy form posts", async () => {
    assertAccepted(await verify(body({ ...GOOD, timestamp: TS })));
    const form = new URLSearchParams({ ...GOOD, event: "opened" }).toString();
    const verdict = assertAccepted(await verify(form, NOW, "application/x-www-form-urlencoded"));
    assert.equal(verdict.event, "opened");
    assert.equal(verdict.deliveryId, TOKEN);
    const twice = `${form}&signature=${SIGNATURE}`;
    assertRejected(
      await verify(twice, NOW, "application/x-www-form-urlencoded"),
      401,
      /missing signature/,
    );
  });

  await t.step("names failures by severity", async () => {
    const failed = body(GOOD, { event: "failed", severity: "permanent", id: "x" });
    assert.equal(assertAccepted(await verify(failed)).event, "failed.permanent");
  });

  await t.step("accepts the previous signing key during rotation and says so", async () => {
    const signed = body({ ...GOOD, signature: oracle(PREVIOUS, TS, TOKEN) });
    assert.equal(assertAccepted(await verify(signed)).verifiedBy, "previous secret");
  });

  await t.step(
    "refuses a one-byte change to the signed fields, a wrong key, a truncated signature",
    async () => {
      assertRejected(
        await verify(body({ ...GOOD, timestamp: String(TS + 1) })),
        401,
        /invalid signature/,
      );
      assertRejected(
        await verify(body({ ...GOOD, token: `${TOKEN.slice(0, -1)}7` })),
        401,
        /invalid signature/,
      );
      assertRejected(
        await verify(body({ ...GOOD, signature: oracle("key-wrong", TS, TOKEN) })),
        401,
        /invalid/,
      );
      assertRejected(
        await verify(body({ ...GOOD, signature: SIGNATURE.slice(0, 62) })),
        401,
        /malformed signature/,
      );
    },
  );

  await t.step(
    "gives a reused signature block the same delivery id, whatever event-data says",
    async () => {
      // Mailgun signs only timestamp and token, so another event-data under
      // a captured block verifies; the token, not the sender-chosen
      // event-data.id, is the delivery id, so the store answers it as a
      // duplicate of the delivery first seen with that token.
      const original = assertAccepted(await verify(body(GOOD)));
      const reused = assertAccepted(
        await verify(body(GOOD, { event: "complained", id: "chosen-by-the-sender" })),
      );
      assert.equal(reused.deliveryId, original.deliveryId);
      assert.equal(reused.deliveryId, TOKEN);
      assertRejected(await verify(body(GOOD), NOW + 301_000), 401, /stale/);
    },
  );

  await t.step("refuses the wrong encoding", async () => {
    const base64 = Uint8Array.fromHex(SIGNATURE).toBase64();
    assertRejected(await verify(body({ ...GOOD, signature: base64 })), 401, /malformed signature/);
  });

  await t.step("refuses stale and future timestamps", async () => {
    for (const ts of [TS - 301, TS + 301]) {
      const signed = body({
        timestamp: String(ts),
        token: TOKEN,
        signature: oracle(KEY, ts, TOKEN),
      });
      assertRejected(await verify(signed), 401, /^stale$/, "rejected.stale");
    }
  });

  await t.step("refuses bodies without a signature as unauthenticated", async () => {
    assertRejected(await verify("not json"), 401, /missing signature/);
    assertRejected(
      await verify(JSON.stringify({ "event-data": { event: "delivered" } })),
      401,
      /missing/,
    );
    assertRejected(
      await verify(body({ ...GOOD, timestamp: "1e9" })),
      401,
      /malformed signature timestamp/,
    );
  });
});

Deno.test("mailgun has no header to sign with", () => {
  assert.equal(mailgun.sign, undefined);
});
