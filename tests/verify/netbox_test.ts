import assert from "node:assert/strict";
import { netbox } from "../../lib/verify/netbox.ts";
import { assertAccepted, delivery } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// NetBox publishes no signature vector (its tests recompute
// generate_signature). The scheme is netbox/extras/webhooks.py
// (https://github.com/netbox-community/netbox/blob/main/netbox/extras/webhooks.py):
// hmac.new(secret, body, sha512).hexdigest() in X-Hook-Signature.
// node:crypto is the oracle. The bodies follow NetBox's documented default
// payload (docs/integrations/webhooks.md) before and after 4.4.
const NETBOX_3 = JSON.stringify({
  event: "created",
  timestamp: "2021-03-09 17:55:33.968016+00:00",
  model: "site",
  username: "jstretch",
  request_id: "fdbca812-3142-4783-b364-2e2bd5c16c6a",
  data: { id: 19, name: "Site 1", slug: "site-1" },
});
const NETBOX_4_4 = JSON.stringify({
  event: "updated",
  timestamp: "2025-08-05T14:24:22.300153+00:00",
  object_type: "dcim.site",
  model: "site",
  username: "admin",
  request_id: "2f0c3c0e-1d4b-4c64-9a57-3c1f1f0a9e21",
  data: { id: 123 },
});
const NETBOX_4_6 = JSON.stringify({
  event: "deleted",
  timestamp: "2026-04-07T09:00:00+00:00",
  object_type: "ipam.ipaddress",
  data: { id: 5, address: "10.0.0.1/24" },
  request: { id: "6c8b5c1e-2a3f-4bbd-9e0c-1e2f3a4b5c6d", user: "admin" },
});

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Hook-Signature": oracle("sha512", secret, body, "hex"),
  };
}

const run = (body: string) => verifyOnce(netbox, ["s"], delivery(headers(body, "s"), body, NOW));

Deno.test("netbox verify() refuses what NetBox would not send", async (t) => {
  await bodySignedCases(t, {
    provider: netbox,
    body: NETBOX_3,
    headers,
    signatureHeader: "X-Hook-Signature",
    wrongEncoding: hexToBase64,
    event: "site.created",
  });
});

Deno.test("netbox verify() names events the same before and after object_type", async (t) => {
  await t.step("reads model (NetBox up to 4.3)", async () => {
    assert.equal(assertAccepted(await run(NETBOX_3)).event, "site.created");
  });
  await t.step("reads object_type when both are sent (4.4)", async () => {
    assert.equal(assertAccepted(await run(NETBOX_4_4)).event, "site.updated");
  });
  await t.step("reads object_type alone (after model was dropped)", async () => {
    assert.equal(assertAccepted(await run(NETBOX_4_6)).event, "ipaddress.deleted");
  });
});

Deno.test("netbox verify() never takes request_id for a delivery id", async () => {
  // request_id is shared by every change one request made: a bulk edit of
  // ten sites sends ten webhooks with the same request_id.
  assert.equal(assertAccepted(await run(NETBOX_3)).deliveryId, undefined);
  assert.equal(assertAccepted(await run(NETBOX_4_6)).deliveryId, undefined);
});

Deno.test("netbox verify() gives a custom body template the event webhook", async () => {
  assert.equal(assertAccepted(await run('{"text": "IP 10.0.0.1 created"}')).event, "webhook");
  assert.equal(assertAccepted(await run("plain text")).event, "webhook");
});
