import assert from "node:assert/strict";
import { hmac } from "../../lib/verify/hmac.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import {
  base64ToHex,
  bodySignedCases,
  hexToBase64,
  NOW,
  oracle,
  verifyOnce,
} from "./_body_signed.ts";

// The generic provider has no sender of its own: node:crypto is the
// oracle, configured the way a few real senders sign.
const BODY = '{"type":"build.finished","id":42}';

Deno.test("hmac verify() refuses what the configured sender would not send (hex, prefix)", async (t) => {
  await bodySignedCases(t, {
    provider: hmac,
    settings: { SIGNATURE_HEADER: "X-Signature", PREFIX: "sha256=", EVENT_FIELD: "type" },
    body: BODY,
    headers: (body, secret) => ({
      "X-Signature": `sha256=${oracle("sha256", secret, body, "hex")}`,
    }),
    signatureHeader: "X-Signature",
    wrongEncoding: (value) => `sha256=${hexToBase64(value.slice(7))}`,
    event: "build.finished",
  });
});

Deno.test("hmac verify() refuses what the configured sender would not send (base64, sha512)", async (t) => {
  await bodySignedCases(t, {
    provider: hmac,
    settings: {
      SIGNATURE_HEADER: "X-Mac",
      ALGORITHM: "sha512",
      ENCODING: "base64",
      EVENT_HEADER: "X-Event",
    },
    body: BODY,
    headers: (body, secret) => ({
      "X-Event": "deploy",
      "X-Mac": oracle("sha512", secret, body, "base64"),
    }),
    signatureHeader: "X-Mac",
    wrongEncoding: base64ToHex,
    event: "deploy",
  });
});

Deno.test("hmac sign() writes what verify() reads, with the event and delivery headers", async () => {
  const settings = {
    SIGNATURE_HEADER: "X-Signature",
    PREFIX: "v1=",
    ENCODING: "base64",
    EVENT_HEADER: "X-Event",
    DELIVERY_HEADER: "X-Delivery",
  };
  const endpoint = endpointFor(hmac, ["s"], settings);
  const body = new TextEncoder().encode(BODY);
  const headers = await hmac.sign!(endpoint, body, {
    now: NOW,
    event: "deploy",
    deliveryId: "d-9",
  });
  assert.equal(headers["X-Signature"], `v1=${oracle("sha256", "s", BODY, "base64")}`);
  const verdict = assertAccepted(
    await verifyOnce(hmac, ["s"], delivery(headers, body, NOW), settings),
  );
  assert.equal(verdict.event, "deploy");
  assert.equal(verdict.deliveryId, "d-9");
  assertRejected(
    await verifyOnce(hmac, ["s"], delivery({ "X-Signature": "v1=" }, body, NOW), settings),
    401,
    /malformed/,
  );
});

Deno.test("hmac create() refuses EVENT_HEADER and EVENT_FIELD together", async () => {
  const settings = { SIGNATURE_HEADER: "X-Sig", EVENT_HEADER: "X-Event", EVENT_FIELD: "type" };
  await assert.rejects(
    hmac.create(endpointFor(hmac, ["s"], settings)),
    /HOOKD_HMAC_EVENT_HEADER and EVENT_FIELD are both set: keep one/,
  );
});
