import assert from "node:assert/strict";
import { dropbox } from "../../lib/verify/dropbox.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// Dropbox publishes no signature vector. The scheme is from its webhook
// docs (dropbox.com/developers/reference/webhooks): X-Dropbox-Signature is
// the hex HMAC-SHA256 of the body under the app secret, and the
// verification GET's challenge is echoed with Content-Type text/plain and
// X-Content-Type-Options: nosniff. node:crypto is the oracle; the body is
// the docs' notification example.
const BODY = JSON.stringify({
  list_folder: { accounts: ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"] },
  delta: { users: [12345678, 23456789] },
});

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Dropbox-Signature": oracle("sha256", secret, body, "hex"),
  };
}

Deno.test("dropbox verify() refuses what Dropbox would not send", async (t) => {
  await bodySignedCases(t, {
    provider: dropbox,
    body: BODY,
    headers,
    signatureHeader: "X-Dropbox-Signature",
    wrongEncoding: hexToBase64,
    event: "list_folder",
  });
});

Deno.test("dropbox verify() calls a body without list_folder a notification", async () => {
  const body = JSON.stringify({ delta: { users: [1] } });
  const verdict = assertAccepted(
    await verifyOnce(dropbox, ["s"], delivery(headers(body, "s"), body, NOW)),
  );
  assert.equal(verdict.event, "notification");
  assert.equal(verdict.deliveryId, undefined);
  assertRejected(
    await verifyOnce(dropbox, ["s"], delivery(headers("[", "s"), "[", NOW)),
    400,
    /not valid JSON/,
  );
});

Deno.test("dropbox handshake echoes the GET challenge, and only on GET", async (t) => {
  const verify = await dropbox.create(endpointFor(dropbox, ["s"]));
  const handshake = verify.handshake!;
  const request = (url: string, method = "GET") => ({
    method,
    url,
    headers: new Headers(),
    now: NOW,
  });

  await t.step("the challenge comes back as is, text/plain and nosniff", async () => {
    const reply = await handshake(request("https://example.com/hooks/dropbox?challenge=xyz%20123"));
    assert.ok(reply?.ok);
    assert.equal(reply.body, "xyz 123");
    assert.equal(reply.headers["Content-Type"], "text/plain; charset=utf-8");
    assert.equal(reply.headers["X-Content-Type-Options"], "nosniff");
    assert.equal(reply.event, "challenge");
  });

  await t.step("no challenge, or one too long: 400", async () => {
    const none = await handshake(request("https://example.com/hooks/dropbox"));
    assert.ok(none && !none.ok);
    assert.equal(none.reason, "missing challenge");
    const long = await handshake(
      request(`https://example.com/hooks/dropbox?challenge=${"a".repeat(2049)}`),
    );
    assert.ok(long && !long.ok);
    assert.equal(long.status, 400);
    assert.equal(long.reason, "challenge is too long");
  });

  await t.step("a POST is a notification, not a handshake", async () => {
    assert.equal(
      await handshake(request("https://example.com/hooks/dropbox?challenge=x", "POST")),
      undefined,
    );
  });
});

Deno.test("dropbox sign() writes what verify() reads", async () => {
  const body = new TextEncoder().encode(BODY);
  const signed = await dropbox.sign!(endpointFor(dropbox, ["app-secret"]), body, { now: NOW });
  assert.equal(signed["X-Dropbox-Signature"], oracle("sha256", "app-secret", BODY, "hex"));
  assertAccepted(await verifyOnce(dropbox, ["app-secret"], delivery(signed, body, NOW)));
});
