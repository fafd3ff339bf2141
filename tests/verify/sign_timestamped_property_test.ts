/**
 * Property tests: for random bodies and secrets, what `sign()` writes always
 * verifies, and a single changed byte never does.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Provider } from "../../lib/verify/types.ts";
import { paddle } from "../../lib/verify/paddle.ts";
import { pagerduty } from "../../lib/verify/pagerduty.ts";
import { slack } from "../../lib/verify/slack.ts";
import { standard } from "../../lib/verify/standard.ts";
import { stripe } from "../../lib/verify/stripe.ts";
import { mux } from "../../lib/verify/mux.ts";
import { twilio } from "../../lib/verify/twilio.ts";
import { zoom } from "../../lib/verify/zoom.ts";
import { delivery, endpointFor } from "./_timestamped.ts";

const encoder = new TextEncoder();
const NOW = 1_700_000_000_000;
const RUNS = 50;

interface Case {
  provider: Provider;
  /** A secret the provider accepts, from random bytes. */
  secret: (bytes: Uint8Array) => string;
  /** A body the provider names an event for, around a random string. */
  body: (text: string) => unknown;
}

const CASES: Case[] = [
  { provider: stripe, secret: printable, body: (text) => ({ id: "evt_1", type: "x.y", text }) },
  {
    provider: standard,
    secret: (b) => `whsec_${b.toBase64()}`,
    body: (text) => ({ type: "x.y", text }),
  },
  {
    provider: slack,
    secret: printable,
    body: (text) => ({ type: "event_callback", event_id: "Ev1", event: { type: "x", text } }),
  },
  {
    provider: zoom,
    secret: printable,
    body: (text) => ({ event: "meeting.started", payload: { text } }),
  },
  {
    provider: paddle,
    secret: printable,
    body: (text) => ({ event_id: "evt_1", event_type: "x.y", text }),
  },
  {
    provider: mux,
    secret: printable,
    body: (text) => ({ id: "3a56ac3d", type: "video.asset.ready", text }),
  },
  {
    provider: pagerduty,
    secret: printable,
    body: (text) => ({ event: { id: "1", event_type: "incident.triggered", text } }),
  },
];

// Secrets are typed into an env file: printable text, never empty.
function printable(bytes: Uint8Array): string {
  return bytes.toBase64();
}

const secretBytes = fc.uint8Array({ minLength: 1, maxLength: 64 });

async function signedDelivery(c: Case, secret: string, body: Uint8Array) {
  const endpoint = endpointFor(c.provider, [secret]);
  const headers = await c.provider.sign!(endpoint, body, { now: NOW });
  const verify = await c.provider.create(endpoint);
  return { headers, verify };
}

for (const c of CASES) {
  Deno.test(`${c.provider.name} sign() output always verifies and a one-byte change never does`, async () => {
    await fc.assert(
      fc.asyncProperty(
        secretBytes,
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (bytes, text, position, mask) => {
          const secret = c.secret(bytes);
          const body = encoder.encode(JSON.stringify(c.body(text)));
          const { headers, verify } = await signedDelivery(c, secret, body);
          const verdict = await verify(delivery(headers, body, NOW));
          assert.equal(verdict.ok, true, JSON.stringify(verdict));
          assert.equal(verdict.ok && verdict.verifiedBy, "secret");

          const changed = body.slice();
          changed[position % changed.length] ^= mask;
          const tampered = await verify(delivery(headers, changed, NOW));
          assert.equal(tampered.ok, false);
          assert.equal(!tampered.ok && tampered.status, 401);
        },
      ),
      { numRuns: RUNS },
    );
  });
}

Deno.test("sign() output verifies for any bytes, not only JSON", async () => {
  // The signature holds whatever the body; what happens next is the payload's business.
  for (const c of CASES) {
    await fc.assert(
      fc.asyncProperty(secretBytes, fc.uint8Array({ maxLength: 300 }), async (bytes, body) => {
        const { headers, verify } = await signedDelivery(c, c.secret(bytes), body);
        const verdict = await verify(delivery(headers, body, NOW));
        assert.notEqual(
          !verdict.ok && verdict.status,
          401,
          `${c.provider.name}: ${JSON.stringify(verdict)}`,
        );
      }),
      { numRuns: 20 },
    );
  }
});

Deno.test("twilio sign() output always verifies and a changed parameter never does", async () => {
  const publicUrl = "https://hooks.example.com/hooks/twilio";
  const param = fc.string({ minLength: 1, maxLength: 20 });
  await fc.assert(
    fc.asyncProperty(
      secretBytes,
      fc.dictionary(param, fc.string({ maxLength: 40 }), { minKeys: 1, maxKeys: 8 }),
      fc.nat(),
      async (bytes, params, pick) => {
        const endpoint = endpointFor(twilio, [printable(bytes)], { PUBLIC_URL: publicUrl });
        const body = encoder.encode(new URLSearchParams(params).toString());
        const url = "http://127.0.0.1:9000/hooks/twilio?x=1";
        const headers = await twilio.sign!(endpoint, body, { now: NOW, url });
        const verify = await twilio.create(endpoint);
        const verdict = await verify(delivery(headers, body, NOW, url));
        assert.equal(verdict.ok, true, JSON.stringify(verdict));

        // Twilio signs the decoded parameters, so change one of those.
        const names = Object.keys(params);
        const name = names[pick % names.length];
        const changed = new URLSearchParams({ ...params, [name]: `${params[name]}!` }).toString();
        const tampered = await verify(delivery(headers, encoder.encode(changed), NOW, url));
        assert.equal(!tampered.ok && tampered.status, 401);
      },
    ),
    { numRuns: RUNS },
  );
});
