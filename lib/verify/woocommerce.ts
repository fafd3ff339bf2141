/**
 * WooCommerce: base64 HMAC-SHA256 of the body in `X-WC-Webhook-Signature`
 * (paste the secret as WooCommerce shows it). Its unsigned creation ping must
 * get a 200 or the webhook is dropped: it is answered without a signature, but
 * stored nowhere and runs no hook, so a forged one gains nothing.
 *
 * @module
 */

import type { Provider, VerifyInput } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

const SIGNATURE = "X-WC-Webhook-Signature";
/** WooCommerce's creation ping (`WC_Webhook::deliver_ping`): the webhook's id, nothing else. */
const PING = /^webhook_id=\d{1,20}$/;

/**
 * Whether a request is WooCommerce's unsigned creation ping: a body of
 * `webhook_id=<digits>` without a signature header.
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

/** The `woocommerce` provider. */
export const woocommerce: Provider = bodyHmacProvider({
  name: "woocommerce",
  summary:
    "WooCommerce: X-WC-Webhook-Signature (HMAC-SHA256, base64), event X-WC-Webhook-Topic; answers the unsigned creation ping",
  header: SIGNATURE,
  hash: "sha256",
  encoding: "base64",
  eventHeader: "X-WC-Webhook-Topic",
  sampleEvent: "order.created",
  deliveryHeader: "X-WC-Webhook-Delivery-ID",
  unsigned: (input) =>
    isWoocommercePing(input)
      ? {
        ok: true,
        event: "ping",
        verifiedBy: "none",
        payload: new Uint8Array(),
        contentType: "text/plain",
        replayKey: null,
        reply: { status: 200, body: "" },
      }
      : undefined,
  signHeaders(_body, options) {
    const [resource, event] = (options.event ?? "order.created").split(".");
    return { "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event ?? "" };
  },
});
