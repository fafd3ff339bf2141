import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { parseRfc3339, twitch } from "../../lib/verify/twitch.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";
import { verifyOnce } from "./_body_signed.ts";

// The oracle is Twitch's own sample from "Verifying the event message"
// (dev.twitch.tv/docs/eventsub/handling-webhook-events): the message is
// id + timestamp + body, the HMAC is crypto.createHmac('sha256', secret)
// .update(message).digest('hex'), the header "sha256=" + that; twitch-cli
// signs the same way (internal/events/trigger/forward_event.go). Headers
// and bodies are the docs' channel.follow examples.
const ID = "befa7b53-d79d-478f-86b9-120f112b044e";
const TIMESTAMP = "2019-11-16T10:11:12.634234626Z";
const NOW = Date.parse("2019-11-16T10:11:12.634Z");
const SECRET = "s3cRe7-twitch-eventsub";
const SUBSCRIPTION = {
  id: "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
  status: "enabled",
  type: "channel.follow",
  version: "1",
  cost: 1,
  condition: { broadcaster_user_id: "12826" },
  transport: { method: "webhook", callback: "https://example.com/webhooks/callback" },
  created_at: "2019-11-16T10:11:12.634234626Z",
};
const NOTIFICATION = JSON.stringify({
  subscription: SUBSCRIPTION,
  event: {
    user_id: "1337",
    user_login: "awesome_user",
    user_name: "Awesome_User",
    broadcaster_user_id: "12826",
    broadcaster_user_login: "twitch",
    broadcaster_user_name: "Twitch",
    followed_at: "2020-07-15T18:16:11.17106713Z",
  },
});
const VERIFICATION = JSON.stringify({
  challenge: "pogchamp-kappa-360noscope-vohiyo",
  subscription: { ...SUBSCRIPTION, status: "webhook_callback_verification_pending" },
});
const REVOCATION = JSON.stringify({
  subscription: { ...SUBSCRIPTION, status: "authorization_revoked" },
});

function docsHmac(secret: string, message: string | Uint8Array): string {
  return createHmac("sha256", secret).update(message).digest("hex");
}

function headers(
  body: string,
  type = "notification",
  options: { secret?: string; id?: string; timestamp?: string } = {},
): Record<string, string> {
  const id = options.id ?? ID;
  const timestamp = options.timestamp ?? TIMESTAMP;
  return {
    "Content-Type": "application/json",
    "Twitch-Eventsub-Message-Id": id,
    "Twitch-Eventsub-Message-Retry": "0",
    "Twitch-Eventsub-Message-Type": type,
    "Twitch-Eventsub-Message-Signature": `sha256=${
      docsHmac(options.secret ?? SECRET, id + timestamp + body)
    }`,
    "Twitch-Eventsub-Message-Timestamp": timestamp,
    "Twitch-Eventsub-Subscription-Type": "channel.follow",
    "Twitch-Eventsub-Subscription-Version": "1",
  };
}

const run = (h: HeadersInit, body: string | Uint8Array, now = NOW, secrets = [SECRET, "old"]) =>
  verifyOnce(twitch, secrets, delivery(h, body, now));

Deno.test("twitch verify() accepts the docs' notification, the message id as delivery id", async () => {
  const verdict = assertAccepted(await run(headers(NOTIFICATION), NOTIFICATION));
  assert.equal(verdict.event, "channel.follow");
  assert.equal(verdict.deliveryId, ID);
  assert.equal(verdict.verifiedBy, "secret");
  assert.equal(verdict.reply, undefined);
  const previous = assertAccepted(
    await run(headers(NOTIFICATION, "notification", { secret: "old" }), NOTIFICATION),
  );
  assert.equal(previous.verifiedBy, "previous secret");
});

Deno.test("twitch verify() answers webhook_callback_verification with the challenge", async () => {
  const verdict = assertAccepted(
    await run(headers(VERIFICATION, "webhook_callback_verification"), VERIFICATION),
  );
  assert.deepEqual(verdict.reply, { status: 200, body: "pogchamp-kappa-360noscope-vohiyo" });
  assert.equal(verdict.event, "webhook_callback_verification");
  const noChallenge = JSON.stringify({ subscription: SUBSCRIPTION });
  assertRejected(
    await run(headers(noChallenge, "webhook_callback_verification"), noChallenge),
    400,
    /no challenge/,
  );
  // The challenge is answered only once the signature holds.
  assertRejected(
    await run(
      headers(VERIFICATION, "webhook_callback_verification", { secret: "guess" }),
      VERIFICATION,
    ),
    401,
    /invalid signature/,
  );
});

Deno.test("twitch verify() stores a revocation as revocation.<type>", async () => {
  const verdict = assertAccepted(await run(headers(REVOCATION, "revocation"), REVOCATION));
  assert.equal(verdict.event, "revocation.channel.follow");
  assert.equal(verdict.deliveryId, ID);
  assert.equal(verdict.reply, undefined);
});

Deno.test("twitch verify() refuses what Twitch would not send", async (t) => {
  await t.step("a one-byte change to the body, the id or the timestamp", async () => {
    const h = headers(NOTIFICATION);
    assertRejected(await run(h, flipByte(NOTIFICATION, 40)), 401, /invalid signature/);
    assertRejected(
      await run({ ...h, "Twitch-Eventsub-Message-Id": ID.replace("b", "c") }, NOTIFICATION),
      401,
      /invalid signature/,
    );
    assertRejected(
      await run(
        { ...h, "Twitch-Eventsub-Message-Timestamp": TIMESTAMP.replace("634", "635") },
        NOTIFICATION,
      ),
      401,
      /invalid signature/,
    );
  });

  await t.step("a wrong secret", async () => {
    assertRejected(
      await run(headers(NOTIFICATION, "notification", { secret: "nope" }), NOTIFICATION),
      401,
      /invalid signature/,
    );
  });

  await t.step("outside the 10-minute window, either way; inside it is fine", async () => {
    const h = headers(NOTIFICATION);
    assertAccepted(await run(h, NOTIFICATION, NOW + 9 * 60_000));
    assertRejected(await run(h, NOTIFICATION, NOW + 11 * 60_000), 401, /stale/, "rejected.stale");
    assertRejected(await run(h, NOTIFICATION, NOW - 11 * 60_000), 401, /stale/, "rejected.stale");
  });

  await t.step("a missing or malformed header", async () => {
    for (
      const name of [
        "Twitch-Eventsub-Message-Signature",
        "Twitch-Eventsub-Message-Id",
        "Twitch-Eventsub-Message-Timestamp",
      ]
    ) {
      const h = headers(NOTIFICATION);
      delete h[name];
      assertRejected(await run(h, NOTIFICATION), 401, new RegExp(`missing ${name}`));
    }
    const h = headers(NOTIFICATION);
    assertRejected(
      await run({
        ...h,
        "Twitch-Eventsub-Message-Signature": h["Twitch-Eventsub-Message-Signature"].slice(7),
      }, NOTIFICATION),
      401,
      /malformed Twitch-Eventsub-Message-Signature/,
    );
    const seconds = "1573899072";
    assertRejected(
      await run(headers(NOTIFICATION, "notification", { timestamp: seconds }), NOTIFICATION),
      401,
      /malformed Twitch-Eventsub-Message-Timestamp/,
    );
  });

  await t.step("a signed message of an unknown or missing type: 400", async () => {
    assertRejected(await run(headers(NOTIFICATION, "other"), NOTIFICATION), 400, /unknown/);
    const h = headers(NOTIFICATION);
    delete h["Twitch-Eventsub-Message-Type"];
    assertRejected(await run(h, NOTIFICATION), 400, /missing Twitch-Eventsub-Message-Type/);
  });
});

Deno.test("twitch parseRfc3339() reads Twitch's nanosecond timestamps strictly", () => {
  assert.equal(parseRfc3339(TIMESTAMP), NOW / 1000);
  assert.equal(parseRfc3339("2019-11-16T10:11:12Z"), Date.parse("2019-11-16T10:11:12Z") / 1000);
  assert.equal(
    parseRfc3339("2019-11-16T12:11:12.5+02:00"),
    Date.parse("2019-11-16T10:11:12.500Z") / 1000,
  );
  for (
    const bad of [
      "",
      "2019-11-16 10:11:12Z",
      "2019-11-16T10:11:12",
      "1573899072",
      "2019-13-45T10:11:12Z",
    ]
  ) {
    assert.ok(Number.isNaN(parseRfc3339(bad)), bad);
  }
});

Deno.test("twitch sign() writes what verify() reads, as the docs' sample computes it", async () => {
  const body = new TextEncoder().encode(NOTIFICATION);
  const signed = await twitch.sign!(endpointFor(twitch, [SECRET]), body, {
    now: NOW,
    deliveryId: ID,
    event: "channel.follow",
  });
  const timestamp = signed["Twitch-Eventsub-Message-Timestamp"];
  assert.equal(timestamp, "2019-11-16T10:11:12.634Z");
  assert.equal(
    signed["Twitch-Eventsub-Message-Signature"],
    `sha256=${docsHmac(SECRET, ID + timestamp + NOTIFICATION)}`,
  );
  assertAccepted(await run(signed, body));
});

Deno.test("twitch's TOLERANCE defaults to 10 minutes", () => {
  assert.equal(twitch.settings.TOLERANCE.default, "10m");
});

Deno.test("twitch verify() refuses a signed message resent under another message type", async (t) => {
  // Twitch-Eventsub-Message-Type is not signed; subscription.status in the signed body is.
  await t.step("a captured verification resent as a notification", async () => {
    assertRejected(
      await run(headers(VERIFICATION, "notification"), VERIFICATION),
      400,
      /subscription\.status "webhook_callback_verification_pending" does not match/,
    );
  });
  await t.step("a captured revocation resent as a notification", async () => {
    assertRejected(
      await run(headers(REVOCATION, "notification"), REVOCATION),
      400,
      /subscription\.status "authorization_revoked" does not match/,
    );
  });
  await t.step("a captured notification resent as a revocation", async () => {
    assertRejected(
      await run(headers(NOTIFICATION, "revocation"), NOTIFICATION),
      400,
      /subscription\.status "enabled" does not match/,
    );
  });
  await t.step("a verification body without its status, resent as a notification", async () => {
    const bare = JSON.stringify({ challenge: "abc", subscription: { type: "channel.follow" } });
    assertRejected(await run(headers(bare, "notification"), bare), 400, /challenge/);
  });
  await t.step("the real thing of each type still passes", async () => {
    assertAccepted(await run(headers(NOTIFICATION), NOTIFICATION));
    assertAccepted(await run(headers(REVOCATION, "revocation"), REVOCATION));
    assertAccepted(
      await run(headers(VERIFICATION, "webhook_callback_verification"), VERIFICATION),
    );
  });
});
