/**
 * Cross-site request protection for the admin pages' forms. Two checks, both
 * required: the browser's own word (`Sec-Fetch-Site`, `Origin`) that the form
 * came from this origin, and a token another site cannot know: an HMAC of the
 * delivery id keyed with `HOOKD_ADMIN_TOKEN`, else a double-submit cookie, so
 * that a restart or another instance of a cluster accepts it too. Not Hono's
 * `csrf`: it passes when either header agrees (here each one sent must),
 * refuses a form that sends neither (here the token decides, so `curl` with
 * the token works), and has no token.
 *
 * @module
 */

import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "hono/utils/buffer";
import { createHmac, randomBytes } from "node:crypto";

/** The double-submit cookie's name. */
const CSRF_COOKIE = "hookd_csrf";

/** The form field holding the token. */
export const CSRF_FIELD = "csrf";

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The token a form that replays `id` must carry. Without an admin token
 * this sets the double-submit cookie on `c`'s response when the request has
 * none (or a malformed one).
 */
export function formToken(c: Context, id: string, adminToken: string | undefined): string {
  if (adminToken !== undefined) return hmacToken(adminToken, id);
  const existing = getCookie(c, CSRF_COOKIE);
  if (existing !== undefined && COOKIE_VALUE.test(existing)) return existing;
  const fresh = randomBytes(32).toString("base64url");
  setCookie(c, CSRF_COOKIE, fresh, { path: "/", httpOnly: true, sameSite: "Strict" });
  return fresh;
}

/**
 * Why a form post that replays `id` with the token `submitted` is refused,
 * or undefined when it comes from this origin and carries the right token.
 */
export async function refusal(
  c: Context,
  id: string,
  submitted: string | undefined,
  adminToken: string | undefined,
): Promise<string | undefined> {
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined && site !== "same-origin") {
    return `Cross-site request refused: Sec-Fetch-Site is "${site}"; use the form on this page`;
  }
  const origin = c.req.header("Origin");
  const own = new URL(c.req.url).origin;
  // Under `Referrer-Policy: no-referrer` (which the pages send) a browser posts the form with
  // `Origin: null`; then its `Sec-Fetch-Site: same-origin` is the word that counts.
  const nullButSameSite = origin === "null" && site === "same-origin";
  if (origin !== undefined && origin !== own && !nullButSameSite) {
    return `Cross-site request refused: Origin ${origin} is not ${own}; use the form on this page`;
  }
  if (submitted === undefined || submitted === "") {
    return "The form's CSRF token is missing: reload the page and press the button again";
  }
  const expected = adminToken !== undefined ? hmacToken(adminToken, id) : getCookie(c, CSRF_COOKIE);
  if (expected === undefined || !(await timingSafeEqual(submitted, expected))) {
    return "The form's CSRF token is wrong or expired: reload the page and press the button again";
  }
  return undefined;
}

function hmacToken(adminToken: string, id: string): string {
  // The purpose in the message keeps this MAC from ever equalling one made for something else.
  return createHmac("sha256", adminToken).update(`hookd admin replay ${id}`).digest("base64url");
}
