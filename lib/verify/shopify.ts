/**
 * Shopify: base64 HMAC-SHA256 of the raw body, keyed with the app's client
 * secret, in `X-Shopify-Hmac-Sha256`. The event is `X-Shopify-Topic`
 * (`orders/create`); the delivery id is `X-Shopify-Webhook-Id`, the header
 * Shopify names for ignoring duplicate deliveries.
 *
 * Replays: only the body is signed (the topic and webhook id are headers,
 * there is no timestamp), so the replay key is the body.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { acceptedBody, malformed, singleHeader } from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";
import { signEncoded } from "./_hub.ts";

/**
 * Verify a Shopify delivery.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict; event is `X-Shopify-Topic`
 */
export async function verifyShopify(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  const checked = await verifyBodyHmac(input, keys, {
    header: "X-Shopify-Hmac-Sha256",
    hash: "sha256",
    encoding: "base64",
  });
  if ("ok" in checked) return checked;
  const event = singleHeader(input.headers, "x-shopify-topic");
  if (!event) return malformed("missing X-Shopify-Topic");
  return acceptedBody(input, {
    event,
    deliveryId: singleHeader(input.headers, "x-shopify-webhook-id") ?? undefined,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
}

/** The `shopify` provider. */
export const shopify: Provider = {
  name: "shopify",
  summary: "Shopify: X-Shopify-Hmac-Sha256 (HMAC-SHA256, base64), event X-Shopify-Topic",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyShopify(input, keys);
  },
  async sign(endpoint, body, options) {
    return {
      "Content-Type": "application/json",
      "X-Shopify-Topic": options.event ?? "orders/create",
      "X-Shopify-Webhook-Id": options.deliveryId ?? crypto.randomUUID(),
      "X-Shopify-Hmac-Sha256": await signEncoded(endpoint.secrets[0], "sha256", body, "base64"),
    };
  },
};
