import assert from "node:assert/strict";
import { msgraph } from "../../lib/verify/msgraph.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { NOW, verifyOnce } from "./_body_signed.ts";

// Graph signs nothing; the oracle is its docs
// (learn.microsoft.com/graph/change-notifications-delivery-webhooks):
// the validation POST `?validationToken=…` answered 200 text/plain with the
// token, and the notification example below, whose clientState
// "secretClientValue" is the subscription's shared secret.
const CLIENT_STATE = "secretClientValue";
const NOTIFICATION = {
  id: "lsgTZMr9KwAAA",
  subscriptionId: "{subscription_guid}",
  subscriptionExpirationDateTime: "2016-03-19T22:11:09.952Z",
  clientState: CLIENT_STATE,
  changeType: "created",
  resource: "users/{user_guid}@{tenant_guid}/messages/{long_id_string}",
  tenantId: "84bd8158-6d4d-4958-8b9f-9d6445542f95",
  resourceData: {
    "@odata.type": "#Microsoft.Graph.Message",
    "@odata.id": "Users/{user_guid}@{tenant_guid}/Messages/{long_id_string}",
    "@odata.etag": 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"',
    id: "{long_id_string}",
  },
};
const LIFECYCLE = {
  lifecycleEvent: "reauthorizationRequired",
  subscriptionId: "{subscription_guid}",
  subscriptionExpirationDateTime: "2019-03-20T11:00:00.0000000Z",
  clientState: CLIENT_STATE,
  tenantId: "84bd8158-6d4d-4958-8b9f-9d6445542f95",
};
const TOKEN =
  "Validation: Testing client application reachability for subscription Request-Id: 9b2e8e5a-3c4d-4f1e-9a0b-1c2d3e4f5a6b";

const run = (value: unknown[], secrets = [CLIENT_STATE, "oldClientValue"]) => {
  const body = JSON.stringify({ value });
  return verifyOnce(msgraph, secrets, delivery({ "Content-Type": "application/json" }, body, NOW));
};

Deno.test("msgraph verify() accepts the docs' notification by its clientState", async () => {
  const verdict = assertAccepted(await run([NOTIFICATION]));
  assert.equal(verdict.event, "change.created");
  assert.equal(verdict.verifiedBy, "secret");
  assert.equal(verdict.deliveryId, undefined);
});

Deno.test("msgraph verify() hands on the batch with every clientState redacted", async () => {
  const verdict = assertAccepted(
    await run([NOTIFICATION, { ...NOTIFICATION, clientState: "oldClientValue" }]),
  );
  const text = new TextDecoder().decode(verdict.payload);
  assert.doesNotMatch(text, /secretClientValue|oldClientValue/);
  const payload = JSON.parse(text);
  assert.deepEqual(payload.value[0], { ...NOTIFICATION, clientState: "[redacted]" });
  assert.equal(payload.value.length, 2);
  assert.equal(verdict.contentType, "application/json");
});

Deno.test("msgraph verify() names events by changeType and lifecycleEvent", async () => {
  const updated = { ...NOTIFICATION, changeType: "updated" };
  assert.equal(assertAccepted(await run([NOTIFICATION, NOTIFICATION])).event, "change.created");
  assert.equal(assertAccepted(await run([NOTIFICATION, updated])).event, "change");
  assert.equal(
    assertAccepted(await run([LIFECYCLE])).event,
    "lifecycle.reauthorizationRequired",
  );
  assert.equal(
    assertAccepted(await run([LIFECYCLE, { ...LIFECYCLE, lifecycleEvent: "missed" }])).event,
    "lifecycle",
  );
  assert.equal(assertAccepted(await run([LIFECYCLE, NOTIFICATION])).event, "notifications");
});

Deno.test("msgraph verify() refuses a batch unless every clientState matches", async (t) => {
  await t.step("one wrong clientState refuses the whole batch", async () => {
    assertRejected(
      await run([NOTIFICATION, { ...NOTIFICATION, clientState: "secretClientValuf" }]),
      401,
      /invalid clientState/,
      "rejected.token",
    );
  });
  await t.step("a missing or non-string clientState", async () => {
    const { clientState: _, ...without } = NOTIFICATION;
    assertRejected(await run([without]), 401, /missing clientState/);
    assertRejected(await run([{ ...NOTIFICATION, clientState: 1 }]), 401, /missing clientState/);
    assertRejected(await run([null]), 401, /missing clientState/);
  });
  await t.step("the previous clientState is accepted and reported", async () => {
    const old = { ...NOTIFICATION, clientState: "oldClientValue" };
    assert.equal(assertAccepted(await run([NOTIFICATION, old])).verifiedBy, "previous secret");
  });
  await t.step("a body that is not a notification collection: 400", async () => {
    assertRejected(await run([]), 400, /no notifications/);
    assertRejected(
      await verifyOnce(msgraph, [CLIENT_STATE], delivery({}, "{", NOW)),
      400,
      /not valid JSON/,
    );
    assertRejected(
      await verifyOnce(msgraph, [CLIENT_STATE], delivery({}, '{"value":{}}', NOW)),
      400,
      /no notifications/,
    );
  });
});

Deno.test("msgraph handshake echoes validationToken on POST, within the request", async (t) => {
  const verify = await msgraph.create(endpointFor(msgraph, [CLIENT_STATE]));
  const handshake = verify.handshake!;
  const request = (query: string, method = "POST") => ({
    method,
    url: `https://example.com/hooks/graph${query}`,
    headers: new Headers({ "Content-Type": "text/plain; charset=utf-8" }),
    now: NOW,
  });

  await t.step("the decoded token comes back as text/plain 200", async () => {
    const reply = await handshake(request(`?validationToken=${encodeURIComponent(TOKEN)}`));
    assert.ok(reply?.ok);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, TOKEN);
    assert.match(reply.headers["Content-Type"], /^text\/plain/);
    assert.equal(reply.event, "validation");
  });

  await t.step("an empty token: 400", async () => {
    const reply = await handshake(request("?validationToken="));
    assert.ok(reply && !reply.ok);
    assert.equal(reply.status, 400);
  });

  await t.step("a POST without the parameter, or a GET, is no handshake", async () => {
    assert.equal(await handshake(request("")), undefined);
    assert.equal(await handshake(request("?validationToken=x", "GET")), undefined);
  });
});

Deno.test("msgraph has no sign(): the secret travels in the body", () => {
  assert.equal(msgraph.sign, undefined);
});

Deno.test("msgraph verify() does bounded work on a body before its clientState holds", async (t) => {
  const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  const send = (body: string) =>
    verifyOnce(
      msgraph,
      [CLIENT_STATE],
      delivery({ "Content-Type": "application/json" }, body, NOW),
    );

  await t.step("1 MB of nested arrays: 400 naming the depth, not parsed", async () => {
    const body = `{"value":[{"clientState":"guess","x":${nested(500_000)}}]}`;
    assertRejected(await send(body), 400, /nested deeper than \d+ levels/);
  });

  await t.step("the scan stops at the limit: a broken tail past it is never read", async () => {
    // Were the body parsed first, this would be refused as invalid JSON.
    const body = `{"value":[${"[".repeat(300_000)}`;
    assertRejected(await send(body), 400, /nested deeper than \d+ levels/);
  });

  await t.step("brackets inside strings do not count", async () => {
    const deepText = { ...NOTIFICATION, resource: "[{".repeat(1000) + '\\"' };
    assert.equal(assertAccepted(await run([deepText])).event, "change.created");
  });

  await t.step("Graph's own nesting (resourceData, encrypted content) passes", async () => {
    const rich = {
      ...NOTIFICATION,
      resourceData: { a: { b: { c: { d: { e: [[{ f: 1 }]] } } } } },
      encryptedContent: { data: "x", dataKey: "y", encryptionCertificateId: "z" },
    };
    assertAccepted(await run([rich]));
  });
});
