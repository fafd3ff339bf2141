/**
 * Tests for the `woocommerce` provider: the signature over the body, the
 * topic and delivery id, and the unsigned creation ping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isWoocommercePing, woocommerce } from "../../lib/verify/woocommerce.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { base64ToHex, bodySignedCases, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// WooCommerce publishes no vector. Its docs and WC_Webhook::generate_signature
// give base64(hash_hmac('sha256', body, secret, true)); this one is openssl's:
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
const BODY =
  '{"id":727,"status":"processing","currency":"USD","total":"29.35","line_items":[{"id":315,"name":"Woo Single #1","quantity":2}]}';
const SECRET = "Zx$4k&E=q7[Lt9w;M2^hV!cB8@pR0sN/uY*3oW6eJ";
const VECTOR = "8PPDLt1lG5NmvLYqzGBUKH6777cn5xKdVzbGOQETqkY=";
const PREVIOUS_VECTOR = "rHLFC5MmTchMysElQV8lUafc9ZFVpJjDHfOb9Ko/wms=";

function headers(signature: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
    "X-WC-Webhook-Source": "https://shop.example.com/",
    "X-WC-Webhook-Topic": "order.created",
    "X-WC-Webhook-Resource": "order",
    "X-WC-Webhook-Event": "created",
    "X-WC-Webhook-ID": "17",
    "X-WC-Webhook-Delivery-ID": "a3c1b6f0e2d94f8e1b7c5a9d3e6f2b41",
    "X-WC-Webhook-Signature": signature,
  };
}

const run = (h: HeadersInit, body: string | Uint8Array = BODY, secrets = [SECRET]) =>
  verifyOnce(woocommerce, secrets, delivery(h, body, NOW));

Deno.test("woocommerce verify() holds openssl's signature of the body", async () => {
  const verdict = assertAccepted(await run(headers(VECTOR)));
  assert.equal(verdict.event, "order.created");
  assert.equal(verdict.deliveryId, "a3c1b6f0e2d94f8e1b7c5a9d3e6f2b41");
  assert.equal(verdict.verifiedBy, "secret");
  assert.deepEqual(verdict.replayKey, new TextEncoder().encode(BODY));
  const previous = assertAccepted(
    await run(headers(PREVIOUS_VECTOR), BODY, [SECRET, "previous-woo-secret"]),
  );
  assert.equal(previous.verifiedBy, "previous secret");
});

Deno.test("woocommerce verify() refuses what WooCommerce would not send", async (t) => {
  await bodySignedCases(t, {
    provider: woocommerce,
    body: BODY,
    headers: (body, secret) => headers(oracle("sha256", secret, body, "base64")),
    signatureHeader: "X-WC-Webhook-Signature",
    wrongEncoding: base64ToHex,
    event: "order.created",
  });
  await t.step("a signed delivery without a topic is a 400", async () => {
    const h = headers(VECTOR);
    delete h["X-WC-Webhook-Topic"];
    assertRejected(await run(h), 400, /X-WC-Webhook-Topic/);
  });
});

Deno.test("woocommerce answers its unsigned creation ping 200, and nothing else unsigned", async (t) => {
  // WC_Webhook::deliver_ping(): a form body "webhook_id=<id>", no X-WC-* header;
  // WooCommerce keeps the webhook only when the answer is exactly 200.
  const form = { "Content-Type": "application/x-www-form-urlencoded" };
  await t.step("the ping is answered and neither stored nor run", async () => {
    const verdict = assertAccepted(await run(form, "webhook_id=17"));
    assert.equal(verdict.event, "ping");
    assert.equal(verdict.verifiedBy, "none");
    assert.deepEqual(verdict.reply, { status: 200, body: "" });
    assert.equal(verdict.replayKey, null);
  });
  await t.step("any other unsigned body is refused", async () => {
    assertRejected(await run(form, "webhook_id=17&x=1"), 401, /missing X-WC-Webhook-Signature/);
    assertRejected(await run(form, BODY), 401, /missing X-WC-Webhook-Signature/);
    assertRejected(await run(form, "webhook_id="), 401, /missing/);
  });
  await t.step("a ping body with a signature header must verify", async () => {
    assert.equal(
      isWoocommercePing(delivery(headers(VECTOR), "webhook_id=17", NOW)),
      false,
    );
    assertRejected(await run(headers(VECTOR), "webhook_id=17"), 401, /invalid/);
  });
});
