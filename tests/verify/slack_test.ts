/**
 * Tests for the `slack` provider: the sender's own vectors, then every way a
 * Slack delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { slack } from "../../lib/verify/slack.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

// The worked example of Slack's "Verifying requests from Slack"
// (https://api.slack.com/authentication/verifying-requests-from-slack), as
// copied into python-slack-sdk's tests/signature/test_signature_verifier.py
// (https://github.com/slackapi/python-slack-sdk/blob/main/tests/signature/test_signature_verifier.py).
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const TS = 1531420618;
const BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const NOW = TS * 1000;
const PREVIOUS = "0123456789abcdef0123456789abcdef";
const FORM = "application/x-www-form-urlencoded";

// node:crypto as an independent oracle for the other bodies.
function sign(secret: string, ts: number | string, body: string | Uint8Array): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${ts}:`).update(body).digest("hex")}`;
}

function headers(signature: string | string[], ts: number | string = TS, type = FORM): Headers {
  const h = new Headers({ "X-Slack-Request-Timestamp": String(ts), "Content-Type": type });
  for (const value of [signature].flat()) h.append("X-Slack-Signature", value);
  return h;
}

async function verify(h: Headers, body: string | Uint8Array = BODY, now = NOW) {
  const check = await slack.create(endpointFor(slack, [SECRET, PREVIOUS]));
  return check(delivery(h, body, now));
}

async function json(body: unknown) {
  const text = JSON.stringify(body);
  return assertAccepted(
    await verify(headers(sign(SECRET, TS, text), TS, "application/json"), text),
  );
}

Deno.test("slack verify() matches Slack's documented example and refuses tampering", async (t) => {
  await t.step("accepts the documented slash command; event is command.<name>", async () => {
    const verdict = assertAccepted(await verify(headers(SIGNATURE)));
    assert.equal(verdict.event, "command.webhook-collect");
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(verdict.contentType, FORM);
    assert.equal(verdict.reply, undefined);
  });

  await t.step("answers the url_verification challenge itself", async () => {
    const verdict = await json({
      token: "t",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      type: "url_verification",
    });
    assert.equal(verdict.event, "url_verification");
    assert.deepEqual(verdict.reply, {
      status: 200,
      body: { challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" },
    });
  });

  await t.step("names Events API deliveries by the inner event and its subtype", async () => {
    const mention = await json({
      type: "event_callback",
      event_id: "Ev0PV52K21",
      event: { type: "app_mention" },
    });
    assert.equal(mention.event, "app_mention");
    assert.equal(mention.deliveryId, "Ev0PV52K21");
    const join = await json({
      type: "event_callback",
      event_id: "Ev1",
      event: { type: "message", subtype: "channel_join" },
    });
    assert.equal(join.event, "message.channel_join");
  });

  await t.step("hands an interaction's payload JSON to the hook", async () => {
    const payload = JSON.stringify({ type: "block_actions", actions: [] });
    const body = `payload=${encodeURIComponent(payload)}`;
    const verdict = assertAccepted(await verify(headers(sign(SECRET, TS, body)), body));
    assert.equal(verdict.event, "block_actions");
    assert.equal(new TextDecoder().decode(verdict.payload), payload);
    assert.equal(verdict.contentType, "application/json");
  });

  await t.step("answers an ssl_check", async () => {
    const body = "ssl_check=1&token=x";
    const verdict = assertAccepted(await verify(headers(sign(SECRET, TS, body)), body));
    assert.deepEqual(verdict.reply, { status: 200, body: "" });
  });

  await t.step("accepts the previous signing secret during rotation and says so", async () => {
    const verdict = assertAccepted(await verify(headers(sign(PREVIOUS, TS, BODY))));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step(
    "refuses a one-byte change and a longer body (python-slack-sdk's case)",
    async () => {
      assertRejected(
        await verify(headers(SIGNATURE), flipByte(BODY, -1)),
        401,
        /invalid signature/,
      );
      assertRejected(await verify(headers(SIGNATURE), `${BODY}------`), 401, /invalid signature/);
    },
  );

  await t.step("refuses a wrong secret, a truncated signature and the wrong encoding", async () => {
    assertRejected(await verify(headers(sign("wrong", TS, BODY))), 401, /invalid signature/);
    assertRejected(
      await verify(headers(SIGNATURE.slice(0, -2))),
      401,
      /malformed X-Slack-Signature/,
    );
    const base64 = `v0=${Uint8Array.fromHex(SIGNATURE.slice(3)).toBase64()}`;
    assertRejected(await verify(headers(base64)), 401, /malformed/);
  });

  await t.step("refuses an unknown signature version", async () => {
    assertRejected(await verify(headers(`v1=${SIGNATURE.slice(3)}`)), 401, /malformed/);
  });

  await t.step("refuses stale and future timestamps", async () => {
    for (const ts of [TS - 301, TS + 301]) {
      assertRejected(
        await verify(headers(sign(SECRET, ts, BODY), ts)),
        401,
        /^stale$/,
        "rejected.stale",
      );
    }
    // The documented request replayed today.
    assertRejected(await verify(headers(SIGNATURE), BODY, Date.now()), 401, /stale/);
  });

  await t.step("refuses missing, repeated and malformed headers", async () => {
    const h = headers(SIGNATURE);
    h.delete("X-Slack-Request-Timestamp");
    assertRejected(await verify(h), 401, /missing X-Slack-Request-Timestamp/);
    const s = headers(SIGNATURE);
    s.delete("X-Slack-Signature");
    assertRejected(await verify(s), 401, /missing X-Slack-Signature/);
    assertRejected(await verify(headers([SIGNATURE, SIGNATURE])), 401, /more than once/);
    assertRejected(
      await verify(headers(SIGNATURE, "1531420618.5")),
      401,
      /malformed X-Slack-Request-Timestamp/,
    );
  });

  await t.step("answers 400 for a signed body Slack would never send", async () => {
    const body = "foo=bar";
    assertRejected(await verify(headers(sign(SECRET, TS, body)), body), 400, /form has no payload/);
  });
});

Deno.test("slack sign() reproduces the documented signature", async () => {
  const endpoint = endpointFor(slack, [SECRET]);
  const body = new TextEncoder().encode(BODY);
  const h = await slack.sign!(endpoint, body, { now: NOW + 500 });
  assert.equal(h["X-Slack-Signature"], SIGNATURE);
  assert.equal(h["X-Slack-Request-Timestamp"], String(TS));
  assert.equal(h["Content-Type"], FORM);
  const jsonHeaders = await slack.sign!(endpoint, new TextEncoder().encode(' {"type":"x"}'), {
    now: NOW,
  });
  assert.equal(jsonHeaders["Content-Type"], "application/json");
});
