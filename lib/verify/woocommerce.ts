/**
 * WooCommerce: `X-WC-Webhook-Signature`, the base64 HMAC-SHA256 of the raw
 * body under the webhook's secret (WooCommerce HTML-decodes the secret it
 * stores before signing: paste it as WooCommerce shows it). The event is
 * `X-WC-Webhook-Topic` (`order.created`, `action.woocommerce_add_to_cart`);
 * the delivery id is `X-WC-Webhook-Delivery-ID`.
 *
 * When a webhook is created (or activated), WooCommerce posts an unsigned
 * ping, `webhook_id=<id>` as a form, and keeps the webhook only if the
 * answer is exactly 200. That request alone is answered 200 without
 * signature: it is stored nowhere and runs no hook, so a forged one gains
 * nothing.
 *
 * Replays: only the body is signed (the topic and the delivery id are
 * headers, there is no timestamp), so the replay key is the body.
 *
 * @module
 */

import type { Provider, Verdict, VerifyInput } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { acceptedBody, malformed, singleHeader } from "./_payload.ts";
import { verifyBodyHmac } from "./_signed.ts";
import { signEncoded } from "./_hub.ts";

const SIGNATURE = "X-WC-Webhook-Signature";
/** WooCommerce's creation ping (`WC_Webhook::deliver_ping`): the webhook's id, nothing else. */
const PING = /^webhook_id=\d{1,20}$/;

/**
 * Whether a request is WooCommerce's unsigned creation ping.
 *
 * @param input the request
 * @returns true for a body of `webhook_id=<digits>` without a signature header
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isWoocommercePing } from "./woocommerce.ts";
 * const ping = (body: string, headers: HeadersInit = {}) => ({
 *   headers: new Headers(headers), body: new TextEncoder().encode(body), now: 0, url: "http://h/",
 * });
 * assert.equal(isWoocommercePing(ping("webhook_id=17")), true);
 * assert.equal(isWoocommercePing(ping('{"id":17}')), false);
 * assert.equal(isWoocommercePing(ping("webhook_id=17", { "X-WC-Webhook-Signature": "x" })), false);
 * ```
 */
export function isWoocommercePing(input: VerifyInput): boolean {
  return !input.headers.has(SIGNATURE) && input.body.length <= 32 &&
    PING.test(new TextDecoder().decode(input.body));
}

/**
 * Verify a WooCommerce delivery, or answer its creation ping.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys, current secret first
 * @returns the verdict; event is `X-WC-Webhook-Topic`, `ping` for the ping (answered 200)
 */
export async function verifyWoocommerce(input: VerifyInput, keys: CryptoKey[]): Promise<Verdict> {
  if (isWoocommercePing(input)) {
    return {
      ok: true,
      event: "ping",
      verifiedBy: "none",
      payload: new Uint8Array(),
      contentType: "text/plain",
      replayKey: null,
      reply: { status: 200, body: "" },
    };
  }
  const checked = await verifyBodyHmac(input, keys, {
    header: SIGNATURE,
    hash: "sha256",
    encoding: "base64",
  });
  if ("ok" in checked) return checked;
  const event = singleHeader(input.headers, "x-wc-webhook-topic");
  if (!event) return malformed("missing X-WC-Webhook-Topic");
  return acceptedBody(input, {
    event,
    deliveryId: singleHeader(input.headers, "x-wc-webhook-delivery-id") ?? undefined,
    verifiedBy: checked.verifiedBy,
    replayKey: input.body,
  });
}

/** The `woocommerce` provider. */
export const woocommerce: Provider = {
  name: "woocommerce",
  summary:
    "WooCommerce: X-WC-Webhook-Signature (HMAC-SHA256, base64), event X-WC-Webhook-Topic; answers the unsigned creation ping",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyWoocommerce(input, keys);
  },
  async sign(endpoint, body, options) {
    const topic = options.event ?? "order.created";
    const [resource, event] = topic.split(".");
    return {
      "Content-Type": "application/json",
      "X-WC-Webhook-Topic": topic,
      "X-WC-Webhook-Resource": resource,
      "X-WC-Webhook-Event": event ?? "",
      "X-WC-Webhook-Delivery-ID": options.deliveryId ?? crypto.randomUUID(),
      [SIGNATURE]: await signEncoded(endpoint.secrets[0], "sha256", body, "base64"),
    };
  },
};
