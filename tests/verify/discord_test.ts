/**
 * Tests for the `discord` provider: the sender's own vectors, then every way a
 * Discord delivery can be forged, replayed or garbled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign as edSign } from "node:crypto";
import { discord } from "../../lib/verify/discord.ts";
import type { Verdict } from "../../lib/verify/types.ts";
import { assertAccepted, assertRejected, delivery, endpointFor, flipByte } from "./_timestamped.ts";

// Discord publishes no signed example request, and its SDK tests
// (discord-interactions-js src/__tests__/utils/SharedTestUtils.ts,
// https://github.com/discord/discord-interactions-js) sign with a key pair
// generated at run time. The fixed key here is RFC 8032's test 1 key
// (https://www.rfc-editor.org/rfc/rfc8032#section-7.1), signed with
// node:crypto as an independent oracle; the request bodies are the SDK's.
const RFC_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC_EMPTY_SIGNATURE =
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
const PRIVATE = createPrivateKey({
  key: Buffer.concat([
    Buffer.from("302e020100300506032b657004220420", "hex"),
    Buffer.from(RFC_SEED, "hex"),
  ]),
  format: "der",
  type: "pkcs8",
});

const PING = JSON.stringify({
  id: "787053080478613555",
  token: "ThisIsATokenFromDiscordThatIsVeryLong",
  type: 1,
  version: 1,
});
const COMMAND = JSON.stringify({
  id: "787053080478613556",
  token: "ThisIsATokenFromDiscordThatIsVeryLong",
  type: 2,
  version: 1,
  data: { id: "787053080478613554", name: "test" },
});
const TS = 1_700_000_000;
const NOW = TS * 1000;

function oracle(ts: number | string, body: string | Uint8Array): string {
  return edSign(null, Buffer.concat([Buffer.from(String(ts)), Buffer.from(body)]), PRIVATE)
    .toString("hex");
}

function headers(signature: string | string[], ts: number | string = TS): Headers {
  const h = new Headers({
    "X-Signature-Timestamp": String(ts),
    "Content-Type": "application/json",
  });
  for (const value of [signature].flat()) h.append("X-Signature-Ed25519", value);
  return h;
}

async function verify(
  h: Headers,
  body: string | Uint8Array,
  now = NOW,
  keys: Record<string, string> = { PUBLIC_KEY: RFC_PUBLIC },
) {
  const check = await discord.create(endpointFor(discord, [], keys));
  return check(delivery(h, body, now));
}

function assertUnauthorized(verdict: Verdict, reason: RegExp): void {
  // Discord drops endpoints that answer a bad request with anything but 401.
  assertRejected(verdict, 401, reason);
}

Deno.test("discord's fixed key is RFC 8032's (the oracle is sound)", () => {
  const raw = createPublicKey(PRIVATE).export({ format: "der", type: "spki" }).subarray(-32);
  assert.equal(raw.toString("hex"), RFC_PUBLIC);
  assert.equal(edSign(null, Buffer.alloc(0), PRIVATE).toString("hex"), RFC_EMPTY_SIGNATURE);
});

Deno.test("discord verify() checks Ed25519 and answers PINGs", async (t) => {
  await t.step("answers an interaction PING with {type: 1}", async () => {
    const verdict = assertAccepted(await verify(headers(oracle(TS, PING)), PING));
    assert.equal(verdict.event, "PING");
    assert.deepEqual(verdict.reply, { status: 200, body: { type: 1 } });
    assert.equal(verdict.verifiedBy, "secret");
  });

  await t.step("names interactions by type; delivery id is the interaction id", async () => {
    const verdict = assertAccepted(await verify(headers(oracle(TS, COMMAND)), COMMAND));
    assert.equal(verdict.event, "application_command");
    assert.equal(verdict.deliveryId, "787053080478613556");
    assert.equal(verdict.reply, undefined);
    for (
      const [type, event] of [[3, "message_component"], [4, "application_command_autocomplete"], [
        5,
        "modal_submit",
      ]]
    ) {
      const body = JSON.stringify({ id: "1", type, version: 1 });
      assert.equal(assertAccepted(await verify(headers(oracle(TS, body)), body)).event, event);
    }
  });

  await t.step("answers a webhook-event PING with an empty 204 and names events", async () => {
    const ping = JSON.stringify({ version: 1, application_id: "1234560123453231555", type: 0 });
    const verdict = assertAccepted(await verify(headers(oracle(TS, ping)), ping));
    assert.deepEqual(verdict.reply, { status: 204, body: null });
    const event = JSON.stringify({
      version: 1,
      application_id: "1234560123453231555",
      type: 1,
      event: { type: "APPLICATION_AUTHORIZED", timestamp: "2024-10-18T14:42:53.064834", data: {} },
    });
    const authorized = assertAccepted(await verify(headers(oracle(TS, event)), event));
    assert.equal(authorized.event, "APPLICATION_AUTHORIZED");
    assert.equal(authorized.reply, undefined);
  });

  await t.step("verifies with a key pair made by crypto.subtle, and the previous key", async () => {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const publicHex = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)).toHex();
    const data = new TextEncoder().encode(`${TS}${COMMAND}`);
    const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", pair.privateKey, data))
      .toHex();
    const current = await verify(headers(signature), COMMAND, NOW, { PUBLIC_KEY: publicHex });
    assert.equal(assertAccepted(current).verifiedBy, "secret");
    const rotated = await verify(headers(signature), COMMAND, NOW, {
      PUBLIC_KEY: RFC_PUBLIC,
      PUBLIC_KEY_PREVIOUS: publicHex,
    });
    assert.equal(assertAccepted(rotated).verifiedBy, "previous secret");
  });

  await t.step("answers 401 to every bad request, as Discord's probes require", async () => {
    const good = oracle(TS, PING);
    assertUnauthorized(await verify(headers(good), flipByte(PING, 5)), /invalid signature/);
    assertUnauthorized(await verify(headers(good, TS + 1), PING), /invalid signature/);
    assertUnauthorized(
      await verify(headers(good), PING, NOW, { PUBLIC_KEY: "ab".repeat(32) }),
      /invalid signature/,
    );
    assertUnauthorized(
      await verify(headers(good.slice(0, 126)), PING),
      /malformed X-Signature-Ed25519/,
    );
    assertUnauthorized(
      await verify(headers(Uint8Array.fromHex(good).toBase64()), PING),
      /malformed/,
    );
    assertUnauthorized(await verify(headers("00".repeat(64)), PING), /invalid signature/);
    assertUnauthorized(await verify(headers([good, good]), PING), /more than once/);
    assertUnauthorized(await verify(headers(good, "abc"), PING), /malformed X-Signature-Timestamp/);
    assertUnauthorized(
      await verify(new Headers({ "X-Signature-Timestamp": String(TS) }), PING),
      /missing/,
    );
    assertUnauthorized(await verify(new Headers({ "X-Signature-Ed25519": good }), PING), /missing/);
    for (const ts of [TS - 301, TS + 301]) {
      assertRejected(
        await verify(headers(oracle(ts, PING), ts), PING),
        401,
        /^stale$/,
        "rejected.stale",
      );
    }
    // Even a correctly signed body that is not an interaction.
    assertUnauthorized(await verify(headers(oracle(TS, "{")), "{"), /JSON/);
    const unknown = JSON.stringify({ type: 99 });
    assertUnauthorized(
      await verify(headers(oracle(TS, unknown)), unknown),
      /unknown interaction type/,
    );
  });
});

Deno.test("discord create() refuses a public key that is not 32 bytes of hex", async () => {
  await assert.rejects(
    () => discord.create(endpointFor(discord, [], { PUBLIC_KEY: "abc" })),
    /HOOKD_DISCORD_PUBLIC_KEY is not an Ed25519 public key/,
  );
  assert.match(discord.settings.PUBLIC_KEY.validate!("xyz")!, /64 hex characters/);
  assert.equal(discord.settings.PUBLIC_KEY.validate!(RFC_PUBLIC), undefined);
  assert.equal(discord.secret, "none");
  assert.equal(discord.sign, undefined);
});
