/**
 * Gitea: hex HMAC-SHA256 in `X-Gitea-Signature`, event in `X-Gitea-Event`,
 * delivery id in `X-Gitea-Delivery`. With the form content type Gitea
 * signs the decoded `payload` JSON, not the form it sends (see
 * `services/webhook/deliver.go`, `addDefaultHeaders`).
 *
 * Replays: the replay key is the signed JSON (see `_forge.ts`).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { type ForgeHeaders, signForge, verifyForge } from "./_forge.ts";

/** The headers Gitea writes. */
export const GITEA_HEADERS: ForgeHeaders = {
  signature: "X-Gitea-Signature",
  event: "X-Gitea-Event",
  delivery: "X-Gitea-Delivery",
};

/** The `gitea` provider. */
export const gitea: Provider = {
  name: "gitea",
  summary: "Gitea: X-Gitea-Signature (HMAC-SHA256 of the JSON, hex), X-Gitea-Event + .action",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyForge(input, keys, GITEA_HEADERS);
  },
  sign(endpoint, body, options) {
    return signForge(endpoint.secrets[0], body, options, GITEA_HEADERS);
  },
};
