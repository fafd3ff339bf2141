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

/**
 * The weak secrets of a configuration whose public listener is not on
 * loopback: each endpoint secret that is the example placeholder or shorter
 * than {@linkcode MIN_SECRET_BYTES}, one sentence each naming its variable
 * and the fix. On loopback nothing outside the machine can send.
 *
 * @param config the listener and the endpoints (secrets: `SECRET`, then `SECRET_PREVIOUS`)
 * @returns the problems; empty when every secret is strong enough
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
): string[] {
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
      if (secret.trim() === EXAMPLE_SECRET) {
        problems.push(
          `${variable} is still the example placeholder and ${where}: ${fix}`,
        );
      } else if (bytes < MIN_SECRET_BYTES) {
        problems.push(
          `${variable} is ${bytes} bytes, shorter than ${MIN_SECRET_BYTES}, and ${where}: ${fix}`,
        );
      }
    });
  }
  return problems;
}

/**
 * The admin listener's mistakes: off loopback it must have a token, and one
 * long enough not to be guessed.
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
