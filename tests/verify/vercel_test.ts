import assert from "node:assert/strict";
import { vercel } from "../../lib/verify/vercel.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Vercel publishes no vector; its docs (vercel.com/docs/webhooks/webhooks-api,
// "Securing webhooks") sign the raw body with HMAC-SHA1, hex, in
// x-vercel-signature. The literal below was computed by openssl:
//   printf '%s' "$BODY" | openssl dgst -sha1 -hmac 'vercel-webhook-secret'
const BODY =
  '{"id":"uev_d8jl2ZDGNbPZN7xOcxJvj5ZW","type":"deployment.succeeded","createdAt":1700000000000,"payload":{"deployment":{"id":"dpl_2euZBFqxYdDMDG1jTrHFnNZ2eUVa","url":"my-app-abc123.vercel.app"},"project":{"id":"prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB"},"target":"production"}}';
const VECTOR = "5d6be138afe308fafd686afc927a840d701184ed";

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "x-vercel-signature": oracle("sha1", secret, body, "hex"),
  };
}

Deno.test("vercel verify() accepts openssl's vector: event type, delivery id", async () => {
  const verdict = assertAccepted(
    await verifyOnce(
      vercel,
      ["vercel-webhook-secret"],
      delivery({ "x-vercel-signature": VECTOR }, BODY, NOW),
    ),
  );
  assert.equal(verdict.event, "deployment.succeeded");
  assert.equal(verdict.deliveryId, "uev_d8jl2ZDGNbPZN7xOcxJvj5ZW");
});

Deno.test("vercel verify() refuses what Vercel would not send", async (t) => {
  await bodySignedCases(t, {
    provider: vercel,
    body: BODY,
    headers,
    signatureHeader: "x-vercel-signature",
    wrongEncoding: hexToBase64,
    event: "deployment.succeeded",
  });
  await t.step("a SHA-256 MAC is malformed here", async () => {
    const h = { "x-vercel-signature": oracle("sha256", "s", BODY, "hex") };
    assertRejected(await verifyOnce(vercel, ["s"], delivery(h, BODY, NOW)), 401, /malformed/);
  });
  await t.step("a signed body without type: 400", async () => {
    const body = '{"id":"x"}';
    assertRejected(
      await verifyOnce(vercel, ["s"], delivery(headers(body, "s"), body, NOW)),
      400,
      /no type/,
    );
  });
});

Deno.test("vercel sign() writes openssl's vector", async () => {
  const signed = await vercel.sign!(
    endpointFor(vercel, ["vercel-webhook-secret"]),
    new TextEncoder().encode(BODY),
    { now: NOW },
  );
  assert.equal(signed["x-vercel-signature"], VECTOR);
});
