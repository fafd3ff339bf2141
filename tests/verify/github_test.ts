import assert from "node:assert/strict";
import { github } from "../../lib/verify/github.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

const decoder = new TextDecoder();

// GitHub's published test values: secret "It's a Secret to Everybody",
// payload "Hello, World!", X-Hub-Signature-256
// "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
const DOCS_SECRET = "It's a Secret to Everybody";
const DOCS_BODY = "Hello, World!";
const DOCS_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

// The official GitHub SDK's vector, for both headers: secret "mysecret",
// body JSON.stringify({ foo: "bar" }).
// https://github.com/octokit/webhooks-methods.js (README and test/verify.test.ts)
const OCTOKIT_SECRET = "mysecret";
const OCTOKIT_BODY = '{"foo":"bar"}';
const OCTOKIT_SHA1 = "sha1=d03207e4b030cf234e3447bac4d93add4c6643d8";
const OCTOKIT_SHA256 = "sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3";

const EVENT = { "X-GitHub-Event": "issues", "X-GitHub-Delivery": "72d3162e-cc78-11e3" };

Deno.test("github verify() matches GitHub's published vectors", async (t) => {
  await t.step("the docs vector verifies; the body is then refused only as non-JSON", async () => {
    const verdict = await verifyOnce(
      github,
      [DOCS_SECRET],
      delivery({ ...EVENT, "X-Hub-Signature-256": DOCS_SIGNATURE }, DOCS_BODY, NOW),
    );
    assertRejected(verdict, 400, /not valid JSON/, "rejected.malformed");
  });

  await t.step("sign() writes the docs vector exactly", async () => {
    const headers = await github.sign!(
      endpointFor(github, [DOCS_SECRET]),
      new TextEncoder().encode(DOCS_BODY),
      { now: NOW },
    );
    assert.equal(headers["X-Hub-Signature-256"], DOCS_SIGNATURE);
  });

  await t.step("the octokit SHA-256 vector verifies", async () => {
    const verdict = await verifyOnce(
      github,
      [OCTOKIT_SECRET],
      delivery({ ...EVENT, "X-Hub-Signature-256": OCTOKIT_SHA256 }, OCTOKIT_BODY, NOW),
    );
    assertAccepted(verdict);
  });
});

Deno.test("github verify() refuses what GitHub would not send", async (t) => {
  await bodySignedCases(t, {
    provider: github,
    body: '{"action":"opened","issue":{"number":1}}',
    headers: (body, secret) => ({
      ...EVENT,
      "Content-Type": "application/json",
      "X-Hub-Signature-256": `sha256=${oracle("sha256", secret, body, "hex")}`,
    }),
    signatureHeader: "X-Hub-Signature-256",
    wrongEncoding: (value) => `sha256=${hexToBase64(value.slice(7))}`,
    event: "issues.opened",
  });
});

Deno.test("github verify() reads the event, the action and the delivery id", async () => {
  const body = '{"action":"opened","number":7}';
  const verdict = assertAccepted(
    await verifyOnce(
      github,
      ["s3cret"],
      delivery(
        {
          "X-GitHub-Event": "pull_request",
          "X-GitHub-Delivery": "d-1",
          "X-Hub-Signature-256": `sha256=${oracle("sha256", "s3cret", body, "hex")}`,
        },
        body,
        NOW,
      ),
    ),
  );
  assert.equal(verdict.event, "pull_request.opened");
  assert.equal(verdict.deliveryId, "d-1");
  assert.equal(decoder.decode(verdict.payload), body);
});

Deno.test("github verify() takes SHA-1 only when the endpoint opts in", async (t) => {
  const sha1Only = { ...EVENT, "X-Hub-Signature": OCTOKIT_SHA1 };

  await t.step("refuses the SHA-1 header alone by default", async () => {
    const verdict = await verifyOnce(
      github,
      [OCTOKIT_SECRET],
      delivery(sha1Only, OCTOKIT_BODY, NOW),
    );
    assertRejected(verdict, 401, /missing X-Hub-Signature-256/);
  });

  await t.step("accepts the octokit SHA-1 vector with ALLOW_SHA1=true", async () => {
    const verdict = await verifyOnce(
      github,
      [OCTOKIT_SECRET],
      delivery(sha1Only, OCTOKIT_BODY, NOW),
      { ALLOW_SHA1: "true" },
    );
    assert.equal(assertAccepted(verdict).verifiedBy, "secret");
  });

  await t.step("reads the algo= prefix of X-Hub-Signature", async () => {
    const headers = { ...EVENT, "X-Hub-Signature": OCTOKIT_SHA256 };
    const settings = { ALLOW_SHA1: "true" };
    const input = delivery(headers, OCTOKIT_BODY, NOW);
    assertAccepted(await verifyOnce(github, [OCTOKIT_SECRET], input, settings));
    const md5 = delivery({ ...EVENT, "X-Hub-Signature": "md5=00" }, OCTOKIT_BODY, NOW);
    assertRejected(await verifyOnce(github, [OCTOKIT_SECRET], md5, settings), 401, /unsupported/);
  });

  await t.step("never lets a good SHA-1 rescue a bad SHA-256", async () => {
    const headers = {
      ...sha1Only,
      "X-Hub-Signature-256": `sha256=${"00".repeat(32)}`,
    };
    const verdict = await verifyOnce(
      github,
      [OCTOKIT_SECRET],
      delivery(headers, OCTOKIT_BODY, NOW),
      { ALLOW_SHA1: "true" },
    );
    assertRejected(verdict, 401, /invalid signature/);
  });

  await t.step("refuses a SHA-1 signature under the SHA-256 header", async () => {
    const headers = { ...EVENT, "X-Hub-Signature-256": OCTOKIT_SHA1 };
    const verdict = await verifyOnce(
      github,
      [OCTOKIT_SECRET],
      delivery(headers, OCTOKIT_BODY, NOW),
      { ALLOW_SHA1: "true" },
    );
    assertRejected(verdict, 401, /not accepted/);
  });

  await t.step("fails at build time on a bad ALLOW_SHA1, naming the variable", async () => {
    await assert.rejects(
      github.create(endpointFor(github, ["s"], { ALLOW_SHA1: "yes" })),
      /HOOKD_GITHUB_ALLOW_SHA1 must be true or false/,
    );
  });
});

Deno.test("github verify() checks a form delivery over the raw form bytes", async (t) => {
  const json = '{"action":"created","comment":{"body":"a+b & c=d ü"}}';
  const form = new URLSearchParams({ payload: json }).toString();
  const headers = (signed: string) => ({
    ...EVENT,
    "Content-Type": "application/x-www-form-urlencoded",
    "X-Hub-Signature-256": `sha256=${oracle("sha256", "s3cret", signed, "hex")}`,
  });

  await t.step("accepts the form signed as sent and hands the hook the JSON", async () => {
    const verdict = assertAccepted(
      await verifyOnce(github, ["s3cret"], delivery(headers(form), form, NOW)),
    );
    assert.equal(decoder.decode(verdict.payload), json);
    assert.equal(verdict.contentType, "application/json");
    assert.equal(verdict.event, "issues.created");
  });

  await t.step("refuses a form whose signature covers only the JSON", async () => {
    const verdict = await verifyOnce(github, ["s3cret"], delivery(headers(json), form, NOW));
    assertRejected(verdict, 401, /invalid signature/);
  });
});
