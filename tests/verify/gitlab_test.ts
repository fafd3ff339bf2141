import assert from "node:assert/strict";
import { gitlab } from "../../lib/verify/gitlab.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";
import { base64ToHex, bodySignedCases, NOW, oracle, verifyOnce } from "./_body_signed.ts";

const encoder = new TextEncoder();

// GitLab's signed webhooks "follow the Standard Webhooks specification":
// HMAC-SHA256 of "{webhook-id}.{timestamp}.{body}" under the base64 key
// after whsec_, sent as "v1,<base64>" in webhook-signature
// (https://gitlab.com/gitlab-org/gitlab/-/merge_requests/230944). GitLab
// publishes no vector of its own, so this is the Standard Webhooks
// specification's published vector
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
// and the test suites of its reference libraries).
const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// Signing tokens as GitLab makes them: whsec_ and 32 random bytes, base64.
const SIGNING = `whsec_${new Uint8Array(32).fill(7).toBase64()}`;
const SIGNING_PREVIOUS = `whsec_${new Uint8Array(32).fill(9).toBase64()}`;
const SIGNING_WRONG = `whsec_${new Uint8Array(32).fill(11).toBase64()}`;

const MERGE_REQUEST = JSON.stringify({
  object_kind: "merge_request",
  event_type: "merge_request",
  object_attributes: { iid: 1, action: "open" },
});

function signedHeaders(
  body: string | Uint8Array,
  secret: string,
  timestamp = Math.floor(NOW / 1000),
  id = "9b4d4e12-0c1a-4bfa-8c5c-1f3c2e1d0a77",
): Record<string, string> {
  const key = Uint8Array.fromBase64(secret.slice("whsec_".length));
  const signed = typeof body === "string" ? encoder.encode(body) : body;
  const mac = oracle(
    "sha256",
    key,
    new Uint8Array([...encoder.encode(`${id}.${timestamp}.`), ...signed]),
    "base64",
  );
  return {
    "Content-Type": "application/json",
    "X-Gitlab-Event": "Merge Request Hook",
    "Idempotency-Key": id,
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${mac}`,
  };
}

Deno.test("gitlab verify() accepts the Standard Webhooks vector", async () => {
  const headers = {
    "X-Gitlab-Event": "Push Hook",
    "webhook-id": SPEC_ID,
    "webhook-timestamp": String(SPEC_TIMESTAMP),
    "webhook-signature": SPEC_SIGNATURE,
  };
  const verdict = assertAccepted(
    await verifyOnce(gitlab, [SPEC_SECRET], delivery(headers, SPEC_BODY, SPEC_TIMESTAMP * 1000)),
  );
  assert.equal(verdict.verifiedBy, "secret");
  assert.equal(verdict.event, "Push Hook");
  assert.equal(verdict.deliveryId, SPEC_ID);
});

Deno.test("gitlab verify() refuses what a signing token did not sign", async (t) => {
  await bodySignedCases(t, {
    provider: gitlab,
    body: MERGE_REQUEST,
    secrets: { current: SIGNING, previous: SIGNING_PREVIOUS, wrong: SIGNING_WRONG },
    headers: (body, secret) => signedHeaders(body, secret),
    signatureHeader: "webhook-signature",
    wrongEncoding: (value) => `v1,${base64ToHex(value.slice(3))}`,
    event: "merge_request.open",
  });
});

Deno.test("gitlab verify() holds signed deliveries to the replay window", async (t) => {
  const now = Math.floor(NOW / 1000);
  const run = (timestamp: number, settings = {}) =>
    verifyOnce(
      gitlab,
      [SIGNING],
      delivery(signedHeaders(MERGE_REQUEST, SIGNING, timestamp), MERGE_REQUEST, NOW),
      settings,
    );

  await t.step("accepts a timestamp inside the default 5m", async () => {
    assertAccepted(await run(now - 299));
    assertAccepted(await run(now + 299));
  });

  await t.step("rejects a stale timestamp", async () => {
    assertRejected(await run(now - 301), 401, /^stale$/, "rejected.stale");
  });

  await t.step("rejects a future timestamp", async () => {
    assertRejected(await run(now + 301), 401, /^stale$/, "rejected.stale");
  });

  await t.step("honours TOLERANCE", async () => {
    assertAccepted(await run(now - 3000, { TOLERANCE: "1h" }));
    assertRejected(await run(now - 31, { TOLERANCE: "30s" }), 401, /^stale$/);
  });

  await t.step("rejects a changed timestamp, which is signed", async () => {
    const headers = signedHeaders(MERGE_REQUEST, SIGNING, now);
    headers["webhook-timestamp"] = String(now + 1);
    const verdict = await verifyOnce(gitlab, [SIGNING], delivery(headers, MERGE_REQUEST, NOW));
    assertRejected(verdict, 401, /invalid signature/);
  });

  await t.step("skips unknown versions and takes any good v1", async () => {
    const headers = signedHeaders(MERGE_REQUEST, SIGNING, now);
    headers["webhook-signature"] = `v2,abc v1,${"A".repeat(43)}= ${headers["webhook-signature"]}`;
    assertAccepted(await verifyOnce(gitlab, [SIGNING], delivery(headers, MERGE_REQUEST, NOW)));
  });
});

Deno.test("gitlab verify() prefers what is signed over what is not", async (t) => {
  await t.step("the signed webhook-id is the delivery id, not Idempotency-Key", async () => {
    const headers = {
      ...signedHeaders(MERGE_REQUEST, SIGNING),
      "Idempotency-Key": "chosen-by-the-sender",
    };
    const verdict = assertAccepted(
      await verifyOnce(gitlab, [SIGNING], delivery(headers, MERGE_REQUEST, NOW)),
    );
    assert.equal(verdict.deliveryId, "9b4d4e12-0c1a-4bfa-8c5c-1f3c2e1d0a77");
  });

  await t.step("with a token beside the signature, the signed id still wins", async () => {
    const headers = {
      ...signedHeaders(MERGE_REQUEST, SIGNING),
      "Idempotency-Key": "chosen-by-the-sender",
      "X-Gitlab-Token": "gl-token",
    };
    const verdict = assertAccepted(
      await verifyOnce(gitlab, ["gl-token", SIGNING], delivery(headers, MERGE_REQUEST, NOW)),
    );
    assert.equal(verdict.deliveryId, "9b4d4e12-0c1a-4bfa-8c5c-1f3c2e1d0a77");
  });

  await t.step("a token-only delivery keeps Idempotency-Key (nothing is signed)", async () => {
    const headers = { "X-Gitlab-Token": "gl-token", "Idempotency-Key": "idem-1" };
    const verdict = assertAccepted(
      await verifyOnce(gitlab, ["gl-token"], delivery(headers, MERGE_REQUEST, NOW)),
    );
    assert.equal(verdict.deliveryId, "idem-1");
  });

  await t.step("the event is the signed object_kind, whatever X-Gitlab-Event says", async () => {
    const headers = { ...signedHeaders(MERGE_REQUEST, SIGNING), "X-Gitlab-Event": "Push Hook" };
    const verdict = assertAccepted(
      await verifyOnce(gitlab, [SIGNING], delivery(headers, MERGE_REQUEST, NOW)),
    );
    assert.equal(verdict.event, "merge_request.open");
  });
});

Deno.test("gitlab verify() compares X-Gitlab-Token in constant time", async (t) => {
  const headers = (token: string) => ({
    "Content-Type": "application/json",
    "X-Gitlab-Event": "Merge Request Hook",
    "X-Gitlab-Token": token,
    "Idempotency-Key": "c0ffee",
  });
  const run = (input: HeadersInit, body: string | Uint8Array = MERGE_REQUEST) =>
    verifyOnce(gitlab, ["tok-current", "tok-previous"], delivery(input, body, NOW));

  await t.step("accepts the token, with the event and delivery id", async () => {
    const verdict = assertAccepted(await run(headers("tok-current")));
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(verdict.event, "merge_request.open");
    assert.equal(verdict.deliveryId, "c0ffee");
  });

  await t.step("accepts the previous token during rotation and says so", async () => {
    assert.equal(assertAccepted(await run(headers("tok-previous"))).verifiedBy, "previous secret");
  });

  await t.step("rejects a wrong, truncated or repeated token", async () => {
    assertRejected(await run(headers("tok-wrong")), 401, /invalid token/, "rejected.token");
    assertRejected(await run(headers("tok-curren")), 401, /invalid token/);
    const twice = new Headers(headers("tok-current"));
    twice.append("X-Gitlab-Token", "tok-current");
    assertRejected(await run(twice), 401, /more than once/);
  });

  await t.step("rejects a missing token", async () => {
    const bare = headers("x") as Record<string, string>;
    delete bare["X-Gitlab-Token"];
    assertRejected(await run(bare), 401, /missing X-Gitlab-Token/);
  });

  await t.step("accepts a changed body: a token signs nothing, as GitLab documents", async () => {
    const changed = JSON.stringify({ object_kind: "push" });
    assertAccepted(await run(headers("tok-current"), changed));
  });
});

Deno.test("gitlab verify() lets a token and a signing token rotate into each other", async (t) => {
  const secrets = [SIGNING, "tok-previous"];

  await t.step("a signed delivery verifies by the current signing token", async () => {
    const input = delivery(signedHeaders(MERGE_REQUEST, SIGNING), MERGE_REQUEST, NOW);
    assert.equal(assertAccepted(await verifyOnce(gitlab, secrets, input)).verifiedBy, "secret");
  });

  await t.step("a token-only delivery verifies by the previous token", async () => {
    const input = delivery({ "X-Gitlab-Token": "tok-previous" }, MERGE_REQUEST, NOW);
    const verdict = assertAccepted(await verifyOnce(gitlab, secrets, input));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step("a tampered signed delivery is not rescued by a wrong token", async () => {
    const headers = { ...signedHeaders(MERGE_REQUEST, SIGNING), "X-Gitlab-Token": "nope" };
    const input = delivery(headers, flipByte(MERGE_REQUEST, 5), NOW);
    assertRejected(await verifyOnce(gitlab, secrets, input), 401, /invalid signature/);
  });
});

Deno.test("gitlab create() refuses a signing token that is not base64", async () => {
  await assert.rejects(
    gitlab.create(endpointFor(gitlab, ["tok", "whsec_not base64!"])),
    /HOOKD_GITLAB_SECRET_PREVIOUS is not a valid GitLab signing token/,
  );
});

Deno.test("gitlab sign() writes a token or a signature by the secret's form", async () => {
  const body = encoder.encode(MERGE_REQUEST);
  const token = await gitlab.sign!(endpointFor(gitlab, ["tok"]), body, { now: NOW });
  assert.equal(token["X-Gitlab-Token"], "tok");
  const signed = await gitlab.sign!(endpointFor(gitlab, [SPEC_SECRET]), encoder.encode(SPEC_BODY), {
    now: SPEC_TIMESTAMP * 1000,
    deliveryId: SPEC_ID,
  });
  assert.equal(signed["webhook-signature"], SPEC_SIGNATURE);
  assert.equal(signed["X-Gitlab-Token"], undefined);
});
