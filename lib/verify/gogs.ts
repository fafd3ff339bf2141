/**
 * Gogs: hex HMAC-SHA256 in `X-Gogs-Signature`, event in `X-Gogs-Event`,
 * delivery id in `X-Gogs-Delivery`. Gogs signs the JSON payload when the
 * hook task is created and, with the form content type, sends it as the
 * `payload` field (`internal/database/webhook.go`), so the signature is
 * over the decoded JSON, not the form.
 *
 * Replays: the replay key is the signed JSON (see `_forge.ts`).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { type ForgeHeaders, signForge, verifyForge } from "./_forge.ts";

/** The headers Gogs writes. */
export const GOGS_HEADERS: ForgeHeaders = {
  signature: "X-Gogs-Signature",
  event: "X-Gogs-Event",
  delivery: "X-Gogs-Delivery",
};

/** The `gogs` provider. */
export const gogs: Provider = {
  name: "gogs",
  summary: "Gogs: X-Gogs-Signature (HMAC-SHA256 of the JSON, hex), X-Gogs-Event + .action",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyForge(input, keys, GOGS_HEADERS);
  },
  sign(endpoint, body, options) {
    return signForge(endpoint.secrets[0], body, options, GOGS_HEADERS);
  },
};
