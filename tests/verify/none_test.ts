import assert from "node:assert/strict";
import { none } from "../../lib/verify/none.ts";
import { assertAccepted, delivery, endpointFor } from "./_timestamped.ts";
import { NOW, verifyOnce } from "./_body_signed.ts";

// `none` authenticates nothing: it accepts and marks the delivery.
Deno.test("none verify() accepts anything and marks it unauthenticated", async () => {
  const settings = { EVENT_HEADER: "X-Event", DELIVERY_HEADER: "X-Id" };
  const input = delivery({ "X-Event": "alert", "X-Id": "7" }, "{}", NOW);
  const verdict = assertAccepted(await verifyOnce(none, [], input, settings));
  assert.equal(verdict.verifiedBy, "none");
  assert.equal(verdict.event, "alert");
  assert.equal(verdict.deliveryId, "7");
});

Deno.test("none sign() claims only the event and delivery id", async () => {
  const settings = { EVENT_HEADER: "X-Event", DELIVERY_HEADER: "X-Id" };
  const headers = await none.sign!(endpointFor(none, [], settings), new Uint8Array(), {
    now: NOW,
    event: "alert",
    deliveryId: "7",
  });
  assert.deepEqual(headers, { "X-Event": "alert", "X-Id": "7" });
  assert.deepEqual(await none.sign!(endpointFor(none, []), new Uint8Array(), { now: NOW }), {});
});

Deno.test("none create() refuses EVENT_HEADER and EVENT_FIELD together", async () => {
  await assert.rejects(
    none.create(endpointFor(none, [], { EVENT_HEADER: "X-Event", EVENT_FIELD: "type" })),
    /HOOKD_NONE_EVENT_HEADER and EVENT_FIELD are both set/,
  );
});
