/**
 * Senders that sign the URL they post to (Twilio, Square, HubSpot): behind a
 * proxy hookd sees another URL, so the one set at the sender is `PUBLIC_URL`,
 * and only the query is taken from the request.
 *
 * @module
 */

import type { EndpointSettings, SettingSpec } from "./types.ts";

/** An http(s) URL without query or fragment: scheme, host, port, path. */
export const URL_PARTS = /^(https?):\/\/([^/:?#]+)(?::(\d+))?([^?#]*)$/i;

/** The `PUBLIC_URL` setting of a sender: required, an http(s) URL without query string. */
export function publicUrlSetting(sender: string): SettingSpec {
  return {
    help: `the URL configured at ${sender} for this endpoint, without query string`,
    required: true,
    validate: (value) =>
      URL_PARTS.test(value)
        ? undefined
        : `is not an http(s) URL without query string: write the URL configured at ${sender}, e.g. https://hooks.example.com/hooks/${sender.toLowerCase()}`,
  };
}

/**
 * Read an endpoint's `PUBLIC_URL` once, when its verifier is built.
 *
 * @throws {Error} naming `<prefix>PUBLIC_URL` when it is not such a URL
 */
export function readPublicUrl(endpoint: EndpointSettings, sender: string): string {
  const value = endpoint.settings.PUBLIC_URL ?? "";
  const problem = publicUrlSetting(sender).validate!(value);
  if (problem) throw new Error(`${endpoint.prefix}PUBLIC_URL ${problem}`);
  return value;
}

/**
 * The query string of a URL exactly as sent, `?` included, or `""`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rawQuery } from "./_public_url.ts";
 * assert.equal(rawQuery("https://h/p?a=%20&b#frag"), "?a=%20&b");
 * assert.equal(rawQuery("https://h/p"), "");
 * ```
 */
export function rawQuery(url: string): string {
  const at = url.indexOf("?");
  if (at < 0) return "";
  const hash = url.indexOf("#", at);
  return url.slice(at, hash < 0 ? undefined : hash);
}
