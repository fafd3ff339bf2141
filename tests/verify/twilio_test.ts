/**
 * Tests for the `twilio` provider: the sender's own vectors, then every way a
 * Twilio delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { parameterString, signedUrls, twilio } from "../../lib/verify/twilio.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";

// Vectors from Twilio's Python SDK, tests/unit/test_request_validator.py
// (https://github.com/twilio/twilio-python/blob/main/tests/unit/test_request_validator.py),
// the scheme documented at https://www.twilio.com/docs/usage/security#validating-requests.
const TOKEN = "12345";
const PUBLIC_URL = "https://mycompany.com/myapp.php";
const QUERY = "?foo=1&bar=2";
const PARAMS = {
  CallSid: "CA1234567890ABCDE",
  Digits: "1234",
  From: "+14158675309",
  To: "+18005551212",
  Caller: "+14158675309",
};
const EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
const WITH_443 = "kvajT1Ptam85bY51eRf/AJRuM3w="; // signed over https://mycompany.com:443/…
const JSON_BODY = '{"property": "value", "boolean": true}';
const BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
const JSON_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4=";
const DUPLICATE_EXPECTED = "IK+Dwps556ElfBT0I3Rgjkr1wJU=";
const PREVIOUS = "previous-auth-token";
const FORM = "application/x-www-form-urlencoded";

const BODY = new URLSearchParams(PARAMS).toString();
const URL_IN = `http://127.0.0.1:9000/hooks/twilio${QUERY}`;

function oracle(token: string, url: string, params: Record<string, string>): string {
  const tail = Object.keys(params).sort().map((k) => k + params[k]).join("");
  return createHmac("sha1", token).update(url + tail).digest("base64");
}

async function verify(
  signature: string | string[] | undefined,
  body: string = BODY,
  url = URL_IN,
  type: string | undefined = FORM,
  publicUrl = PUBLIC_URL,
) {
  const h = new Headers({ "I-Twilio-Idempotency-Token": "idem-1" });
  if (type) h.set("Content-Type", type);
  for (const value of [signature ?? []].flat()) h.append("X-Twilio-Signature", value);
  const check = await twilio.create(
    endpointFor(twilio, [TOKEN, PREVIOUS], { PUBLIC_URL: publicUrl }),
  );
  return check(delivery(h, body, Date.now(), url));
}

Deno.test("twilio verify() matches the SDK's vectors", async (t) => {
  await t.step(
    "accepts the documented form request; URL query comes from the request",
    async () => {
      const verdict = assertAccepted(await verify(EXPECTED));
      assert.equal(verdict.verifiedBy, "secret");
      assert.equal(verdict.deliveryId, "idem-1");
      assert.equal(verdict.event, "webhook");
    },
  );

  await t.step("accepts a signature over the URL with the default port, and without", async () => {
    assertAccepted(await verify(WITH_443));
    assertAccepted(
      await verify(EXPECTED, BODY, URL_IN, FORM, "https://mycompany.com:443/myapp.php"),
    );
  });

  await t.step("checks a JSON body through bodySHA256", async () => {
    const url = `${URL_IN}&bodySHA256=${BODY_HASH}`;
    assertAccepted(await verify(JSON_SIGNATURE, JSON_BODY, url, "application/json"));
    assertRejected(
      await verify(JSON_SIGNATURE, JSON_BODY.replace("value", "valuf"), url, "application/json"),
      401,
      /invalid/,
    );
    assertRejected(
      await verify(JSON_SIGNATURE, JSON_BODY, URL_IN, "application/json"),
      401,
      /bodySHA256/,
    );
  });

  await t.step("sorts names and values and drops duplicate values", () => {
    const params = new URLSearchParams(
      "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234",
    );
    const signature = createHmac("sha1", TOKEN)
      .update(`${PUBLIC_URL}${QUERY}${parameterString(params)}`)
      .digest("base64");
    assert.equal(signature, DUPLICATE_EXPECTED);
  });

  await t.step("names calls and messages by status", async () => {
    const call = { CallSid: "CA1", CallStatus: "completed" };
    const verdict = assertAccepted(
      await verify(oracle(TOKEN, PUBLIC_URL + QUERY, call), new URLSearchParams(call).toString()),
    );
    assert.equal(verdict.event, "call.completed");
    const sms = { MessageSid: "SM1", SmsStatus: "received" };
    const message = assertAccepted(
      await verify(oracle(TOKEN, PUBLIC_URL + QUERY, sms), new URLSearchParams(sms).toString()),
    );
    assert.equal(message.event, "message.received");
  });

  await t.step("accepts the previous auth token during rotation and says so", async () => {
    const verdict = assertAccepted(await verify(oracle(PREVIOUS, PUBLIC_URL + QUERY, PARAMS)));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step("refuses a changed parameter, a changed query, another public URL", async () => {
    assertRejected(
      await verify(EXPECTED, BODY.replace("Digits=1234", "Digits=1235")),
      401,
      /invalid signature/,
    );
    assertRejected(
      await verify(EXPECTED, BODY, URL_IN.replace("foo=1", "foo=2")),
      401,
      /invalid signature/,
    );
    assertRejected(
      await verify(EXPECTED, BODY, URL_IN, FORM, "https://mycompany.com/other.php"),
      401,
      /invalid/,
    );
  });

  await t.step("refuses a wrong token, a truncated signature, the wrong encoding", async () => {
    assertRejected(
      await verify(oracle("wrong", PUBLIC_URL + QUERY, PARAMS)),
      401,
      /invalid signature/,
    );
    assertRejected(await verify(EXPECTED.slice(0, 20)), 401, /malformed/);
    assertRejected(await verify(Uint8Array.fromBase64(EXPECTED).toHex()), 401, /malformed/);
  });

  await t.step("refuses missing and repeated headers", async () => {
    assertRejected(await verify(undefined), 401, /missing X-Twilio-Signature/);
    assertRejected(await verify([EXPECTED, EXPECTED]), 401, /more than once/);
  });
});

Deno.test("signedUrls() tries the URL without a port and with the default one", () => {
  assert.deepEqual(signedUrls("https://a.example/x", "?q=1"), [
    "https://a.example/x?q=1",
    "https://a.example:443/x?q=1",
  ]);
  assert.deepEqual(signedUrls("http://a.example:8080/x", ""), [
    "http://a.example/x",
    "http://a.example:8080/x",
  ]);
});

Deno.test("twilio sign() reproduces the SDK's signature", async () => {
  const endpoint = endpointFor(twilio, [TOKEN], { PUBLIC_URL });
  const h = await twilio.sign!(endpoint, new TextEncoder().encode(BODY), {
    now: Date.now(),
    url: URL_IN,
  });
  assert.equal(h["X-Twilio-Signature"], EXPECTED);
  assert.equal(h["Content-Type"], FORM);
  await assert.rejects(
    () => twilio.sign!(endpoint, new Uint8Array([0xff]), { now: Date.now() }),
    /signs form bodies/,
  );
});

Deno.test("twilio create() names a PUBLIC_URL that is not one", async () => {
  await assert.rejects(
    () => twilio.create(endpointFor(twilio, [TOKEN], { PUBLIC_URL: "https://x.example/a?b=1" })),
    /HOOKD_TWILIO_PUBLIC_URL is not an http\(s\) URL without query string/,
  );
  assert.equal(twilio.settings.PUBLIC_URL.required, true);
});
