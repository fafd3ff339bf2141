/**
 * Who may use the admin listener. On a loopback address it is open: only
 * this machine reaches it. On any other address every path but `/healthz`
 * needs `HOOKD_ADMIN_TOKEN`, as HTTP basic auth (any user name, the token
 * as password: what a browser asks for) or as a bearer token (what
 * Prometheus sends), compared in constant time by Hono's middleware. The daemon refuses to
 * start off loopback without a token (`adminAccessProblems` in `lib/config/secret_strength.ts`).
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { basicAuth } from "hono/basic-auth";
import { bearerAuth } from "hono/bearer-auth";
import { except, some } from "hono/combine";
import { timingSafeEqual } from "hono/utils/buffer";

/** Options for {@linkcode adminAuth}. */
export interface AdminAuthOptions {
  /** Whether the admin listener is bound to a loopback address (then it is open). */
  loopback: boolean;
  /** The token now in force, read per request so that a reload applies; undefined: none. */
  token(): string | undefined;
  /**
   * `HOOKD_ADMIN_HOSTS` now in force (lower-case names), read per request so
   * that a reload applies: see lib/http/admin_host.ts, which runs first.
   */
  hosts?(): readonly string[];
}

/** Paths anyone who reaches the listener may use: a load balancer's health check. */
const OPEN_PATHS = new Set(["/healthz"]);

/**
 * Middleware that asks for the admin token off loopback, through Hono's
 * `bearerAuth` and `basicAuth` (constant-time comparisons): 401 with a
 * basic-auth challenge (so a browser prompts) when it is missing or wrong.
 * On loopback, or for `/healthz`, it lets every request through.
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
  const isToken = async (offered: string) => {
    const token = options.token();
    return token !== undefined && await timingSafeEqual(offered, token);
  };
  return except(
    (c) => options.loopback || OPEN_PATHS.has(c.req.path),
    some(
      bearerAuth({ verifyToken: isToken }),
      // Tried last, so its challenge is the answer when neither holds.
      basicAuth({
        verifyUser: (_user, password) => isToken(password),
        realm: "hookd admin",
        invalidUserMessage: (c: Context) =>
          c.req.header("Authorization") === undefined
            ? "The admin listener needs HOOKD_ADMIN_TOKEN: send it as the password of HTTP basic auth or as a bearer token\n"
            : "Wrong admin token\n",
      }),
    ),
  );
}
