import assert from "node:assert/strict";
import { hmac } from "../../lib/verify/hmac.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";
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

// HMAC-MD5 values computed by openssl, independent of node:crypto:
//   printf '%s' '{"type":"build.finished","id":42}' | openssl dgst -md5 -hmac 'md5-shared-secret'
//   (and with -hmac 'md5-previous-secret'; base64: add -binary | base64)
const MD5_HEX = "cf1d4f7d9ff4453fb42e34fb84cd1016";
const MD5_PREVIOUS_HEX = "364079229b619968c1cd2979d2fa674c";
const MD5_BASE64 = "zx1PfZ/0RT+0LjT7hM0QFg==";
const MD5_SETTINGS = {
  SIGNATURE_HEADER: "webhook-signature",
  ALGORITHM: "md5",
  EVENT_FIELD: "type",
};
const MD5_SECRETS = ["md5-shared-secret", "md5-previous-secret"];

Deno.test("hmac with ALGORITHM=md5 verifies openssl's HMAC-MD5", async (t) => {
  const run = (headers: HeadersInit, body: string | Uint8Array = BODY, settings = MD5_SETTINGS) =>
    verifyOnce(hmac, MD5_SECRETS, delivery(headers, body, NOW), settings);

  await t.step("accepts the current secret's hex MAC", async () => {
    const verdict = assertAccepted(await run({ "webhook-signature": MD5_HEX }));
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(verdict.event, "build.finished");
  });

  await t.step("names the body as the replay key, as the SHA hashes do", async () => {
    const verdict = assertAccepted(await run({ "webhook-signature": MD5_HEX }));
    assert.deepEqual(verdict.replayKey, new TextEncoder().encode(BODY));
  });

  await t.step("accepts the previous secret and says so", async () => {
    const verdict = assertAccepted(await run({ "webhook-signature": MD5_PREVIOUS_HEX }));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step("accepts base64 behind a prefix when so configured", async () => {
    const settings = { ...MD5_SETTINGS, ENCODING: "base64", PREFIX: "md5=" };
    assertAccepted(await run({ "webhook-signature": `md5=${MD5_BASE64}` }, BODY, settings));
  });

  await t.step("rejects a one-byte change to the body", async () => {
    assertRejected(await run({ "webhook-signature": MD5_HEX }, flipByte(BODY, 5)), 401, /invalid/);
  });

  await t.step("rejects a one-bit change to the MAC", async () => {
    const mac = Uint8Array.fromHex(MD5_HEX);
    mac[15] ^= 1;
    assertRejected(await run({ "webhook-signature": mac.toHex() }), 401, /invalid signature/);
  });

  await t.step("rejects a SHA-256-length MAC and a truncated one as malformed", async () => {
    const long = oracle("sha256", "md5-shared-secret", BODY, "hex");
    assertRejected(await run({ "webhook-signature": long }), 401, /malformed webhook-signature/);
    assertRejected(
      await run({ "webhook-signature": MD5_HEX.slice(0, -2) }),
      401,
      /malformed webhook-signature/,
    );
  });

  await t.step("rejects a missing or repeated header", async () => {
    assertRejected(await run({}), 401, /missing webhook-signature/);
    const headers = new Headers({ "webhook-signature": MD5_HEX });
    headers.append("webhook-signature", MD5_HEX);
    assertRejected(await run(headers), 401, /more than once/);
  });
});

Deno.test("hmac sign() with ALGORITHM=md5 writes openssl's MAC", async () => {
  const endpoint = endpointFor(hmac, MD5_SECRETS, MD5_SETTINGS);
  const headers = await hmac.sign!(endpoint, new TextEncoder().encode(BODY), { now: NOW });
  assert.equal(headers["webhook-signature"], MD5_HEX);
  const base64 = endpointFor(hmac, MD5_SECRETS, { ...MD5_SETTINGS, ENCODING: "base64" });
  const signed = await hmac.sign!(base64, new TextEncoder().encode(BODY), { now: NOW });
  assert.equal(signed["webhook-signature"], MD5_BASE64);
});
