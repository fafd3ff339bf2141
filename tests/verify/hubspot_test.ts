import assert from "node:assert/strict";
import { hubspot, hubspotUri } from "../../lib/verify/hubspot.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";
import { oracle, verifyOnce } from "./_body_signed.ts";

// HubSpot's SDK tests v3 only against itself, so the vector was computed
// with the SDK's own Signature.getSignature (@hubspot/api-client 13.5.0),
// on the secret and body of its v1 test and the URL of its v2 test:
//   npm pack @hubspot/api-client && tar xzf hubspot-api-client-13.5.0.tgz
//   node -e "const {Signature}=require('./package/lib/src/utils/signature.js');
//     console.log(Signature.getSignature('POST','v3',{clientSecret:'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy',
//     requestBody:BODY,url:'https://www.example.com/webhook_uri',timestamp:1564113600000}))"
const SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const BODY =
  '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
const URL = "https://www.example.com/webhook_uri";
const TIMESTAMP = "1564113600000";
const VECTOR = "DxmVAjFNa2xfF3YgQjdZP6TNcok9k1oaH7UXombPtvw=";
const NOW = 1564113600000 + 60_000;
const LOCAL = "http://127.0.0.1:9000/hooks/hubspot";

function headers(signature: string, timestamp = TIMESTAMP): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-HubSpot-Signature-v3": signature,
    "X-HubSpot-Request-Timestamp": timestamp,
  };
}

const run = (
  h: Record<string, string>,
  options: { body?: string | Uint8Array; now?: number; local?: string; secrets?: string[] } = {},
) =>
  verifyOnce(
    hubspot,
    options.secrets ?? [SECRET, "previous-secret"],
    delivery(h, options.body ?? BODY, options.now ?? NOW, options.local ?? LOCAL),
    { PUBLIC_URL: URL },
  );

Deno.test("hubspot verify() holds the SDK's v3 signature", async () => {
  const verdict = assertAccepted(await run(headers(VECTOR)));
  assert.equal(verdict.event, "contact.creation");
  assert.equal(verdict.verifiedBy, "secret");
});

Deno.test("hubspot verify() refuses what HubSpot would not send", async (t) => {
  await t.step("a one-byte change, another timestamp, another secret", async () => {
    assertRejected(await run(headers(VECTOR), { body: flipByte(BODY, 20) }), 401, /invalid/);
    assertRejected(await run(headers(VECTOR, "1564113600001")), 401, /invalid/);
    assertRejected(await run(headers(VECTOR), { secrets: ["nope"] }), 401, /invalid/);
  });
  await t.step("older or newer than 5 minutes", async () => {
    assertRejected(
      await run(headers(VECTOR), { now: 1564113600000 + 301_000 }),
      401,
      /stale/,
      "rejected.stale",
    );
    assertRejected(await run(headers(VECTOR), { now: 1564113600000 - 301_000 }), 401, /stale/);
  });
  await t.step("missing or malformed headers", async () => {
    const h = headers(VECTOR);
    delete h["X-HubSpot-Request-Timestamp"];
    assertRejected(await run(h), 401, /missing X-HubSpot-Request-Timestamp/);
    assertRejected(await run(headers(VECTOR, "2019-07-26")), 401, /malformed X-HubSpot-Request/);
    assertRejected(await run(headers(VECTOR.slice(0, -4))), 401, /malformed X-HubSpot-Signature/);
  });
  await t.step("the previous secret verifies and says so", async () => {
    const old = oracle("sha256", "previous-secret", `POST${URL}${BODY}${TIMESTAMP}`, "base64");
    assert.equal(assertAccepted(await run(headers(old))).verifiedBy, "previous secret");
  });
});

Deno.test("hubspot signs the URI with the query string, listed characters decoded", async () => {
  const query = "?portal=62515&scope=crm%3Aobjects%2Ccontacts&name=a%20b";
  const signed = `POST${URL}?portal=62515&scope=crm:objects,contacts&name=a%20b${BODY}${TIMESTAMP}`;
  const signature = oracle("sha256", SECRET, signed, "base64");
  assertAccepted(await run(headers(signature), { local: LOCAL + query }));
  assertRejected(await run(headers(signature)), 401, /invalid/);
  assert.equal(
    hubspotUri("https://h/x", "?a=%3a%2F%3f%40%21%24%27%28%29%2a%2c%3b%20"),
    "https://h/x?a=:/?@!$'()*,;%20",
  );
});

Deno.test("hubspot event names: one subscriptionType, batch, or a workflow object", async () => {
  const mixed = JSON.stringify([{ subscriptionType: "contact.creation" }, {
    subscriptionType: "deal.deletion",
  }]);
  const sign = (body: string) =>
    headers(oracle("sha256", SECRET, `POST${URL}${body}${TIMESTAMP}`, "base64"));
  assert.equal(assertAccepted(await run(sign(mixed), { body: mixed })).event, "batch");
  const workflow = JSON.stringify({ callbackId: "ap-1", origin: { portalId: 1 } });
  assert.equal(assertAccepted(await run(sign(workflow), { body: workflow })).event, "webhook");
});

Deno.test("hubspot sign() reproduces the SDK's signature", async () => {
  const endpoint = endpointFor(hubspot, [SECRET], { PUBLIC_URL: URL });
  const signed = await hubspot.sign!(endpoint, new TextEncoder().encode(BODY), {
    now: Number(TIMESTAMP),
    url: LOCAL,
  });
  assert.equal(signed["X-HubSpot-Request-Timestamp"], TIMESTAMP);
  assert.equal(signed["X-HubSpot-Signature-v3"], VECTOR);
});
