/**
 * Intercom: `X-Hub-Signature: sha1=<hex>` of the body (Intercom signs with
 * nothing stronger).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { bodyHmacProvider } from "./_body_hmac_provider.ts";

/** The `intercom` provider. */
export const intercom: Provider = bodyHmacProvider({
  name: "intercom",
  summary: "Intercom: X-Hub-Signature sha1=<hex> of the body (client secret), event topic",
  header: "X-Hub-Signature",
  hash: "sha1",
  encoding: "hex",
  prefix: "sha1=",
  eventField: "topic",
  deliveryField: "id",
});
