import assert from "node:assert/strict";
import { lemonsqueezy } from "../../lib/verify/lemonsqueezy.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Lemon Squeezy publishes no vector; its docs (docs.lemonsqueezy.com/help/webhooks/signing-requests)
// sign the raw body with HMAC-SHA256, hex, in X-Signature, and put the
// event in meta.event_name. The literal below was computed by openssl:
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'lemon-signing-secret'
const BODY =
  '{"meta":{"event_name":"order_created","custom_data":{"customer_id":25}},"data":{"type":"orders","id":"1","attributes":{"store_id":1,"identifier":"104e18a2-d755-4d4b-80c4-a6c1dcbe1c10","status":"paid","total":999}}}';
const VECTOR = "fd83c96aaad9b067157f88de254c91bbebf1e77c0181ce05acc53e946f261213";

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Event-Name": "order_created",
    "X-Signature": oracle("sha256", secret, body, "hex"),
  };
}

Deno.test("lemonsqueezy verify() accepts openssl's vector, event from meta.event_name", async () => {
  const verdict = assertAccepted(
    await verifyOnce(
      lemonsqueezy,
      ["lemon-signing-secret"],
      delivery({ "X-Signature": VECTOR }, BODY, NOW),
    ),
  );
  assert.equal(verdict.event, "order_created");
  assert.equal(verdict.deliveryId, undefined);
});

Deno.test("lemonsqueezy verify() refuses what Lemon Squeezy would not send", async (t) => {
  await bodySignedCases(t, {
    provider: lemonsqueezy,
    body: BODY,
    headers,
    signatureHeader: "X-Signature",
    wrongEncoding: hexToBase64,
    event: "order_created",
  });
  await t.step("the unsigned X-Event-Name is never the event", async () => {
    const verdict = assertAccepted(
      await verifyOnce(
        lemonsqueezy,
        ["s"],
        delivery({ ...headers(BODY, "s"), "X-Event-Name": "refund" }, BODY, NOW),
      ),
    );
    assert.equal(verdict.event, "order_created");
    const body = '{"data":{}}';
    assertRejected(
      await verifyOnce(lemonsqueezy, ["s"], delivery(headers(body, "s"), body, NOW)),
      400,
      /no meta.event_name/,
    );
  });
});

Deno.test("lemonsqueezy sign() writes openssl's vector", async () => {
  const signed = await lemonsqueezy.sign!(
    endpointFor(lemonsqueezy, ["lemon-signing-secret"]),
    new TextEncoder().encode(BODY),
    { now: NOW },
  );
  assert.equal(signed["X-Signature"], VECTOR);
});
