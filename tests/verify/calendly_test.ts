import assert from "node:assert/strict";
import { calendly } from "../../lib/verify/calendly.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Calendly publishes no fixed vector. The scheme is from its docs:
// "Calendly-Webhook-Signature: t=<timestamp>,v1=<signature>", the hex
// HMAC-SHA256 of "<t>.<body>" with the webhook signing key
// (https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures).
// node:crypto is the oracle.
const BODY = JSON.stringify({
  created_at: "2023-11-14T22:13:19.000000Z",
  created_by: "https://api.calendly.com/users/AAAAAAAAAAAAAAAA",
  event: "invitee.created",
  payload: { email: "test@example.com", name: "John Doe" },
});
const T = Math.floor(NOW / 1000);

function sign(body: string | Uint8Array, secret: string, t: number | string = T): string {
  return oracle(
    "sha256",
    secret,
    new Uint8Array([
      ...new TextEncoder().encode(`${t}.`),
      ...(typeof body === "string" ? new TextEncoder().encode(body) : body),
    ]),
    "hex",
  );
}

function headers(body: string | Uint8Array, secret: string, t = T): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "Calendly-Webhook-Signature": `t=${t},v1=${sign(body, secret, t)}`,
  };
}

const run = (header: string, settings = {}) =>
  verifyOnce(
    calendly,
    ["key"],
    delivery({ "Calendly-Webhook-Signature": header }, BODY, NOW),
    settings,
  );

Deno.test("calendly verify() refuses what Calendly would not send", async (t) => {
  await bodySignedCases(t, {
    provider: calendly,
    body: BODY,
    headers: (body, secret) => headers(body, secret),
    signatureHeader: "Calendly-Webhook-Signature",
    wrongEncoding: (value) => value.replace(/v1=([0-9a-f]+)/, (_, hex) => `v1=${hexToBase64(hex)}`),
    event: "invitee.created",
  });
});

Deno.test("calendly verify() reads the body's event; Calendly sends no delivery id", async () => {
  const verdict = assertAccepted(await run(`t=${T},v1=${sign(BODY, "key")}`));
  assert.equal(verdict.event, "invitee.created");
  assert.equal(verdict.deliveryId, undefined);
});

Deno.test("calendly verify() holds t to the replay window", async (t) => {
  await t.step("accepts up to the default 5m either way", async () => {
    assertAccepted(await run(`t=${T - 299},v1=${sign(BODY, "key", T - 299)}`));
    assertAccepted(await run(`t=${T + 299},v1=${sign(BODY, "key", T + 299)}`));
  });
  await t.step("refuses a stale and a future timestamp", async () => {
    assertRejected(
      await run(`t=${T - 301},v1=${sign(BODY, "key", T - 301)}`),
      401,
      /^stale$/,
      "rejected.stale",
    );
    assertRejected(
      await run(`t=${T + 301},v1=${sign(BODY, "key", T + 301)}`),
      401,
      /^stale$/,
      "rejected.stale",
    );
  });
  await t.step("honours TOLERANCE", async () => {
    const header = `t=${T - 200},v1=${sign(BODY, "key", T - 200)}`;
    assertRejected(await run(header, { TOLERANCE: "3m" }), 401, /^stale$/);
  });
  await t.step("refuses a changed t, which is signed", async () => {
    assertRejected(await run(`t=${T + 1},v1=${sign(BODY, "key")}`), 401, /invalid signature/);
  });
  await t.step("refuses a t that is not whole seconds", async () => {
    assertRejected(await run(`t=1e9,v1=${sign(BODY, "key", "1e9")}`), 401, /malformed timestamp/);
  });
});

Deno.test("calendly verify() skips unknown entries and takes any good v1", async () => {
  const header = `t=${T},v0=abc,v1=${"00".repeat(32)},v1=${sign(BODY, "key")}`;
  assertAccepted(await run(header));
  assertRejected(await run(`t=${T},v0=${sign(BODY, "key")}`), 401, /malformed/);
});
