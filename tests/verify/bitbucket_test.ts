import assert from "node:assert/strict";
import { bitbucket } from "../../lib/verify/bitbucket.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Bitbucket publishes no signature vector. The scheme is from its docs:
// "X-Hub-Signature: sha256=<hex HMAC of the body>"
// (https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/#Secure-webhooks,
// https://bitbucket.org/blog/enhanced-webhook-security; Data Center:
// https://confluence.atlassian.com/bitbucketserver/manage-webhooks-938025878.html).
// node:crypto is the oracle.
const BODY = '{"push":{"changes":[]},"repository":{"full_name":"team/repo"}}';

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Event-Key": "repo:push",
    "X-Request-UUID": "e1f5c3e4-7d7a-4a0b-9d1a-0f3e5c2b1a90",
    "X-Hook-UUID": "hook-1",
    "X-Hub-Signature": `sha256=${oracle("sha256", secret, body, "hex")}`,
  };
}

Deno.test("bitbucket verify() refuses what Bitbucket would not send", async (t) => {
  await bodySignedCases(t, {
    provider: bitbucket,
    body: BODY,
    headers,
    signatureHeader: "X-Hub-Signature",
    wrongEncoding: (value) => `sha256=${hexToBase64(value.slice(7))}`,
    event: "repo:push",
  });
});

Deno.test("bitbucket verify() reads X-Event-Key and the delivery id", async () => {
  const verdict = assertAccepted(
    await verifyOnce(bitbucket, ["s"], delivery(headers(BODY, "s"), BODY, NOW)),
  );
  assert.equal(verdict.event, "repo:push");
  assert.equal(verdict.deliveryId, "e1f5c3e4-7d7a-4a0b-9d1a-0f3e5c2b1a90");
});

Deno.test("bitbucket verify() reads X-Hub-Signature as SHA-256, not GitHub's SHA-1", async () => {
  const sha1 = {
    ...headers(BODY, "s"),
    "X-Hub-Signature": `sha1=${oracle("sha1", "s", BODY, "hex")}`,
  };
  assertRejected(
    await verifyOnce(bitbucket, ["s"], delivery(sha1, BODY, NOW)),
    401,
    /not accepted/,
  );
});

Deno.test("bitbucket verify() takes Data Center's X-Request-Id as the delivery id", async () => {
  const dc = headers(BODY, "s");
  delete dc["X-Request-UUID"];
  dc["X-Request-Id"] = "dc-1";
  dc["X-Event-Key"] = "repo:refs_changed";
  const verdict = assertAccepted(await verifyOnce(bitbucket, ["s"], delivery(dc, BODY, NOW)));
  assert.equal(verdict.deliveryId, "dc-1");
  assert.equal(verdict.event, "repo:refs_changed");
});
