/**
 * Gogs: the Gitea scheme under `X-Gogs-*` headers (see `_forge.ts`).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { type ForgeHeaders, forgeHeaders, forgeProvider } from "./_forge.ts";

/** The headers Gogs writes. */
export const GOGS_HEADERS: ForgeHeaders = forgeHeaders("Gogs");

/** The `gogs` provider. */
export const gogs: Provider = forgeProvider("Gogs");
