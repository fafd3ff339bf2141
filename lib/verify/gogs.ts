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
import { type ForgeHeaders, forgeHeaders, forgeProvider } from "./_forge.ts";

/** The headers Gogs writes. */
export const GOGS_HEADERS: ForgeHeaders = forgeHeaders("Gogs");

/** The `gogs` provider. */
export const gogs: Provider = forgeProvider("Gogs");
