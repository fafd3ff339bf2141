import assert from "node:assert/strict";
import { jira } from "../../lib/verify/jira.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Atlassian publishes no signature vector (its example header is a
// placeholder). The scheme is from its docs: "X-Hub-Signature:
// method=signature", method "sha256", the hex HMAC of the body
// (https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks;
// https://confluence.atlassian.com/adminjiraserver/managing-webhooks-938846912.html).
// node:crypto is the oracle.
const BODY = JSON.stringify({
  timestamp: 1700000000000,
  webhookEvent: "jira:issue_created",
  issue_event_type_name: "issue_created",
  issue: { key: "OPS-1" },
});

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Atlassian-Webhook-Identifier": "1234567890",
    "X-Atlassian-Webhook-Flow": "Primary",
    "X-Hub-Signature": `sha256=${oracle("sha256", secret, body, "hex")}`,
  };
}

Deno.test("jira verify() refuses what Jira would not send", async (t) => {
  await bodySignedCases(t, {
    provider: jira,
    body: BODY,
    headers,
    signatureHeader: "X-Hub-Signature",
    wrongEncoding: (value) => `sha256=${hexToBase64(value.slice(7))}`,
    event: "jira:issue_created",
  });
});

Deno.test("jira verify() reads webhookEvent and the webhook identifier", async () => {
  const verdict = assertAccepted(
    await verifyOnce(jira, ["s"], delivery(headers(BODY, "s"), BODY, NOW)),
  );
  assert.equal(verdict.event, "jira:issue_created");
  assert.equal(verdict.deliveryId, "1234567890");
});

Deno.test("jira verify() reads the method prefix rather than assuming it", async (t) => {
  await t.step("accepts a sha512 method", async () => {
    const h = {
      ...headers(BODY, "s"),
      "X-Hub-Signature": `sha512=${oracle("sha512", "s", BODY, "hex")}`,
    };
    assertAccepted(await verifyOnce(jira, ["s"], delivery(h, BODY, NOW)));
  });
  await t.step("refuses sha1, which Jira never sends", async () => {
    const h = {
      ...headers(BODY, "s"),
      "X-Hub-Signature": `sha1=${oracle("sha1", "s", BODY, "hex")}`,
    };
    assertRejected(await verifyOnce(jira, ["s"], delivery(h, BODY, NOW)), 401, /not accepted/);
  });
  await t.step("refuses a bare signature with no method", async () => {
    const h = { ...headers(BODY, "s"), "X-Hub-Signature": oracle("sha256", "s", BODY, "hex") };
    assertRejected(await verifyOnce(jira, ["s"], delivery(h, BODY, NOW)), 401, /malformed/);
  });
});

Deno.test("jira verify() answers 400 for a signed body without webhookEvent", async () => {
  const body = '{"issue":{}}';
  assertRejected(
    await verifyOnce(jira, ["s"], delivery(headers(body, "s"), body, NOW)),
    400,
    /webhookEvent/,
  );
});
