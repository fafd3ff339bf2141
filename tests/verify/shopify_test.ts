import assert from "node:assert/strict";
import { shopify } from "../../lib/verify/shopify.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { base64ToHex, bodySignedCases, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Shopify publishes no signature vector (its @shopify/shopify-api tests
// compute the HMAC at run time). The scheme is from its docs: base64
// HMAC-SHA256 of the raw body with the app's client secret, in
// X-Shopify-Hmac-SHA256; duplicates by X-Shopify-Webhook-Id
// (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries).
// node:crypto is the oracle.
const BODY = '{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00"}';

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Shopify-Topic": "orders/create",
    "X-Shopify-Shop-Domain": "example.myshopify.com",
    "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
    "X-Shopify-Hmac-Sha256": oracle("sha256", secret, body, "base64"),
  };
}

Deno.test("shopify verify() refuses what Shopify would not send", async (t) => {
  await bodySignedCases(t, {
    provider: shopify,
    body: BODY,
    headers,
    signatureHeader: "X-Shopify-Hmac-Sha256",
    wrongEncoding: base64ToHex,
    event: "orders/create",
  });
});

Deno.test("shopify verify() reads the topic and X-Shopify-Webhook-Id", async () => {
  const verdict = assertAccepted(
    await verifyOnce(shopify, ["s"], delivery(headers(BODY, "s"), BODY, NOW)),
  );
  assert.equal(verdict.event, "orders/create");
  assert.equal(verdict.deliveryId, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
});

Deno.test("shopify verify() answers 400 for a signed delivery without a topic", async () => {
  const h = headers(BODY, "s");
  delete h["X-Shopify-Topic"];
  assertRejected(await verifyOnce(shopify, ["s"], delivery(h, BODY, NOW)), 400, /X-Shopify-Topic/);
});
