/**
 * Gitea: hex HMAC-SHA256 under `X-Gitea-*` headers (see `_forge.ts`).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { type ForgeHeaders, forgeHeaders, forgeProvider } from "./_forge.ts";

/** The headers Gitea writes. */
export const GITEA_HEADERS: ForgeHeaders = forgeHeaders("Gitea");

/** The `gitea` provider. */
export const gitea: Provider = forgeProvider("Gitea");
