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

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `shopify` provider. */
export const shopify: Provider = bodyHmacProvider({
  name: "shopify",
  summary: "Shopify: X-Shopify-Hmac-Sha256 (HMAC-SHA256, base64), event X-Shopify-Topic",
  header: "X-Shopify-Hmac-Sha256",
  hash: "sha256",
  encoding: "base64",
  eventHeader: "X-Shopify-Topic",
  sampleEvent: "orders/create",
  deliveryHeader: "X-Shopify-Webhook-Id",
});
