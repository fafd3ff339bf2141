/**
 * Forgejo: hex HMAC-SHA256 in `X-Forgejo-Signature`, event in
 * `X-Forgejo-Event`, delivery id in `X-Forgejo-Delivery`. Forked from
 * Gitea, it signs the same way: with the form content type, over the
 * decoded `payload` JSON. (It also sends the `X-Gitea-*` headers, so the
 * `gitea` provider accepts it too.)
 *
 * Replays: the replay key is the signed JSON (see `_forge.ts`).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { importHmacKeys } from "./_hmac.ts";
import { type ForgeHeaders, signForge, verifyForge } from "./_forge.ts";

/** The headers Forgejo writes. */
export const FORGEJO_HEADERS: ForgeHeaders = {
  signature: "X-Forgejo-Signature",
  event: "X-Forgejo-Event",
  delivery: "X-Forgejo-Delivery",
};

/** The `forgejo` provider. */
export const forgejo: Provider = {
  name: "forgejo",
  summary: "Forgejo: X-Forgejo-Signature (HMAC-SHA256 of the JSON, hex), X-Forgejo-Event + .action",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const keys = await importHmacKeys(endpoint.secrets, "sha256");
    return (input) => verifyForge(input, keys, FORGEJO_HEADERS);
  },
  sign(endpoint, body, options) {
    return signForge(endpoint.secrets[0], body, options, FORGEJO_HEADERS);
  },
};
