/**
 * Senders using a scheme hookd already knows, under their own names so an env
 * file says what it receives: Clerk and Resend sign with Standard Webhooks
 * (via Svix), Postmark and Azure DevOps send basic auth (`token` with
 * `Authorization`, the secret written `user:password`).
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { standard } from "./standard.ts";
import { token } from "./token.ts";

function standardAlias(name: string, sender: string): Provider {
  return {
    ...standard,
    name,
    summary:
      `${sender}: Standard Webhooks (svix-id, svix-timestamp, svix-signature; whsec_ secret)`,
  };
}

function basicAuthAlias(name: string, sender: string): Provider {
  return {
    ...token,
    name,
    summary:
      `${sender}: HTTP basic auth (the secret written user:password), compared in constant time`,
    settings: {
      ...token.settings,
      TOKEN_HEADER: { ...token.settings.TOKEN_HEADER, default: "Authorization" },
    },
  };
}

/** Clerk: Standard Webhooks through Svix. */
export const clerk: Provider = standardAlias("clerk", "Clerk");

/** Resend: Standard Webhooks through Svix. */
export const resend: Provider = standardAlias("resend", "Resend");

/** Postmark: basic auth in the webhook URL, sent as `Authorization: Basic`. */
export const postmark: Provider = basicAuthAlias("postmark", "Postmark");

/** Azure DevOps service hooks: basic auth set on the subscription. */
export const azureDevops: Provider = basicAuthAlias("azure-devops", "Azure DevOps");
