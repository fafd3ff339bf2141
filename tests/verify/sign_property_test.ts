import assert from "node:assert/strict";
import fc from "fast-check";
import type { Provider } from "../../lib/verify/types.ts";
import { bitbucket } from "../../lib/verify/bitbucket.ts";
import { calendly } from "../../lib/verify/calendly.ts";
import { forgejo } from "../../lib/verify/forgejo.ts";
import { gitea } from "../../lib/verify/gitea.ts";
import { github } from "../../lib/verify/github.ts";
import { gitlab } from "../../lib/verify/gitlab.ts";
import { gogs } from "../../lib/verify/gogs.ts";
import { hmac } from "../../lib/verify/hmac.ts";
import { ipfabric } from "../../lib/verify/ipfabric.ts";
import { jira } from "../../lib/verify/jira.ts";
import { linear } from "../../lib/verify/linear.ts";
import { netbox } from "../../lib/verify/netbox.ts";
import { none } from "../../lib/verify/none.ts";
import { sentry } from "../../lib/verify/sentry.ts";
import { shopify } from "../../lib/verify/shopify.ts";
import { token } from "../../lib/verify/token.ts";
import { typeform } from "../../lib/verify/typeform.ts";
import { circleci } from "../../lib/verify/circleci.ts";
import { docusign } from "../../lib/verify/docusign.ts";
import { dropbox } from "../../lib/verify/dropbox.ts";
import { hubspot } from "../../lib/verify/hubspot.ts";
import { intercom } from "../../lib/verify/intercom.ts";
import { lemonsqueezy } from "../../lib/verify/lemonsqueezy.ts";
import { meta } from "../../lib/verify/meta.ts";
import { square } from "../../lib/verify/square.ts";
import { twitch } from "../../lib/verify/twitch.ts";
import { vercel } from "../../lib/verify/vercel.ts";
import { contentful } from "../../lib/verify/contentful.ts";
import { woocommerce } from "../../lib/verify/woocommerce.ts";
import { delivery, endpointFor } from "./_timestamped.ts";
import { NOW } from "./_body_signed.ts";

const encoder = new TextEncoder();
const RUNS = { numRuns: 50 };

/** How to make a body one provider accepts, around random text. */
interface SignCase {
  provider: Provider;
  label?: string;
  settings?: Record<string, string>;
  secret: fc.Arbitrary<string>;
  event?: string;
  body(text: string, now: number): string;
}

const anySecret = fc.string({ unit: "binary", minLength: 1, maxLength: 64 });
// Text that survives as a header value unchanged: tokens travel as is.
const headerSecret = fc.stringMatching(/^[!-~]{1,64}$/);
const signingToken = fc.uint8Array({ minLength: 16, maxLength: 64 })
  .map((bytes) => `whsec_${bytes.toBase64()}`);

const json = (fields: Record<string, unknown>) => (text: string) =>
  JSON.stringify({ ...fields, text });

// Every provider that signs the body; a single-byte change must break it.
const BODY_SIGNED: SignCase[] = [
  { provider: github, secret: anySecret, event: "issues", body: json({ action: "opened" }) },
  { provider: gitea, secret: anySecret, event: "issues", body: json({ action: "opened" }) },
  { provider: forgejo, secret: anySecret, event: "issues", body: json({ action: "opened" }) },
  { provider: gogs, secret: anySecret, event: "issues", body: json({ action: "opened" }) },
  {
    provider: gitlab,
    label: " (signing token)",
    secret: signingToken,
    body: json({ object_kind: "push" }),
  },
  { provider: bitbucket, secret: anySecret, body: json({ push: {} }) },
  { provider: shopify, secret: anySecret, body: json({ id: 1 }) },
  { provider: jira, secret: anySecret, body: json({ webhookEvent: "jira:issue_created" }) },
  { provider: sentry, secret: anySecret, body: json({ action: "created" }) },
  {
    provider: linear,
    secret: anySecret,
    body: (text, now) =>
      JSON.stringify({ type: "Issue", action: "create", text, webhookTimestamp: now }),
  },
  { provider: typeform, secret: anySecret, body: json({ event_type: "form_response" }) },
  { provider: calendly, secret: anySecret, body: json({ event: "invitee.created" }) },
  {
    provider: netbox,
    secret: anySecret,
    body: json({ event: "created", object_type: "dcim.site" }),
  },
  { provider: ipfabric, secret: anySecret, body: json({ type: "snapshot", action: "load" }) },
  {
    provider: hmac,
    secret: anySecret,
    settings: { SIGNATURE_HEADER: "X-Sig", ALGORITHM: "sha512", ENCODING: "base64", PREFIX: "v1=" },
    body: json({}),
  },
  {
    provider: hmac,
    label: " (md5)",
    secret: anySecret,
    settings: { SIGNATURE_HEADER: "webhook-signature", ALGORITHM: "md5" },
    body: json({}),
  },
  {
    provider: meta,
    secret: anySecret,
    settings: { VERIFY_TOKEN: "t" },
    body: json({ object: "page" }),
  },
  { provider: dropbox, secret: anySecret, body: json({ list_folder: {} }) },
  {
    provider: twitch,
    secret: anySecret,
    body: json({ subscription: { type: "channel.follow" }, event: {} }),
  },
  { provider: vercel, secret: anySecret, body: json({ type: "deployment.created" }) },
  {
    provider: lemonsqueezy,
    secret: anySecret,
    body: json({ meta: { event_name: "order_created" } }),
  },
  { provider: intercom, secret: anySecret, body: json({ topic: "conversation.user.created" }) },
  { provider: circleci, secret: anySecret, body: json({ type: "job-completed" }) },
  { provider: docusign, secret: anySecret, body: json({ event: "envelope-sent" }) },
  {
    provider: square,
    secret: anySecret,
    settings: { PUBLIC_URL: "https://hooks.example.com/hooks/square" },
    body: json({ type: "payment.updated" }),
  },
  {
    provider: hubspot,
    secret: anySecret,
    settings: { PUBLIC_URL: "https://hooks.example.com/hooks/hubspot" },
    body: (text) => JSON.stringify([{ subscriptionType: "contact.creation", text }]),
  },
  {
    provider: contentful,
    secret: anySecret,
    // sign() is given no URL here: the path both sides sign is the public one.
    settings: { PUBLIC_PATH: "/hooks/test" },
    event: "ContentManagement.Entry.publish",
    body: json({ sys: { type: "Entry" } }),
  },
  { provider: woocommerce, secret: anySecret, event: "order.created", body: json({ id: 1 }) },
];

async function signAndVerify(c: SignCase, secret: string, body: Uint8Array) {
  const endpoint = endpointFor(c.provider, [secret], c.settings);
  const headers = await c.provider.sign!(endpoint, body, { now: NOW, event: c.event });
  const verify = await c.provider.create(endpoint);
  return { headers, verify };
}

Deno.test("sign() output always verifies and a one-byte change to the body never does", async (t) => {
  for (const c of BODY_SIGNED) {
    await t.step(`${c.provider.name}${c.label ?? ""}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          c.secret,
          fc.string({ unit: "binary", maxLength: 300 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          async (secret, text, at, flip) => {
            const body = encoder.encode(c.body(text, NOW));
            const { headers, verify } = await signAndVerify(c, secret, body);
            const verdict = await verify(delivery(headers, body, NOW));
            assert.equal(verdict.ok, true, JSON.stringify(verdict));
            const changed = body.slice();
            changed[at % changed.length] ^= flip;
            assert.equal((await verify(delivery(headers, changed, NOW))).ok, false);
          },
        ),
        RUNS,
      );
    });
  }
});

Deno.test("sign() output for a form always verifies, over the decoded payload", async (t) => {
  // Gitea, Forgejo and Gogs sign the decoded JSON, so two encodings of the
  // same JSON ("+" and " ", "%2B" and "%2b") are the same delivery: only the
  // round trip is a property here, not every byte of the form.
  for (const provider of [github, gitea, forgejo, gogs]) {
    await t.step(provider.name, async () => {
      await fc.assert(
        fc.asyncProperty(
          anySecret,
          fc.string({ unit: "binary", maxLength: 300 }),
          async (secret, text) => {
            const form = new URLSearchParams({
              payload: JSON.stringify({ action: "opened", text }),
            });
            const body = encoder.encode(form.toString());
            const { headers, verify } = await signAndVerify(
              {
                provider,
                secret: anySecret,
                event: "issues",
                body: () => "",
              },
              secret,
              body,
            );
            const verdict = await verify(delivery(headers, body, NOW));
            assert.equal(verdict.ok, true, JSON.stringify(verdict));
          },
        ),
        RUNS,
      );
    });
  }
});

// Providers that authenticate by a token sent as is: the body is not
// signed, so the byte that must not be changeable is the token's.
const TOKEN_SENT: { case: SignCase; header: string }[] = [
  {
    case: {
      provider: token,
      settings: { TOKEN_HEADER: "X-Token" },
      secret: headerSecret,
      body: json({}),
    },
    header: "X-Token",
  },
  {
    case: {
      provider: gitlab,
      label: " (secret token)",
      secret: headerSecret,
      body: json({ object_kind: "push" }),
    },
    header: "X-Gitlab-Token",
  },
];

Deno.test("sign() output always verifies and a one-byte change to the token never does", async (t) => {
  for (const { case: c, header } of TOKEN_SENT) {
    await t.step(`${c.provider.name}${c.label ?? ""}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          c.secret,
          fc.nat(),
          fc.stringMatching(/^[!-~]$/),
          async (secret, at, char) => {
            const body = encoder.encode(c.body("", NOW));
            const { headers, verify } = await signAndVerify(c, secret, body);
            assert.equal((await verify(delivery(headers, body, NOW))).ok, true);
            const value = headers[header];
            const index = at % value.length;
            fc.pre(value[index] !== char);
            const changed = {
              ...headers,
              [header]: value.slice(0, index) + char + value.slice(index + 1),
            };
            assert.equal((await verify(delivery(changed, body, NOW))).ok, false);
          },
        ),
        RUNS,
      );
    });
  }
});

Deno.test("none sign() output always verifies, as unauthenticated", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (body) => {
      const endpoint = endpointFor(none, [], { EVENT_HEADER: "X-Event" });
      const headers = await none.sign!(endpoint, body, { now: NOW, event: "alert" });
      const verdict = await (await none.create(endpoint))(delivery(headers, body, NOW));
      assert.equal(verdict.ok && verdict.verifiedBy, "none");
    }),
    RUNS,
  );
});
