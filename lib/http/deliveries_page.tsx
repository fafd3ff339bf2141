/**
 * The deliveries pages on the admin listener, rendered on the server with
 * hono/jsx (one small script follows a running hook's output; the pages
 * work without it). A replay is the command line's own (filter and hook
 * configured now), answered with a 303 back to the page, which says what
 * `hookd replay ID` would have printed. Every response here carries a
 * strict Content-Security-Policy and the framing, referrer and sniffing headers.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { randomBytes } from "node:crypto";
import { parseDuration } from "../config/mod.ts";
import { DELIVERY_STATES, type DeliveryState, type Store } from "../store/mod.ts";
import { CSRF_FIELD, formToken, refusal } from "./_csrf.ts";
import { STYLE, STYLE_PATH } from "./_style.ts";
import { SCRIPT, SCRIPT_PATH } from "./_live_script.ts";
import { DetailPage, ErrorPage, ListPage, type ListQuery, type ReplayNotice } from "./_views.tsx";

/** What the pages need from the daemon. */
export interface DeliveriesPageDeps {
  /** The delivery store, read only: a replay goes through `replay`. */
  store: Pick<Store, "list" | "get" | "activity">;
  /**
   * Replay one delivery exactly as `hookd replay ID` does (the daemon passes
   * lib/cli's `replay` over the running configuration): the filter and the
   * hook configured now, and the command line's words for what it did.
   */
  replay(id: string): Promise<PageReplay>;
  /** The configured endpoint names, offered in the filter (read per request: a reload changes them). */
  endpoints(): readonly string[];
  /** Replayed work is waiting: dispatch now rather than at the next poll. */
  notify?(): void;
  /** `HOOKD_ADMIN_TOKEN` now in force, for the CSRF token; undefined when none is set. */
  adminToken(): string | undefined;
  /** Duplicates answered per minute (they are not stored); omitted: the chart says so. */
  duplicates?(since: number, until: number): number[];
  /** The clock, epoch milliseconds; for tests. */
  now?(): number;
}

/** What a replay did, for the page: `unknown` when there is no such delivery. */
export interface PageReplay extends ReplayNotice {
  unknown: boolean;
}

/** Deliveries per page. */
export const PAGE_SIZE = 50;

const MINUTE_MS = 60_000;
const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ENDPOINT = /^[a-z0-9-]{1,100}$/;

/**
 * Add the pages to an app of their own, which the admin listener's routes
 * to after its access rules: every response of `app` carries the pages'
 * security headers.
 *
 * @param deps the store, the endpoints, the admin token, the clock
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { openStore } from "../store/mod.ts";
 * import { mountDeliveriesPages } from "./deliveries_page.tsx";
 * await using store = openStore(":memory:");
 * const app = new Hono();
 * mountDeliveriesPages(app, {
 *   store,
 *   // The daemon passes lib/cli's replayOne over its configuration.
 *   replay: (id) => Promise.resolve({ requeued: false, unknown: true, text: `${id} skipped` }),
 *   endpoints: () => ["github"],
 *   adminToken: () => undefined,
 * });
 * const res = await app.request("/");
 * assert.equal(res.status, 200);
 * assert.match(await res.text(), /No deliveries match\./);
 * ```
 */
export function mountDeliveriesPages(app: Hono, deps: DeliveriesPageDeps): void {
  const now = deps.now ?? Date.now;
  // What a replay said, for the page the form redirects to (303: a reload never replays twice),
  // under a random key in the URL, never the text: nobody can link to a page showing words hookd
  // did not say. Few, brief, in memory: a key that is gone (a restart, another instance) shows
  // the page without the notice, and its runs say the rest.
  const notices = new Map<string, { id: string; at: number; notice: ReplayNotice }>();
  // Only this listener's own style and script, no framing, no referrer, no sniffing. Not HSTS:
  // the admin listener speaks plain HTTP (a proxy in front that terminates TLS sets its own).
  app.use(secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      scriptSrc: ["'self'"],
      connectSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    strictTransportSecurity: false,
  }));
  for (
    const [path, text, type] of [[STYLE_PATH, STYLE, "css"], [SCRIPT_PATH, SCRIPT, "javascript"]]
  ) {
    app.get(path, (c) =>
      c.body(text, 200, {
        "Content-Type": `text/${type}; charset=utf-8`,
        "Cache-Control": "public, max-age=86400, immutable",
      }));
  }

  app.get("/", async function listPage(c) {
    const at = now();
    const chart = await chartData(deps, at);
    const { query, since, error } = parseListQuery(c.req.query(), at);
    const rows = error ? [] : await deps.store.list({ ...query, since, limit: PAGE_SIZE + 1 });
    const deliveries = rows.slice(0, PAGE_SIZE);
    const nextBefore = rows.length > PAGE_SIZE ? deliveries.at(-1)?.id : undefined;
    return page(
      c,
      <ListPage
        {...{ query, deliveries, nextBefore, chart, error }}
        endpoints={deps.endpoints()}
        now={at}
      />,
      error ? 400 : 200,
    );
  });

  app.get("/deliveries/:id", async function detailPage(c) {
    const id = c.req.param("id");
    const delivery = ID.test(id) ? await deps.store.get(id) : null;
    if (!delivery) return notFound(c, id);
    const kept = notices.get(c.req.query("replayed") ?? "");
    const fresh = kept?.id === id && now() - kept.at <= NOTICE_TTL_MS;
    const csrf = formToken(c, id, deps.adminToken());
    return page(
      c,
      <DetailPage
        delivery={delivery}
        csrf={csrf}
        replayed={fresh ? kept.notice : undefined}
        now={now()}
      />,
    );
  });

  app.post("/deliveries/:id/replay", async function replay(c) {
    const id = c.req.param("id");
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    const submitted = typeof form[CSRF_FIELD] === "string" ? form[CSRF_FIELD] : undefined;
    const refused = await refusal(c, id, submitted, deps.adminToken());
    if (refused) return page(c, <ErrorPage title="Replay refused" message={refused} />, 403);
    if (!ID.test(id)) return notFound(c, id);
    const done = await deps.replay(id);
    if (done.unknown) return notFound(c, id);
    if (done.requeued) deps.notify?.();
    const key = randomBytes(16).toString("base64url");
    if (notices.size >= MAX_NOTICES) notices.delete(notices.keys().next().value!);
    notices.set(key, {
      id,
      at: now(),
      notice: { requeued: done.requeued, text: done.text.trim() },
    });
    return c.redirect(`/deliveries/${id}?replayed=${key}`, 303);
  });

  app.all(
    "/deliveries/:id/replay",
    (c) =>
      page(c, <ErrorPage title="Method not allowed" message="Replay with the form's POST" />, 405, {
        Allow: "POST",
      }),
  );
}

const MAX_NOTICES = 256;
const NOTICE_TTL_MS = 10 * 60_000;

/** A page as the answer: not stored by caches, unless `headers` say otherwise. */
function page(
  c: Context,
  body: unknown,
  status: 200 | 400 | 403 | 404 | 405 = 200,
  headers: Record<string, string> = { "Cache-Control": "no-store" },
): Response {
  return c.html(`<!DOCTYPE html>${body}`, status, headers);
}

function notFound(c: Context, id: string): Response {
  return page(
    c,
    <ErrorPage title="No such delivery" message={`There is no delivery ${id}.`} />,
    404,
  );
}

async function chartData(deps: DeliveriesPageDeps, at: number) {
  // The last 60 minutes, the current one included.
  const until = Math.floor(at / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const since = until - 60 * MINUTE_MS;
  return {
    minutes: await deps.store.activity(since, until),
    duplicates: deps.duplicates?.(since, until),
  };
}

/**
 * Check the list's query string: every filter has one right form, and a
 * wrong one is a 400 that names the parameter and the fix.
 */
function parseListQuery(
  raw: Record<string, string>,
  at: number,
): { query: ListQuery; since?: number; error?: string } {
  const query: ListQuery = {};
  let since: number | undefined;
  const problems: string[] = [];
  if (raw.endpoint) {
    if (ENDPOINT.test(raw.endpoint)) query.endpoint = raw.endpoint;
    else problems.push("?endpoint= must be an endpoint name (a-z, 0-9 and -)");
  }
  if (raw.state) {
    if (DELIVERY_STATES.includes(raw.state as DeliveryState)) {
      query.state = raw.state as DeliveryState;
    } else problems.push(`?state= must be one of ${DELIVERY_STATES.join(", ")}`);
  }
  if (raw.since) {
    try {
      since = at - parseDuration(raw.since);
      query.since = raw.since;
    } catch {
      problems.push("?since= must be a duration such as 15m, 1h or 7d");
    }
  }
  if (raw.before) {
    if (ID.test(raw.before)) query.before = raw.before;
    else problems.push("?before= must be a delivery id");
  }
  const error = problems.length > 0 ? `Invalid filter: ${problems.join("; ")}.` : undefined;
  return { query, since, error };
}
