import assert from "node:assert/strict";
import { sentry } from "../../lib/verify/sentry.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Sentry publishes no signature vector. The scheme is from its docs: the
// hex HMAC-SHA256 of the body with the integration's client secret, in
// Sentry-Hook-Signature; the resource in Sentry-Hook-Resource, the action
// in the body, the id in Request-ID
// (https://docs.sentry.io/organization/integrations/integration-platform/webhooks/).
// node:crypto is the oracle.
const BODY =
  '{"action": "created", "installation": {"uuid": "a8e5d37a"}, "data": {"issue": {"id": "1"}}}';

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "Request-ID": "2ba1b8e7-9fc0-4a8e-9c3b-6f4d1a7f1b2c",
    "Sentry-Hook-Resource": "issue",
    "Sentry-Hook-Timestamp": "1700000000",
    "Sentry-Hook-Signature": oracle("sha256", secret, body, "hex"),
  };
}

Deno.test("sentry verify() refuses what Sentry would not send", async (t) => {
  await bodySignedCases(t, {
    provider: sentry,
    body: BODY,
    headers,
    signatureHeader: "Sentry-Hook-Signature",
    wrongEncoding: hexToBase64,
    event: "issue.created",
  });
});

Deno.test("sentry verify() names the event <resource>.<action> and reads Request-ID", async () => {
  const verdict = assertAccepted(
    await verifyOnce(sentry, ["s"], delivery(headers(BODY, "s"), BODY, NOW)),
  );
  assert.equal(verdict.event, "issue.created");
  assert.equal(verdict.deliveryId, "2ba1b8e7-9fc0-4a8e-9c3b-6f4d1a7f1b2c");
});

Deno.test("sentry verify() answers 400 for a signed delivery without a resource", async () => {
  const h = headers(BODY, "s");
  delete h["Sentry-Hook-Resource"];
  assertRejected(
    await verifyOnce(sentry, ["s"], delivery(h, BODY, NOW)),
    400,
    /Sentry-Hook-Resource/,
  );
});
