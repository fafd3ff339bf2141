import assert from "node:assert/strict";
import { meta, metaEvent } from "../../lib/verify/meta.ts";
import type { Verify } from "../../lib/verify/types.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Meta publishes no signature vector. The scheme is from its docs
// (developers.facebook.com/docs/graph-api/webhooks/getting-started,
// "Validating Payloads"): X-Hub-Signature-256 is sha256= + the hex
// HMAC-SHA256 of the raw body under the app secret; node:crypto is the
// oracle. The verification request is the docs' own example:
//   GET …?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock
// and the body below is the WhatsApp Cloud API docs' text-message example.
const VERIFY_TOKEN = "meatyhamhock";
const DOCS_VERIFICATION =
  "https://example.com/hooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock";
const WHATSAPP = JSON.stringify({
  object: "whatsapp_business_account",
  entry: [{
    id: "102290129340398",
    changes: [{
      value: {
        messaging_product: "whatsapp",
        metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" },
        contacts: [{ profile: { name: "Sheena Nelson" }, wa_id: "16505551234" }],
        messages: [{
          from: "16505551234",
          id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
          timestamp: "1749416383",
          type: "text",
          text: { body: "Does it come in another color?" },
        }],
      },
      field: "messages",
    }],
  }],
});
const SETTINGS = { VERIFY_TOKEN };

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Hub-Signature-256": `sha256=${oracle("sha256", secret, body, "hex")}`,
  };
}

async function build(token = VERIFY_TOKEN): Promise<Verify> {
  return await meta.create(endpointFor(meta, ["app-secret"], { VERIFY_TOKEN: token }));
}

function get(url: string, method = "GET") {
  return { method, url, headers: new Headers(), now: NOW };
}

Deno.test("meta verify() refuses what Meta would not send", async (t) => {
  await bodySignedCases(t, {
    provider: meta,
    settings: SETTINGS,
    body: WHATSAPP,
    headers,
    signatureHeader: "X-Hub-Signature-256",
    wrongEncoding: (value) => `sha256=${hexToBase64(value.slice(7))}`,
    event: "whatsapp_business_account.messages",
  });
});

Deno.test("meta verify() refuses the legacy SHA-1 X-Hub-Signature alone", async () => {
  const sha1 = { "X-Hub-Signature": `sha1=${oracle("sha1", "s", WHATSAPP, "hex")}` };
  assertRejected(
    await verifyOnce(meta, ["s"], delivery(sha1, WHATSAPP, NOW), SETTINGS),
    401,
    /missing X-Hub-Signature-256/,
  );
  const named = { "X-Hub-Signature-256": `sha1=${oracle("sha1", "s", WHATSAPP, "hex")}` };
  assertRejected(
    await verifyOnce(meta, ["s"], delivery(named, WHATSAPP, NOW), SETTINGS),
    401,
    /sha1 signatures are not accepted/,
  );
});

Deno.test("meta event names: <object>.<field> when every change agrees, else <object>", async (t) => {
  await t.step("one field across entries and changes", () => {
    const body = {
      object: "page",
      entry: [{ changes: [{ field: "feed" }] }, { changes: [{ field: "feed" }] }],
    };
    assert.equal(metaEvent(body), "page.feed");
  });
  await t.step("mixed fields give the object alone", () => {
    const body = {
      object: "instagram",
      entry: [{ changes: [{ field: "comments" }, { field: "mentions" }] }],
    };
    assert.equal(metaEvent(body), "instagram");
  });
  await t.step("Messenger's messaging[] (no changes) gives the object", () => {
    assert.equal(metaEvent({ object: "page", entry: [{ messaging: [{}] }] }), "page");
  });
  await t.step("a change without a field gives the object", () => {
    const body = { object: "page", entry: [{ changes: [{ field: "feed" }, {}] }] };
    assert.equal(metaEvent(body), "page");
  });
  await t.step("no object: verify() answers 400 once the signature holds", async () => {
    const body = JSON.stringify({ entry: [] });
    assertRejected(
      await verifyOnce(meta, ["s"], delivery(headers(body, "s"), body, NOW), SETTINGS),
      400,
      /payload has no object/,
    );
  });
});

Deno.test("meta handshake answers the docs' verification request", async (t) => {
  const verify = await build();
  const handshake = verify.handshake!;

  await t.step("the right verify token: 200 with the challenge as text/plain", async () => {
    const reply = await handshake(get(DOCS_VERIFICATION));
    assert.ok(reply?.ok, JSON.stringify(reply));
    assert.equal(reply.status, 200);
    assert.equal(reply.body, "1158201444");
    assert.match(reply.headers["Content-Type"], /^text\/plain/);
    assert.equal(reply.headers["X-Content-Type-Options"], "nosniff");
    assert.equal(reply.event, "subscribe");
  });

  await t.step("a wrong, differently long or missing token: 403, no challenge", async () => {
    for (
      const url of [
        DOCS_VERIFICATION.replace("meatyhamhock", "meatyhamhocK"),
        DOCS_VERIFICATION.replace("meatyhamhock", "meatyhamhock2"),
        DOCS_VERIFICATION.replace("&hub.verify_token=meatyhamhock", ""),
      ]
    ) {
      const reply = await handshake(get(url));
      assert.ok(reply && !reply.ok, url);
      assert.equal(reply.status, 403);
      assert.equal(reply.outcome, "rejected.token");
      assert.doesNotMatch(JSON.stringify(reply), /1158201444|meatyhamhock/);
    }
  });

  await t.step("not a subscribe request, or no challenge: 400", async () => {
    const unsubscribe = await handshake(get(DOCS_VERIFICATION.replace("subscribe", "unsubscribe")));
    assert.ok(unsubscribe && !unsubscribe.ok);
    assert.equal(unsubscribe.status, 400);
    const bare = await handshake(get("https://example.com/hooks/meta"));
    assert.ok(bare && !bare.ok);
    assert.equal(bare.status, 400);
    const noChallenge = await handshake(
      get(DOCS_VERIFICATION.replace("hub.challenge=1158201444&", "")),
    );
    assert.ok(noChallenge && !noChallenge.ok);
    assert.equal(noChallenge.reason, "missing hub.challenge");
  });

  await t.step("a POST is not a handshake: it goes on to verify()", async () => {
    assert.equal(await handshake(get(DOCS_VERIFICATION, "POST")), undefined);
  });
});

Deno.test("meta create() and config: VERIFY_TOKEN is required and secret", () => {
  assert.equal(meta.settings.VERIFY_TOKEN.required, true);
  assert.equal(meta.settings.VERIFY_TOKEN.secret, true);
  assert.match(meta.settings.VERIFY_TOKEN.validate!("  ")!, /empty/);
});

Deno.test("meta sign() writes what verify() reads", async () => {
  const endpoint = endpointFor(meta, ["app-secret"], SETTINGS);
  const body = new TextEncoder().encode(WHATSAPP);
  const signed = await meta.sign!(endpoint, body, { now: NOW });
  assert.equal(
    signed["X-Hub-Signature-256"],
    headers(WHATSAPP, "app-secret")["X-Hub-Signature-256"],
  );
  const verdict = assertAccepted(
    await verifyOnce(meta, ["app-secret"], delivery(signed, body, NOW), SETTINGS),
  );
  assert.equal(verdict.event, "whatsapp_business_account.messages");
});
