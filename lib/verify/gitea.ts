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
import { type ForgeHeaders, forgeHeaders, forgeProvider } from "./_forge.ts";

/** The headers Gitea writes. */
export const GITEA_HEADERS: ForgeHeaders = forgeHeaders("Gitea");

/** The `gitea` provider. */
export const gitea: Provider = forgeProvider("Gitea");
