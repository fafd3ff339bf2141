/**
 * Forgejo: the Gitea scheme under `X-Forgejo-*` headers (see `_forge.ts`). It
 * also sends `X-Gitea-*`, so the `gitea` provider accepts it too.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { type ForgeHeaders, forgeHeaders, forgeProvider } from "./_forge.ts";

/** The headers Forgejo writes. */
export const FORGEJO_HEADERS: ForgeHeaders = forgeHeaders("Forgejo");

/** The `forgejo` provider. */
export const forgejo: Provider = forgeProvider("Forgejo");
