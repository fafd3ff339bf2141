import assert from "node:assert/strict";
import { ipfabric } from "../../lib/verify/ipfabric.ts";
import { assertAccepted, delivery } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

// IP Fabric publishes no signature vector. Its docs (Settings → Integration
// → Webhooks, https://docs.ipfabric.io/latest/IP_Fabric_Settings/integration/webhooks/)
// give the check as createHmac('sha256', secret).update(body).digest('hex')
// compared with X-IPF-Signature, which is the oracle used here, and the
// snapshot and intent-verification payloads these bodies follow.
const SNAPSHOT = JSON.stringify({
  type: "snapshot",
  action: "discover",
  status: "completed",
  requester: "cron",
  snapshot: { id: "0f3a6c8e-7b1d-4e2f-9a5c-3d2b1e0f4a6b", name: "nightly" },
  timestamp: 1700000000000,
});
const INTENT = JSON.stringify({
  type: "intent-verification",
  action: "calculate",
  status: "failed",
  reason: "timeout",
  requester: "snapshot:discover",
  snapshotId: "0f3a6c8e",
  timestamp: 1700000000000,
  test: true,
});

function headers(body: string | Uint8Array, secret: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-IPF-Signature": oracle("sha256", secret, body, "hex"),
  };
}

const run = (body: string) => verifyOnce(ipfabric, ["s"], delivery(headers(body, "s"), body, NOW));

Deno.test("ipfabric verify() refuses what IP Fabric would not send", async (t) => {
  await bodySignedCases(t, {
    provider: ipfabric,
    body: SNAPSHOT,
    headers,
    signatureHeader: "X-IPF-Signature",
    wrongEncoding: hexToBase64,
    event: "snapshot.discover.completed",
  });
});

Deno.test("ipfabric verify() names events <type>.<action>.<status>", async () => {
  assert.equal(assertAccepted(await run(SNAPSHOT)).event, "snapshot.discover.completed");
  assert.equal(assertAccepted(await run(INTENT)).event, "intent-verification.calculate.failed");
  const started = JSON.stringify({ type: "snapshot", action: "discover", status: "started" });
  assert.equal(assertAccepted(await run(started)).deliveryId, undefined);
});

Deno.test("ipfabric verify() gives a custom payload template the event webhook", async () => {
  assert.equal(assertAccepted(await run('{"event": "discover", "at": 1}')).event, "webhook");
  assert.equal(assertAccepted(await run("<event>discover</event>")).event, "webhook");
});
