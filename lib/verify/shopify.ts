/**
 * Shopify: base64 HMAC-SHA256 of the body in `X-Shopify-Hmac-Sha256`;
 * `X-Shopify-Webhook-Id` is the header Shopify names for ignoring duplicates.
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
