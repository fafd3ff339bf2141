import assert from "node:assert/strict";
import { linear } from "../../lib/verify/linear.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Linear publishes no fixed vector: its SDK tests sign at run time with
// createHmac("sha256", secret).update(rawBody).digest("hex"), as here. The
// payload is the one in @linear/sdk's LinearWebhooks.test.ts
// (https://github.com/linear/linear/blob/master/packages/sdk/src/_tests/LinearWebhooks.test.ts),
// whose webhookTimestamp 1677611643000 the SDK expects to be refused as
// too old; the scheme is in packages/sdk/src/webhooks/client.ts.
function payload(webhookTimestamp: unknown): string {
  return JSON.stringify({
    action: "create",
    data: {
      id: "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9",
      createdAt: "2020-01-23T12:53:18.084Z",
      updatedAt: "2020-01-23T12:53:18.084Z",
      archivedAt: null,
      body: "Indeed, I think this is definitely an improvement over the previous version.",
      edited: false,
      issueId: "539068e2-ae88-4d09-bd75-22eb4a59612f",
      userId: "aacdca22-6266-4c0a-ab3c-8fa70a26765c",
    },
    type: "Comment",
    url: "https://linear.app/issue/LIN-1778/foo-bar#comment-77217de3-fb52-4dad-bb9a-b356beb93de8",
    createdAt: "2020-01-23T12:53:18.084Z",
    webhookTimestamp,
  });
}

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "Linear-Delivery": "234d1a4e-b617-4388-90fe-adc3633d6b72",
    "Linear-Event": "Comment",
    "Linear-Signature": oracle("sha256", secret, body, "hex"),
  };
}

const run = (body: string, settings = {}) =>
  verifyOnce(linear, ["SECRET"], delivery(headers(body, "SECRET"), body, NOW), settings);

Deno.test("linear verify() refuses what Linear would not send", async (t) => {
  await bodySignedCases(t, {
    provider: linear,
    body: payload(NOW),
    headers,
    signatureHeader: "Linear-Signature",
    wrongEncoding: hexToBase64,
    event: "Comment.create",
  });
});

Deno.test("linear verify() reads Linear-Event, the action and Linear-Delivery", async () => {
  const verdict = assertAccepted(await run(payload(NOW)));
  assert.equal(verdict.event, "Comment.create");
  assert.equal(verdict.deliveryId, "234d1a4e-b617-4388-90fe-adc3633d6b72");
});

Deno.test("linear verify() names the event by the signed body, not the Linear-Event header", async () => {
  // Linear-Event repeats the body's type but is not signed: a captured
  // delivery replayed with another header must keep its event.
  const body = payload(NOW);
  const forged = { ...headers(body, "SECRET"), "Linear-Event": "Issue" };
  const verdict = assertAccepted(await verifyOnce(linear, ["SECRET"], delivery(forged, body, NOW)));
  assert.equal(verdict.event, "Comment.create");
  const untyped = JSON.stringify({ action: "create", webhookTimestamp: NOW });
  const fallback = assertAccepted(await run(untyped));
  assert.equal(fallback.event, "Comment.create", "the header names a body without type");
});

Deno.test("linear verify() holds webhookTimestamp to the replay window", async (t) => {
  await t.step("refuses the SDK test's old timestamp as stale", async () => {
    assertRejected(await run(payload(1677611643000)), 401, /^stale$/, "rejected.stale");
  });
  await t.step("accepts up to the default 5m either way", async () => {
    assertAccepted(await run(payload(NOW - 299_000)));
    assertAccepted(await run(payload(NOW + 299_000)));
  });
  await t.step("refuses a stale and a future timestamp", async () => {
    assertRejected(await run(payload(NOW - 301_000)), 401, /^stale$/, "rejected.stale");
    assertRejected(await run(payload(NOW + 301_000)), 401, /^stale$/, "rejected.stale");
  });
  await t.step("honours TOLERANCE, e.g. Linear's own one minute", async () => {
    assertRejected(await run(payload(NOW - 61_000), { TOLERANCE: "1m" }), 401, /^stale$/);
    assertAccepted(await run(payload(NOW - 59_000), { TOLERANCE: "1m" }));
  });
  await t.step("refuses a signed body without a numeric webhookTimestamp", async () => {
    assertRejected(await run(payload(undefined)), 401, /missing webhookTimestamp/);
    assertRejected(await run(payload(String(NOW))), 401, /missing webhookTimestamp/);
  });
});

Deno.test("linear create() names TOLERANCE when it is not a duration", async () => {
  await assert.rejects(
    linear.create(endpointFor(linear, ["s"], { TOLERANCE: "5 minutes" })),
    /HOOKD_LINEAR_TOLERANCE is "5 minutes", not a duration/,
  );
});
