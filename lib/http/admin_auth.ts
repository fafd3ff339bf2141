/**
 * Who may use the admin listener. On a loopback address it is open: only
 * this machine reaches it. On any other address every path but `/healthz`
 * needs `HOOKD_ADMIN_TOKEN`, as HTTP basic auth (any user name, the token
 * as password: what a browser asks for) or as a bearer token (what
 * Prometheus sends), compared in constant time. The daemon refuses to
 * start off loopback without a token (`adminAccessProblems` in `lib/config/secret_strength.ts`).
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";

/** Options for {@linkcode adminAuth}. */
export interface AdminAuthOptions {
  /** Whether the admin listener is bound to a loopback address (then it is open). */
  loopback: boolean;
  /** The token now in force, read per request so that a reload applies; undefined: none. */
  token(): string | undefined;
  /** `HOOKD_ADMIN_HOSTS` now in force: see lib/http/admin_host.ts, which runs first. */
  hosts?(): readonly string[];
}

/** Paths anyone who reaches the listener may use: a load balancer's health check. */
const OPEN_PATHS = new Set(["/healthz"]);

/**
 * Middleware that asks for the admin token off loopback: 401 with
 * `WWW-Authenticate` (so a browser prompts) when it is missing or wrong.
 * On loopback, or for `/healthz`, it lets every request through.
 *
 * @param options whether the listener is loopback, and the token
 * @returns Hono middleware
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { adminAuth } from "./admin_auth.ts";
 * const app = new Hono();
 * app.use(adminAuth({ loopback: false, token: () => "a-long-admin-token-1234" }));
 * app.get("/metrics", (c) => c.text("ok"));
 * const res = await app.request("/metrics", {
 *   headers: { Authorization: "Bearer a-long-admin-token-1234" },
 * });
 * assert.equal(res.status, 200);
 * ```
 */
export function adminAuth(options: AdminAuthOptions): MiddlewareHandler {
  return async function requireToken(c, next) {
    if (options.loopback || OPEN_PATHS.has(c.req.path)) return await next();
    const token = options.token();
    const offered = offeredToken(c.req.header("Authorization"));
    if (token !== undefined && offered !== undefined && sameSecret(offered, token)) {
      return await next();
    }
    return c.text(
      offered === undefined
        ? "The admin listener needs HOOKD_ADMIN_TOKEN: send it as the password of HTTP basic auth or as a bearer token\n"
        : "Wrong admin token\n",
      401,
      {
        "WWW-Authenticate": 'Basic realm="hookd admin", charset="UTF-8"',
        "Cache-Control": "no-store",
      },
    );
  };
}

/**
 * The token a request offers: `Bearer TOKEN`, or the password of `Basic`
 * credentials (the user name is ignored).
 *
 * @param authorization the `Authorization` header
 * @returns the token, or undefined when none is offered in a form hookd reads
 */
export function offeredToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^(Bearer|Basic)[ ]+(\S+)\s*$/i.exec(authorization);
  if (!match) return undefined;
  if (match[1].toLowerCase() === "bearer") return match[2];
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(match[2]), (c) => c.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/**
 * Compare two secrets in constant time: their SHA-256 digests (equal
 * length whatever the input), so neither the content nor the length leaks
 * through timing.
 *
 * @param offered what the client sent
 * @param expected the secret
 * @returns whether they are equal
 */
export function sameSecret(offered: string, expected: string): boolean {
  return timingSafeEqual(digest(offered), digest(expected));
}

function digest(text: string): Uint8Array {
  // node:crypto's hash is synchronous; WebCrypto's would make every check async.
  return createHash("sha256").update(text).digest();
}
