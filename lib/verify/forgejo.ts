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
import { type ForgeHeaders, forgeHeaders, forgeProvider } from "./_forge.ts";

/** The headers Forgejo writes. */
export const FORGEJO_HEADERS: ForgeHeaders = forgeHeaders("Forgejo");

/** The `forgejo` provider. */
export const forgejo: Provider = forgeProvider("Forgejo");
