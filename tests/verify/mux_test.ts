import assert from "node:assert/strict";
import { mux } from "../../lib/verify/mux.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { oracle, verifyOnce } from "./_body_signed.ts";

// The vector is Mux's own, from @mux/mux-node's tests before v8
// (test/unit/webhooks/webhooks.spec.cjs: "generated from Mux's backend
// code"): secret SuperSecret123, body {"test":"body"}, time 1565125718.
const SECRET = "SuperSecret123";
const BODY = '{"test":"body"}';
const HEADER = "t=1565125718,v1=854ece4c22acef7c66b57d4e504153bc512595e8e9c772ece2a68150548c19a7";
const AT = 1565125718 * 1000;

const run = (header: string, body = BODY, now = AT, secrets = [SECRET]) =>
  verifyOnce(mux, secrets, delivery({ "Mux-Signature": header }, body, now));

Deno.test("mux verify() holds Mux's own vector", async (t) => {
  await t.step("the signature verifies; the test body has no type, so 400", async () => {
    // A 400, not a 401: the body is only read once the signature holds.
    assertRejected(await run(HEADER), 400, /payload has no type/);
  });
  await t.step("outside the 5-minute window it is stale, as the SDK says", async () => {
    assertRejected(await run(HEADER, BODY, AT + 301_000), 401, /stale/);
  });
  await t.step("another secret, or a changed body or time: invalid", async () => {
    assertRejected(await run(HEADER, BODY, AT, ["SuperSecret124"]), 401, /invalid signature/);
    assertRejected(await run(HEADER, '{"test":"bodY"}'), 401, /invalid signature/);
    assertRejected(await run(HEADER.replace("718", "719")), 401, /invalid signature/);
  });
  await t.step("the SDK's wrong-scheme header: no v1", async () => {
    assertRejected(await run("t=1565125718,v2=weiorwer"), 401, /no v1 signature/);
    assertRejected(await run("somebadheadervalue"), 401, /malformed Mux-Signature/);
  });
});

Deno.test("mux verify() reads a video.asset.ready event and its id", async () => {
  const body = JSON.stringify({
    type: "video.asset.ready",
    id: "3a56ac3d-33da-4366-855b-f592d898409d",
    object: { type: "asset", id: "0201p02fGKPE7MrbC269XRD7LpcHhrmbu0002" },
  });
  const header = `t=1565125718,v1=${oracle("sha256", SECRET, `1565125718.${body}`, "hex")}`;
  const verdict = assertAccepted(await run(header, body));
  assert.equal(verdict.event, "video.asset.ready");
  assert.equal(verdict.deliveryId, "3a56ac3d-33da-4366-855b-f592d898409d");
});

Deno.test("mux sign() reproduces Mux's vector", async () => {
  const signed = await mux.sign!(endpointFor(mux, [SECRET]), new TextEncoder().encode(BODY), {
    now: AT,
  });
  assert.equal(signed["Mux-Signature"], HEADER);
});
