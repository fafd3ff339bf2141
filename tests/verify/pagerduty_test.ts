/**
 * Tests for the `pagerduty` provider: the sender's own vectors, then every way a
 * PagerDuty delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { pagerduty } from "../../lib/verify/pagerduty.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

// Vectors from PagerDuty's Go client, webhookv3/webhookv3_test.go
// (https://github.com/PagerDuty/go-pagerduty/blob/main/webhookv3/webhookv3_test.go),
// which PagerDuty's signature docs point to
// (https://developer.pagerduty.com/docs/webhooks/webhook-signatures/).
const SECRET = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK";
const BODY =
  `{"event":{"id":"01BWDWL3NYY7LUFPZCC28QUCMK","event_type":"incident.priority_updated","resource_type":"incident","occurred_at":"2021-04-26T17:36:27.458Z","agent":{"html_url":"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","title":"A little bump in the road","service":{"html_url":"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":"https://api.pagerduty.com/services/PF9KMXH","summary":"API Service","type":"service_reference"},"assignees":[{"html_url":"https://acme.pagerduty.com/users/PTUXL6G","id":"PTUXL6G","self":"https://api.pagerduty.com/users/PTUXL6G","summary":"User 123","type":"user_reference"}],"escalation_policy":{"html_url":"https://acme.pagerduty.com/escalation_policies/PUS0KTE","id":"PUS0KTE","self":"https://api.pagerduty.com/escalation_policies/PUS0KTE","summary":"Default","type":"escalation_policy_reference"},"teams":[{"html_url":"https://acme.pagerduty.com/teams/PFCVPS0","id":"PFCVPS0","self":"https://api.pagerduty.com/teams/PFCVPS0","summary":"Engineering","type":"team_reference"}],"priority":{"html_url":"https://acme.pagerduty.com/account/incident_priorities","id":"PSO75BM","self":"https://api.pagerduty.com/priorities/PSO75BM","summary":"P1","type":"priority_reference"},"urgency":"high","conference_bridge":{"conference_number":1000,"conference_url":"https://example.com"},"resolve_reason":null}}}`;
const VALID = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd";
const MISMATCH = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5";
const PREVIOUS = "previous-pagerduty-secret";

function oracle(secret: string | Uint8Array, body: string | Uint8Array): string {
  return `v1=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

async function verify(header: string | string[] | undefined, body: string | Uint8Array = BODY) {
  const h = new Headers({ "Content-Type": "application/json" });
  for (const value of [header ?? []].flat()) h.append("X-PagerDuty-Signature", value);
  const check = await pagerduty.create(endpointFor(pagerduty, [SECRET, PREVIOUS]));
  return check(delivery(h, body, Date.now()));
}

Deno.test("pagerduty verify() matches the Go client's vectors and refuses tampering", async (t) => {
  await t.step("accepts the valid vector; event.event_type and event.id", async () => {
    const verdict = assertAccepted(await verify(VALID));
    assert.equal(verdict.event, "incident.priority_updated");
    assert.equal(verdict.deliveryId, "01BWDWL3NYY7LUFPZCC28QUCMK");
    assert.equal(verdict.verifiedBy, "secret");
  });

  await t.step("refuses the mismatch vector", async () => {
    assertRejected(await verify(MISMATCH), 401, /invalid signature/);
  });

  await t.step("uses the secret as written, not base64-decoded", async () => {
    assertRejected(
      await verify(oracle(Uint8Array.fromBase64(SECRET), BODY)),
      401,
      /invalid signature/,
    );
  });

  await t.step("accepts a comma-separated list (rotation) and skips unknown versions", async () => {
    assertAccepted(await verify(`${MISMATCH},v2=abc,${VALID}`));
    assertRejected(await verify(`v0=${VALID.slice(3)}`), 401, /no v1 signature/);
  });

  await t.step("accepts the previous secret during rotation and says so", async () => {
    const verdict = assertAccepted(await verify(oracle(PREVIOUS, BODY)));
    assert.equal(verdict.verifiedBy, "previous secret");
  });

  await t.step("refuses a one-byte change, a wrong secret, a truncated signature", async () => {
    assertRejected(await verify(VALID, flipByte(BODY, 100)), 401, /invalid signature/);
    assertRejected(await verify(oracle("wrong", BODY)), 401, /invalid signature/);
    assertRejected(await verify(VALID.slice(0, -2)), 401, /no v1/);
  });

  await t.step("refuses the wrong encoding, missing and repeated headers", async () => {
    assertRejected(
      await verify(`v1=${Uint8Array.fromHex(VALID.slice(3)).toBase64()}`),
      401,
      /no v1/,
    );
    assertRejected(await verify(undefined), 401, /missing X-PagerDuty-Signature/);
    assertRejected(await verify([VALID, VALID]), 401, /more than once/);
    assertRejected(await verify("garbage"), 401, /malformed/);
  });

  await t.step("answers 400 for a signed body without event.event_type", async () => {
    assertRejected(await verify(oracle(SECRET, "{}"), "{}"), 400, /event_type/);
  });
});

Deno.test("pagerduty sign() reproduces the Go client's signature", async () => {
  const h = await pagerduty.sign!(
    endpointFor(pagerduty, [SECRET, PREVIOUS]),
    new TextEncoder().encode(BODY),
    {
      now: Date.now(),
    },
  );
  assert.equal(h["X-PagerDuty-Signature"], VALID);
});
