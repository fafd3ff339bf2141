/**
 * Tests for the `sendgrid` provider: the sender's own vectors, then every way a
 * SendGrid delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { sendgrid } from "../../lib/verify/sendgrid.ts";
import { derToP1363 } from "../../lib/verify/_public_key.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

// Vectors from SendGrid's Node SDK, packages/eventwebhook/src/eventwebhook.spec.js
// (https://github.com/sendgrid/sendgrid-nodejs/blob/main/packages/eventwebhook/src/eventwebhook.spec.js).
const PUBLIC_KEY =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
const SIGNATURE =
  "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";
const TIMESTAMP = "1588788367";
const PAYLOAD = JSON.stringify({
  category: "example_payload",
  event: "test_event",
  message_id: "message_id",
});
const OTHER_KEY =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
const BAD_SIGNATURE =
  "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=";
const NOW = Number(TIMESTAMP) * 1000;

// A second key pair, with node:crypto as the signing oracle (DER, as SendGrid sends).
const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const PAIR_PUBLIC = pair.publicKey.export({ format: "der", type: "spki" }).toString("base64");

function oracle(ts: string | number, body: string | Uint8Array): string {
  return nodeSign("sha256", Buffer.concat([Buffer.from(String(ts)), Buffer.from(body)]), {
    key: pair.privateKey,
    dsaEncoding: "der",
  }).toString("base64");
}

function headers(signature: string | string[], ts: string | number = TIMESTAMP): Headers {
  const h = new Headers({
    "X-Twilio-Email-Event-Webhook-Timestamp": String(ts),
    "Content-Type": "application/json",
  });
  for (const value of [signature].flat()) h.append("X-Twilio-Email-Event-Webhook-Signature", value);
  return h;
}

async function verify(
  h: Headers,
  body: string | Uint8Array = PAYLOAD,
  now = NOW,
  keys: Record<string, string> = { PUBLIC_KEY },
) {
  const check = await sendgrid.create(endpointFor(sendgrid, [], keys));
  return check(delivery(h, body, now));
}

Deno.test("sendgrid verify() matches the SDK's ECDSA vectors", async (t) => {
  await t.step("verifies a valid signature (DER converted for WebCrypto)", async () => {
    const verdict = assertAccepted(await verify(headers(SIGNATURE)));
    assert.equal(verdict.event, "test_event");
    assert.equal(verdict.verifiedBy, "secret");
  });

  await t.step("rejects for invalid key, bad payload, bad signature, bad timestamp", async () => {
    assertRejected(
      await verify(headers(SIGNATURE), PAYLOAD, NOW, { PUBLIC_KEY: OTHER_KEY }),
      401,
      /invalid signature/,
    );
    assertRejected(await verify(headers(SIGNATURE), "payload"), 401, /invalid signature/);
    assertRejected(await verify(headers(BAD_SIGNATURE)), 401, /invalid signature/);
    assertRejected(
      await verify(headers(SIGNATURE, "timestamp")),
      401,
      /malformed X-Twilio-Email-Event-Webhook-Timestamp/,
    );
  });

  await t.step("accepts the previous key while SendGrid switches, and says so", async () => {
    const keys = { PUBLIC_KEY: PAIR_PUBLIC, PUBLIC_KEY_PREVIOUS: PUBLIC_KEY };
    assert.equal(
      assertAccepted(await verify(headers(SIGNATURE), PAYLOAD, NOW, keys)).verifiedBy,
      "previous secret",
    );
  });

  await t.step("names a batch by its common event; sg_event_id for a single one", async () => {
    const one = JSON.stringify([{ event: "delivered", sg_event_id: "sg1" }]);
    const single = assertAccepted(
      await verify(headers(oracle(TIMESTAMP, one)), one, NOW, { PUBLIC_KEY: PAIR_PUBLIC }),
    );
    assert.equal(single.event, "delivered");
    assert.equal(single.deliveryId, "sg1");
    const mixed = JSON.stringify([{ event: "open" }, { event: "click" }]);
    const batch = assertAccepted(
      await verify(headers(oracle(TIMESTAMP, mixed)), mixed, NOW, { PUBLIC_KEY: PAIR_PUBLIC }),
    );
    assert.equal(batch.event, "batch");
    assert.equal(batch.deliveryId, undefined);
  });

  await t.step("verifies a signature made with a crypto.subtle key pair", async () => {
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey)).toBase64();
    const raw = new Uint8Array(
      await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        keys.privateKey,
        new TextEncoder().encode(TIMESTAMP + PAYLOAD),
      ),
    );
    assertAccepted(
      await verify(headers(p1363ToDer(raw).toBase64()), PAYLOAD, NOW, { PUBLIC_KEY: spki }),
    );
    // WebCrypto's own raw form is not what SendGrid sends.
    assertRejected(
      await verify(headers(raw.toBase64()), PAYLOAD, NOW, { PUBLIC_KEY: spki }),
      401,
      /malformed/,
    );
  });

  await t.step("refuses a one-byte change, a truncated signature, the wrong encoding", async () => {
    assertRejected(
      await verify(headers(SIGNATURE), flipByte(PAYLOAD, 2)),
      401,
      /invalid signature/,
    );
    assertRejected(await verify(headers(SIGNATURE.slice(0, 40))), 401, /malformed/);
    assertRejected(
      await verify(headers(Uint8Array.fromBase64(SIGNATURE).toHex())),
      401,
      /malformed/,
    );
  });

  await t.step("refuses stale and future timestamps", async () => {
    for (const ts of [Number(TIMESTAMP) - 301, Number(TIMESTAMP) + 301]) {
      const signed = headers(oracle(ts, PAYLOAD), ts);
      assertRejected(
        await verify(signed, PAYLOAD, NOW, { PUBLIC_KEY: PAIR_PUBLIC }),
        401,
        /^stale$/,
        "rejected.stale",
      );
    }
  });

  await t.step("refuses missing and repeated headers", async () => {
    assertRejected(await verify(headers([SIGNATURE, SIGNATURE])), 401, /more than once/);
    const h = headers(SIGNATURE);
    h.delete("X-Twilio-Email-Event-Webhook-Signature");
    assertRejected(await verify(h), 401, /missing X-Twilio-Email-Event-Webhook-Signature/);
  });
});

Deno.test("derToP1363() reads only strict DER", () => {
  const der = Uint8Array.fromBase64(SIGNATURE);
  const raw = derToP1363(der, 32);
  assert.equal(raw?.length, 64);
  assert.deepEqual(p1363ToDer(raw!), der);
  // r = 0x80 needs a leading zero; without it the integer is negative.
  assert.equal(
    derToP1363(new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01]), 32),
    undefined,
  );
  // A leading zero that is not needed is not DER.
  assert.equal(
    derToP1363(new Uint8Array([0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]), 32),
    undefined,
  );
  // Trailing bytes, a wrong outer length, and an integer longer than the curve.
  assert.equal(derToP1363(new Uint8Array([...der, 0]), 32), undefined);
  assert.equal(derToP1363(new Uint8Array([0x30, 0x05, ...der.slice(2)]), 32), undefined);
  assert.equal(derToP1363(der, 16), undefined);
});

Deno.test("sendgrid create() names a key that cannot be imported", async () => {
  await assert.rejects(
    () => sendgrid.create(endpointFor(sendgrid, [], { PUBLIC_KEY: "AAAA" })),
    /HOOKD_SENDGRID_PUBLIC_KEY is not an ECDSA P-256 public key/,
  );
  assert.match(sendgrid.settings.PUBLIC_KEY.validate!("not base64!")!, /not a base64 public key/);
  assert.equal(sendgrid.settings.PUBLIC_KEY.validate!(PUBLIC_KEY), undefined);
  assert.equal(sendgrid.sign, undefined);
});

// The inverse conversion, written independently of the one under test.
function p1363ToDer(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const value = bytes.slice(start);
    return value[0] & 0x80 ? [0x02, value.length + 1, 0, ...value] : [0x02, value.length, ...value];
  };
  const body = [...integer(raw.slice(0, 32)), ...integer(raw.slice(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}
