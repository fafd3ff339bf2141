import assert from "node:assert/strict";
import { typeform } from "../../lib/verify/typeform.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { base64ToHex, bodySignedCases, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Typeform publishes no signature vector. The scheme is from its docs:
// "Typeform-Signature: sha256=<base64 HMAC-SHA256 of the payload>"
// (https://www.typeform.com/developers/webhooks/secure-your-webhooks/).
// node:crypto is the oracle.
const BODY = JSON.stringify({
  event_id: "01HGW2Y7S3Z5Q0Q9K4B8F8JZ1Q",
  event_type: "form_response",
  form_response: { form_id: "lT4Z3j", answers: [] },
});

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "Typeform-Signature": `sha256=${oracle("sha256", secret, body, "base64")}`,
  };
}

Deno.test("typeform verify() refuses what Typeform would not send", async (t) => {
  await bodySignedCases(t, {
    provider: typeform,
    body: BODY,
    headers,
    signatureHeader: "Typeform-Signature",
    wrongEncoding: (value) => `sha256=${base64ToHex(value.slice(7))}`,
    event: "form_response",
  });
});

Deno.test("typeform verify() reads event_type and event_id", async () => {
  const verdict = assertAccepted(
    await verifyOnce(typeform, ["s"], delivery(headers(BODY, "s"), BODY, NOW)),
  );
  assert.equal(verdict.event, "form_response");
  assert.equal(verdict.deliveryId, "01HGW2Y7S3Z5Q0Q9K4B8F8JZ1Q");
});

Deno.test("typeform verify() requires the sha256= prefix", async () => {
  const h = { "Typeform-Signature": oracle("sha256", "s", BODY, "base64") };
  assertRejected(await verifyOnce(typeform, ["s"], delivery(h, BODY, NOW)), 401, /malformed/);
});
