import assert from "node:assert/strict";
import { docusign } from "../../lib/verify/docusign.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { base64ToHex, bodySignedCases, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// DocuSign publishes no vector; its guide (developers.docusign.com/platform/webhooks/connect/validate)
// computes a SHA256 HMAC of the whole body and base64-encodes it, one
// X-DocuSign-Signature-N header per active key. The literal below was
// computed by openssl:
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'docusign-connect-key' -binary | base64
const BODY =
  '{"event":"envelope-completed","apiVersion":"v2.1","uri":"/restapi/v2.1/accounts/9f3d7e9a/envelopes/4f1e2b3c","retryCount":0,"configurationId":10418873,"generatedDateTime":"2023-05-08T16:04:31.1570000Z","data":{"accountId":"9f3d7e9a","userId":"5d6e7f80","envelopeId":"4f1e2b3c"}}';
const VECTOR = "54nL9TKxCCnjOv4QsLaqk+t+J1WVYN/kymOI+vWJ/I0=";

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-DocuSign-Signature-1": oracle("sha256", secret, body, "base64"),
  };
}

const run = (h: HeadersInit, secrets = ["docusign-connect-key"]) =>
  verifyOnce(docusign, secrets, delivery(h, BODY, NOW));

Deno.test("docusign verify() accepts openssl's vector, event from the JSON", async () => {
  const verdict = assertAccepted(await run({ "X-DocuSign-Signature-1": VECTOR }));
  assert.equal(verdict.event, "envelope-completed");
});

Deno.test("docusign verify() refuses what DocuSign would not send", async (t) => {
  await bodySignedCases(t, {
    provider: docusign,
    body: BODY,
    headers,
    signatureHeader: "X-DocuSign-Signature-1",
    wrongEncoding: base64ToHex,
    event: "envelope-completed",
  });
});

Deno.test("docusign verify() takes any of several keys' headers", async (t) => {
  const other = oracle("sha256", "another-account-key", BODY, "base64");
  await t.step("ours in -2, a key we do not hold in -1", async () => {
    assertAccepted(
      await run({ "X-DocuSign-Signature-1": other, "X-DocuSign-Signature-2": VECTOR }),
    );
  });
  await t.step("a malformed -1 beside a good -3", async () => {
    assertAccepted(await run({ "X-DocuSign-Signature-1": "!!", "X-DocuSign-Signature-3": VECTOR }));
  });
  await t.step("none of them ours", async () => {
    assertRejected(await run({ "X-DocuSign-Signature-1": other }), 401, /invalid signature/);
  });
  await t.step("only malformed values", async () => {
    assertRejected(await run({ "X-DocuSign-Signature-2": "abc" }), 401, /malformed/);
  });
});

Deno.test("docusign sign() writes openssl's vector", async () => {
  const signed = await docusign.sign!(
    endpointFor(docusign, ["docusign-connect-key"]),
    new TextEncoder().encode(BODY),
    { now: NOW },
  );
  assert.equal(signed["X-DocuSign-Signature-1"], VECTOR);
});

Deno.test("docusign verify() refuses more than 8 signature headers with 401, before any MAC", async () => {
  const nine: Record<string, string> = { "Content-Type": "application/json" };
  for (let n = 1; n <= 9; n++) nine[`X-DocuSign-Signature-${n}`] = VECTOR;
  assertRejected(await run(nine), 401, /^too many signatures$/);
});
