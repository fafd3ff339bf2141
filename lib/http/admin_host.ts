/**
 * The admin listener's `Host` rule, against DNS rebinding: a page whose name
 * an attacker re-points at 127.0.0.1 reaches a loopback listener from the
 * victim's browser as its own origin, and would read every delivery and
 * press Replay; its requests carry the attacker's name in `Host`. So a
 * loopback listener serves only `localhost`, IP addresses and
 * `HOOKD_ADMIN_HOSTS`. Off loopback the token stops such a page, and the rule
 * applies only when `HOOKD_ADMIN_HOSTS` is set (an upgrade never breaks a
 * scrape by host name). `/healthz` answers any `Host`.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { isIPv4 } from "node:net";
import { parseAddress } from "../config/mod.ts";
import type { AdminAuthOptions } from "./admin_auth.ts";

/** Paths any `Host` may use: a load balancer's health check reveals nothing. */
const OPEN_PATHS = new Set(["/healthz"]);

/**
 * Whether a `Host` value (a URL's hostname: lower-case, IPv6 in brackets)
 * names the admin listener.
 *
 * @param hostname the request's host name, without the port
 * @param extra the names of `HOOKD_ADMIN_HOSTS`
 * @returns true for `localhost`, an IP address, or one of `extra`; case and a
 *   trailing dot do not matter
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { namesAdmin } from "./admin_host.ts";
 * assert.equal(namesAdmin("LocalHost.", []), true);
 * assert.equal(namesAdmin("[::1]", []), true);
 * assert.equal(namesAdmin("rebind.attacker.test", []), false);
 * assert.equal(namesAdmin("tunnel", ["tunnel"]), true);
 * ```
 */
export function namesAdmin(hostname: string, extra: readonly string[]): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (name === "localhost") return true;
  const bare = name.startsWith("[") && name.endsWith("]") ? name.slice(1, -1) : name;
  // A dotted quad, or IPv6 in brackets: what a URL's host is once normalised.
  if (bare === name ? isIPv4(bare) : bare.includes(":") && parseAddress(bare) !== undefined) {
    return true;
  }
  return extra.includes(name);
}

/**
 * Middleware that refuses, 421 Misdirected Request, a request whose `Host`
 * does not name the admin listener, before any page, replay, stream or
 * metrics handler (and before the token is asked for).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { adminHostCheck } from "./admin_host.ts";
 * const app = new Hono();
 * app.use(adminHostCheck({ loopback: true }));
 * app.get("/", (c) => c.text("deliveries"));
 * assert.equal((await app.request("http://127.0.0.1:9001/")).status, 200);
 * assert.equal((await app.request("http://rebind.attacker.test:9001/")).status, 421);
 * ```
 */
export function adminHostCheck(
  options: Pick<AdminAuthOptions, "loopback" | "hosts">,
): MiddlewareHandler {
  return async function hostCheck(c, next) {
    if (OPEN_PATHS.has(c.req.path)) return await next();
    const extra = options.hosts?.() ?? [];
    if (!options.loopback && extra.length === 0) return await next();
    // Deno.serve builds the URL from the Host header (as hono's app.request does from its URL).
    const { hostname } = new URL(c.req.url);
    if (namesAdmin(hostname, extra)) return await next();
    return c.text(
      `Misdirected request: this admin listener answers to 127.0.0.1, [::1], localhost${
        extra.length > 0 ? `, ${extra.join(", ")}` : ""
      }; to reach it by another name, add the name to HOOKD_ADMIN_HOSTS\n`,
      421,
      { "Cache-Control": "no-store" },
    );
  };
}
