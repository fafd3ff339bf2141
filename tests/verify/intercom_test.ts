import assert from "node:assert/strict";
import { intercom } from "../../lib/verify/intercom.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Intercom publishes no vector; its docs (developers.intercom.com, webhooks
// "Signed notifications") sign the raw body with HMAC-SHA1 under the app's
// client secret, hex, in X-Hub-Signature as sha1=<hex>. The body is the
// docs' notification example; the literal was computed by openssl:
//   printf '%s' "$BODY" | openssl dgst -sha1 -hmac 'intercom-client-secret'
const BODY =
  '{"type":"notification_event","app_id":"ecahpwf5","data":{"type":"notification_event_data","item":{"type":"conversation","id":"1"}},"links":{},"id":"notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3","topic":"conversation.user.created","delivery_status":"pending","delivery_attempts":1,"delivered_at":0,"first_sent_at":1392140810,"created_at":1392140810,"self":null}';
const VECTOR = "sha1=315232265719c6e040fea9bffa71e1c25ea2d74c";

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Hub-Signature": `sha1=${oracle("sha1", secret, body, "hex")}`,
  };
}

Deno.test("intercom verify() accepts openssl's vector: event topic, delivery id", async () => {
  const verdict = assertAccepted(
    await verifyOnce(
      intercom,
      ["intercom-client-secret"],
      delivery({ "X-Hub-Signature": VECTOR }, BODY, NOW),
    ),
  );
  assert.equal(verdict.event, "conversation.user.created");
  assert.equal(verdict.deliveryId, "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3");
});

Deno.test("intercom verify() refuses what Intercom would not send", async (t) => {
  await bodySignedCases(t, {
    provider: intercom,
    body: BODY,
    headers,
    signatureHeader: "X-Hub-Signature",
    wrongEncoding: (value) => `sha1=${hexToBase64(value.slice(5))}`,
    event: "conversation.user.created",
  });
  await t.step("the MAC without its sha1= prefix", async () => {
    const h = { "X-Hub-Signature": VECTOR.slice(5) };
    assertRejected(
      await verifyOnce(intercom, ["intercom-client-secret"], delivery(h, BODY, NOW)),
      401,
      /malformed/,
    );
  });
});

Deno.test("intercom sign() writes openssl's vector", async () => {
  const signed = await intercom.sign!(
    endpointFor(intercom, ["intercom-client-secret"]),
    new TextEncoder().encode(BODY),
    { now: NOW },
  );
  assert.equal(signed["X-Hub-Signature"], VECTOR);
});
