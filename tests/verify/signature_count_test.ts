/**
 * Tests for what a list of signatures costs: the senders that may list
 * several (Stripe, Paddle, PagerDuty, Calendly, Standard Webhooks and
 * GitLab's signed webhooks) compute the expected MAC once per key and
 * compare every listed signature to it, and read at most
 * {@linkcode MAX_SIGNATURES} of them. MAC computations are counted, not
 * timed.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Provider } from "../../lib/verify/types.ts";
import { calendly } from "../../lib/verify/calendly.ts";
import { gitlab } from "../../lib/verify/gitlab.ts";
import { paddle } from "../../lib/verify/paddle.ts";
import { pagerduty } from "../../lib/verify/pagerduty.ts";
import { standard } from "../../lib/verify/standard.ts";
import { stripe } from "../../lib/verify/stripe.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { countMacs } from "./_mac_count.ts";

const NOW = 1_700_000_000_000;
/** The most signatures a header may list (the bound). */
const MAX_SIGNATURES = 8;
const encoder = new TextEncoder();

/** One sender that lists signatures, and how it writes a list. */
interface ListCase {
  provider: Provider;
  /** The current secret, then the previous one. */
  secrets: [string, string];
  body: string;
  header: string;
  /** The header's value with these signature entries instead of the one signed. */
  list(signed: string, signatures: string[]): string;
  /** The signature entries of a header's value. */
  entries(value: string): string[];
  /** A well-formed signature that is wrong. */
  wrong(): string;
}

function pairList(separator: string, key: string): ListCase["list"] {
  return (signed, signatures) => {
    const others = signed.split(separator).filter((entry) => !entry.startsWith(`${key}=`));
    return [...others, ...signatures].join(separator);
  };
}

function pairEntries(separator: string, key: string): ListCase["entries"] {
  return (value) => value.split(separator).filter((entry) => entry.startsWith(`${key}=`));
}

function pairEntry(key: string): string {
  return `${key}=${crypto.getRandomValues(new Uint8Array(32)).toHex()}`;
}

function standardList(_signed: string, signatures: string[]): string {
  return signatures.join(" ");
}

function standardEntries(value: string): string[] {
  return value.split(" ");
}

function standardEntry(): string {
  return `v1,${crypto.getRandomValues(new Uint8Array(32)).toBase64()}`;
}

const whsec = (fill: number) => `whsec_${new Uint8Array(32).fill(fill).toBase64()}`;

const CASES: ListCase[] = [
  {
    provider: stripe,
    secrets: ["whsec_current", "whsec_previous"],
    body: '{"id":"evt_1","type":"invoice.paid"}',
    header: "Stripe-Signature",
    list: pairList(",", "v1"),
    entries: pairEntries(",", "v1"),
    wrong: () => pairEntry("v1"),
  },
  {
    provider: paddle,
    secrets: ["pdl_ntfset_current", "pdl_ntfset_previous"],
    body: '{"event_id":"evt_1","event_type":"transaction.completed"}',
    header: "Paddle-Signature",
    list: pairList(";", "h1"),
    entries: pairEntries(";", "h1"),
    wrong: () => pairEntry("h1"),
  },
  {
    provider: pagerduty,
    secrets: ["pd-current", "pd-previous"],
    body: '{"event":{"id":"p1","event_type":"incident.triggered"}}',
    header: "X-PagerDuty-Signature",
    list: pairList(",", "v1"),
    entries: pairEntries(",", "v1"),
    wrong: () => pairEntry("v1"),
  },
  {
    provider: calendly,
    secrets: ["calendly-current", "calendly-previous"],
    body: '{"event":"invitee.created","payload":{}}',
    header: "Calendly-Webhook-Signature",
    list: pairList(",", "v1"),
    entries: pairEntries(",", "v1"),
    wrong: () => pairEntry("v1"),
  },
  {
    provider: standard,
    secrets: [whsec(1), whsec(2)],
    body: '{"type":"user.created"}',
    header: "webhook-signature",
    list: standardList,
    entries: standardEntries,
    wrong: standardEntry,
  },
  {
    provider: gitlab,
    secrets: [whsec(3), whsec(4)],
    body: '{"object_kind":"push"}',
    header: "webhook-signature",
    list: standardList,
    entries: standardEntries,
    wrong: standardEntry,
  },
];

Deno.test("verify() computes one MAC per key however many signatures are listed", async (t) => {
  for (const c of CASES) {
    await t.step(c.provider.name, async (t) => {
      const endpoint = endpointFor(c.provider, c.secrets);
      const check = await c.provider.create(endpoint);
      const body = encoder.encode(c.body);
      const signed = await c.provider.sign!(endpoint, body, { now: NOW });
      const value = signed[c.header];
      const [good] = c.entries(value);
      assert.ok(good, `${c.header} carries a signature`);
      const verifyWith = (signatures: string[]) => {
        const headers = { ...signed, [c.header]: c.list(value, signatures) };
        return check(delivery(headers, body, NOW));
      };
      const wrongs = (count: number) => Array.from({ length: count }, c.wrong);

      await t.step("8 signatures, the right one last: one MAC", async () => {
        using macs = countMacs();
        const verdict = assertAccepted(await verifyWith([...wrongs(7), good]));
        assert.equal(verdict.verifiedBy, "secret");
        assert.equal(macs.count, 1);
      });

      await t.step("8 wrong signatures: one MAC per key, then invalid signature", async () => {
        using macs = countMacs();
        assertRejected(await verifyWith(wrongs(MAX_SIGNATURES)), 401, /^invalid signature$/);
        assert.equal(macs.count, 2);
      });

      for (const count of [MAX_SIGNATURES + 1, 900]) {
        await t.step(`${count} signatures: too many signatures, before any MAC`, async () => {
          using macs = countMacs();
          // The right one is listed too: the count alone refuses the header.
          const verdict = await verifyWith([...wrongs(count - 1), good]);
          assertRejected(verdict, 401, /^too many signatures$/, "rejected.signature");
          assert.equal(macs.count, 0);
        });
      }
    });
  }
});
