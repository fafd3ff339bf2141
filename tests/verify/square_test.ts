import assert from "node:assert/strict";
import { square } from "../../lib/verify/square.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";
import { NOW, oracle, verifyOnce } from "./_body_signed.ts";

// The vectors are Square's own, from square/square-nodejs-sdk
// tests/integration/webhooks.test.ts (WebhooksHelper.verifySignature).
const SDK_BODY =
  '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}';
const SDK_SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=";
const SDK_KEY = "Ibxx_5AKakO-3qeNVR61Dw";
const SDK_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9";
// The SDK's "escaped characters" case: another URL, key and body.
const ESCAPED = {
  url: "https://webhook.site/webhooks",
  key: "signature-key",
  body: '{"data":{"type":"webhooks","id":">id<"}}',
  signature: "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
};
// hookd sees its own address behind a proxy; PUBLIC_URL is what Square signs.
const LOCAL = "http://127.0.0.1:9000/hooks/square";

const run = (
  signature: string | undefined,
  options: { body?: string | Uint8Array; url?: string; key?: string[]; local?: string } = {},
) =>
  verifyOnce(
    square,
    options.key ?? [SDK_KEY, "previous-key"],
    delivery(
      signature === undefined ? {} : { "x-square-hmacsha256-signature": signature },
      options.body ?? SDK_BODY,
      NOW,
      options.local ?? LOCAL,
    ),
    { PUBLIC_URL: options.url ?? SDK_URL },
  );

Deno.test("square verify() holds the SDK's vectors", async () => {
  const verdict = assertAccepted(await run(SDK_SIGNATURE));
  assert.equal(verdict.event, "webhooks.test_notification");
  assert.equal(verdict.deliveryId, "ac3ac95b-f97d-458c-a6e6-18981597e05f");
  assert.equal(verdict.verifiedBy, "secret");
  // That body has no type, so a verified signature shows as 400, not 401.
  assertRejected(
    await run(ESCAPED.signature, { body: ESCAPED.body, url: ESCAPED.url, key: [ESCAPED.key] }),
    400,
    /no type/,
  );
});

Deno.test("square verify() refuses what the SDK refuses", async (t) => {
  await t.step("a different notification URL", async () => {
    assertRejected(
      await run(SDK_SIGNATURE, { url: "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9" }),
      401,
      /invalid signature/,
    );
  });
  await t.step("another signature key", async () => {
    assertRejected(await run(SDK_SIGNATURE, { key: ["MCmhFRxGX82xMwg5FsaoQA"] }), 401, /invalid/);
  });
  await t.step("the SDK's invalid header (a SHA-1 length)", async () => {
    assertRejected(await run("1z2n3DEJJiUPKcPzQo1ftvbxGdw="), 401, /malformed/);
  });
  await t.step("a one-byte change, a missing header", async () => {
    assertRejected(await run(SDK_SIGNATURE, { body: flipByte(SDK_BODY, 40) }), 401, /invalid/);
    assertRejected(await run(undefined), 401, /missing x-square-hmacsha256-signature/);
  });
  await t.step("a query string on the request is part of the signed URL", async () => {
    const withQuery = oracle("sha256", SDK_KEY, `${SDK_URL}?tenant=7${SDK_BODY}`, "base64");
    assertAccepted(await run(withQuery, { local: `${LOCAL}?tenant=7` }));
    assertRejected(await run(withQuery), 401, /invalid/);
  });
  await t.step("the previous key verifies and says so", async () => {
    const old = oracle("sha256", "previous-key", SDK_URL + SDK_BODY, "base64");
    assert.equal(assertAccepted(await run(old)).verifiedBy, "previous secret");
  });
});

Deno.test("square create() needs an http(s) PUBLIC_URL", async () => {
  await assert.rejects(
    square.create(endpointFor(square, [SDK_KEY], { PUBLIC_URL: "webhook.site/x?y=1" })),
    /HOOKD_SQUARE_PUBLIC_URL is not an http\(s\) URL/,
  );
  assert.equal(square.settings.PUBLIC_URL.required, true);
});

Deno.test("square sign() reproduces the SDK's signature", async () => {
  const endpoint = endpointFor(square, [SDK_KEY], { PUBLIC_URL: SDK_URL });
  const signed = await square.sign!(endpoint, new TextEncoder().encode(SDK_BODY), {
    now: NOW,
    url: LOCAL,
  });
  assert.equal(signed["x-square-hmacsha256-signature"], SDK_SIGNATURE);
});
