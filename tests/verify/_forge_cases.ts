/**
 * The cases Gitea, Forgejo and Gogs share, as test steps: one scheme under
 * three header prefixes, where a form delivery is signed over the decoded
 * `payload` JSON rather than the form bytes sent.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Provider } from "../../lib/verify/types.ts";
import type { ForgeHeaders } from "../../lib/verify/_forge.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { bodySignedCases, hexToBase64, NOW, oracle, verifyOnce } from "./_body_signed.ts";

const decoder = new TextDecoder();

// A form body as Go's url.Values.Encode writes it (QueryEscape: space is
// "+", and "~" and "*" are escaped), which is what the forges send.
function goForm(json: string): string {
  const escaped = encodeURIComponent(json).replace(/%20/g, "+")
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `payload=${escaped}`;
}

/**
 * Run the shared forge cases as steps.
 *
 * @param t the test context
 * @param provider the provider under test
 * @param names the forge's header names
 */
export async function forgeCases(
  t: Deno.TestContext,
  provider: Provider,
  names: ForgeHeaders,
): Promise<void> {
  const json = '{"action":"opened","number":3,"pull_request":{"title":"a+b & c=d ü ~*"}}';
  const headers = (signed: string | Uint8Array, secret: string, type = "application/json") => ({
    "Content-Type": type,
    [names.event]: "pull_request",
    [names.delivery]: "f6266f16-1bf3-46a5-9ea4-602e06ead473",
    [names.signature]: oracle("sha256", secret, signed, "hex"),
  });

  await bodySignedCases(t, {
    provider,
    body: json,
    headers: (body, secret) => headers(body, secret),
    signatureHeader: names.signature,
    wrongEncoding: hexToBase64,
    event: "pull_request.opened",
  });

  await t.step("reads the event header, the action and the delivery id", async () => {
    const verdict = assertAccepted(
      await verifyOnce(provider, ["s3cret"], delivery(headers(json, "s3cret"), json, NOW)),
    );
    assert.equal(verdict.event, "pull_request.opened");
    assert.equal(verdict.deliveryId, "f6266f16-1bf3-46a5-9ea4-602e06ead473");
  });

  await t.step("accepts a form delivery signed over the decoded payload JSON", async () => {
    const form = goForm(json);
    const input = delivery(
      headers(json, "s3cret", "application/x-www-form-urlencoded"),
      form,
      NOW,
    );
    const verdict = assertAccepted(await verifyOnce(provider, ["s3cret"], input));
    assert.equal(decoder.decode(verdict.payload), json);
    assert.equal(verdict.contentType, "application/json");
    assert.equal(verdict.event, "pull_request.opened");
  });

  await t.step("refuses a form delivery signed over the raw form bytes", async () => {
    const form = goForm(json);
    const input = delivery(
      headers(form, "s3cret", "application/x-www-form-urlencoded"),
      form,
      NOW,
    );
    assertRejected(await verifyOnce(provider, ["s3cret"], input), 401, /invalid signature/);
  });

  await t.step("refuses a form without a payload field", async () => {
    const input = delivery(
      headers("", "s3cret", "application/x-www-form-urlencoded"),
      "other=1",
      NOW,
    );
    assertRejected(await verifyOnce(provider, ["s3cret"], input), 400, /no payload field/);
  });

  await t.step("refuses a signed delivery without the event header", async () => {
    const bare = headers(json, "s3cret");
    delete bare[names.event];
    assertRejected(
      await verifyOnce(provider, ["s3cret"], delivery(bare, json, NOW)),
      400,
      /missing/,
    );
  });

  await t.step("sign() signs a form over its payload, as the forge does", async () => {
    const form = new TextEncoder().encode(goForm(json));
    const signed = await provider.sign!(
      {
        name: "t",
        prefix: "HOOKD_T_",
        provider: provider.name,
        secrets: ["s3cret"],
        settings: {},
      },
      form,
      { now: NOW, event: "pull_request" },
    );
    assert.equal(signed[names.signature], oracle("sha256", "s3cret", json, "hex"));
    assert.equal(signed["Content-Type"], "application/x-www-form-urlencoded");
  });
}
