/**
 * Refuse to face the network with a guessable secret: the example file's
 * placeholder, or one too short to resist guessing.
 *
 * @module
 */

import { isLoopback } from "./listen.ts";

/** The throwaway secret in `systemd/hookd.env`, known to everyone who read it. */
export const EXAMPLE_SECRET = "change-me-this-is-the-example-secret";

/** The fewest bytes a secret may have on a non-loopback listener. */
export const MIN_SECRET_BYTES = 16;

/** Options for {@linkcode weakSecretProblems}. */
export interface WeakSecretOptions {
  /** Secrets refused outright; default `[EXAMPLE_SECRET]`. */
  placeholders?: readonly string[];
  /** The fewest bytes (UTF-8) a secret may have; default {@linkcode MIN_SECRET_BYTES}. */
  minBytes?: number;
}

/**
 * The weak secrets of a configuration whose public listener is not on
 * loopback: each endpoint secret that is a placeholder or shorter than
 * `minBytes`, one sentence per secret naming its variable and the fix.
 * On loopback nothing outside the machine can send, so nothing is weak.
 *
 * Secrets are named from their position in `EndpointConfig.secrets`: the
 * first is `<PREFIX>SECRET`, the second `<PREFIX>SECRET_PREVIOUS` (the
 * config parser only keeps a previous secret next to a current one).
 *
 * @param config the listener and the endpoints
 * @param options the placeholders and the minimum length
 * @returns the problems; empty when every secret is strong enough
 * @throws {RangeError} when `minBytes` is not a positive whole number
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weakSecretProblems } from "./secret_strength.ts";
 * const problems = weakSecretProblems({
 *   listen: { hostname: "0.0.0.0" },
 *   endpoints: new Map([["github", { prefix: "HOOKD_GITHUB_", secrets: ["short"] }]]),
 * });
 * assert.ok(problems[0].startsWith("HOOKD_GITHUB_SECRET is 5 bytes"));
 * ```
 */
export function weakSecretProblems(
  config: {
    listen: { hostname: string } | { path: string };
    endpoints: ReadonlyMap<string, { prefix: string; secrets: readonly string[] }>;
  },
  options: WeakSecretOptions = {},
): string[] {
  const minBytes = options.minBytes ?? MIN_SECRET_BYTES;
  if (!Number.isSafeInteger(minBytes) || minBytes < 1) {
    throw new RangeError("weakSecretProblems: minBytes must be a positive whole number");
  }
  const placeholders = options.placeholders ?? [EXAMPLE_SECRET];
  const listen = config.listen;
  // A unix socket serves whatever the proxy in front of it forwards: public.
  if ("hostname" in listen && isLoopback(listen.hostname)) return [];
  const where = "hostname" in listen
    ? `HOOKD_LISTEN is not loopback (${listen.hostname || "all addresses"})`
    : `HOOKD_LISTEN is a unix socket behind a proxy (${listen.path})`;
  const fix = "generate one with: openssl rand -hex 32, and set the same secret at the sender";
  const problems: string[] = [];
  for (const endpoint of config.endpoints.values()) {
    endpoint.secrets.forEach((secret, index) => {
      const variable = `${endpoint.prefix}${index === 0 ? "SECRET" : "SECRET_PREVIOUS"}`;
      const bytes = new TextEncoder().encode(secret).byteLength;
      if (placeholders.includes(secret.trim())) {
        problems.push(
          `${variable} is still the example placeholder and ${where}: ${fix}`,
        );
      } else if (bytes < minBytes) {
        problems.push(
          `${variable} is ${bytes} bytes, shorter than ${minBytes}, and ${where}: ${fix}`,
        );
      }
    });
  }
  return problems;
}

/**
 * The admin listener's configuration mistakes: off loopback it must have a
 * token, and one long enough not to be guessed. One sentence per problem,
 * naming the variable and the fix.
 *
 * @param config the admin listener and token
 * @returns the problems; empty when the admin listener is safe
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adminAccessProblems } from "./secret_strength.ts";
 * const problems = adminAccessProblems({ adminListen: { hostname: "0.0.0.0", port: 9001 } });
 * assert.ok(problems[0].startsWith("HOOKD_ADMIN_TOKEN is not set"));
 * ```
 */
export function adminAccessProblems(
  config: { adminListen?: { hostname: string; port: number }; adminToken?: string },
): string[] {
  const listen = config.adminListen;
  if (listen === undefined || isLoopback(listen.hostname)) return [];
  const where = `HOOKD_ADMIN_LISTEN is not loopback (${listen.hostname || "all addresses"})`;
  if (config.adminToken === undefined) {
    return [
      `HOOKD_ADMIN_TOKEN is not set but ${where}: set HOOKD_ADMIN_TOKEN to a long random value (openssl rand -hex 32), or set HOOKD_ADMIN_LISTEN=127.0.0.1:${listen.port}`,
    ];
  }
  if (new TextEncoder().encode(config.adminToken).byteLength < MIN_SECRET_BYTES) {
    return [
      `HOOKD_ADMIN_TOKEN is shorter than ${MIN_SECRET_BYTES} bytes and ${where}: use a long random value (openssl rand -hex 32)`,
    ];
  }
  return [];
}
