import assert from "node:assert/strict";
import { circleci } from "../../lib/verify/circleci.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";
import { NOW, oracle, verifyOnce } from "./_body_signed.ts";

// CircleCI publishes no vector; its docs (circleci.com/docs/webhooks,
// "Validate webhooks") sign the raw body with HMAC-SHA256 under the secret
// token, hex, as v1=<hex> in circleci-signature, a comma-separated list in
// which only v1 counts. The body follows the docs' workflow-completed
// example; the literal was computed by openssl:
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'circleci-secret-token'
const BODY =
  '{"type":"workflow-completed","id":"3888f21b-eaa7-38e3-8f3d-75a63bba8895","happened_at":"2021-09-01T22:49:34.317Z","webhook":{"id":"cf8c4fdd-0587-4da1-b4ca-4846e9640af9","name":"Sample Webhook"},"workflow":{"id":"fda08377-fe7e-46b1-8992-3a7aaecac9c3","name":"build-test-deploy","status":"success"}}';
const VECTOR = "v1=265d715fd6e112a11c01c179a6a917a093186630a65e019c8092ff1e21f606a5";
const SECRETS = ["circleci-secret-token", "circleci-old-token"];

const run = (header: string | undefined, body: string | Uint8Array = BODY) =>
  verifyOnce(
    circleci,
    SECRETS,
    delivery(header === undefined ? {} : { "circleci-signature": header }, body, NOW),
  );

Deno.test("circleci verify() accepts openssl's vector: event type, delivery id", async () => {
  const verdict = assertAccepted(await run(VECTOR));
  assert.equal(verdict.event, "workflow-completed");
  assert.equal(verdict.deliveryId, "3888f21b-eaa7-38e3-8f3d-75a63bba8895");
  assert.equal(verdict.verifiedBy, "secret");
});

Deno.test("circleci verify() refuses what CircleCI would not send", async (t) => {
  await t.step("the previous token verifies and says so", async () => {
    const old = `v1=${oracle("sha256", "circleci-old-token", BODY, "hex")}`;
    assert.equal(assertAccepted(await run(old)).verifiedBy, "previous secret");
  });
  await t.step("other versions are skipped beside a good v1", async () => {
    assertAccepted(await run(`v2=abcd,${VECTOR}`));
  });
  await t.step("a one-byte change, a wrong secret", async () => {
    assertRejected(await run(VECTOR, flipByte(BODY, 30)), 401, /invalid signature/);
    const wrong = `v1=${oracle("sha256", "guess", BODY, "hex")}`;
    assertRejected(await run(wrong), 401, /invalid signature/);
  });
  await t.step("no v1 entry, a truncated one, or a bare MAC", async () => {
    assertRejected(await run("v2=abcd"), 401, /no v1 signature/);
    assertRejected(await run(VECTOR.slice(0, -2)), 401, /no v1 signature/);
    assertRejected(await run(VECTOR.slice(3)), 401, /malformed circleci-signature/);
  });
  await t.step("missing", async () => {
    assertRejected(await run(undefined), 401, /missing circleci-signature/);
  });
});

Deno.test("circleci sign() writes openssl's vector", async () => {
  const signed = await circleci.sign!(
    endpointFor(circleci, SECRETS),
    new TextEncoder().encode(BODY),
    { now: NOW },
  );
  assert.equal(signed["circleci-signature"], VECTOR);
});
