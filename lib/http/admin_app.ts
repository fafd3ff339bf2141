/**
 * The admin listener's app, separate from the public one so that health and
 * metrics are never exposed where senders reach: `GET /healthz` and
 * `GET /metrics`.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { adminAuth, type AdminAuthOptions } from "./admin_auth.ts";
import { adminHostCheck } from "./admin_host.ts";
import type { DeliveriesPageDeps } from "./deliveries_page.tsx";
import { mountOutputStream, type OutputSource } from "./output_stream.ts";
import { STYLE_PATH } from "./_style.ts";
import { SCRIPT_PATH } from "./_live_script.ts";

/** What the daemon knows about its own health. */
export interface HealthReport {
  /** Whether the state directory (the store) takes writes. */
  storeWritable: boolean;
  /** Whether the public listener is serving. */
  listening: boolean;
  /** Why not, in a short sentence, when one of them is false. */
  reason?: string;
}

/** What the admin app needs from the daemon. */
export interface AdminDeps {
  /** The current health; may throw, which counts as unhealthy. */
  health(): HealthReport | Promise<HealthReport>;
  /** The metrics exposition. */
  metrics: { render(): Promise<string>; readonly contentType: string };
  /** Who may use the listener (see lib/http/admin_auth.ts); omitted: everyone. */
  access?: AdminAuthOptions;
  /** The deliveries pages (see lib/http/deliveries_page.tsx); omitted: none. */
  pages?: DeliveriesPageDeps;
  /** Live hook output for `GET /deliveries/:id/output` (see lib/http/output_stream.ts); omitted: none. */
  output?: OutputSource;
}

const NO_STORE = { "Cache-Control": "no-store" };

/**
 * Build the admin app; serve it with `Deno.serve(app.fetch)`.
 *
 * - `GET /healthz`: 200 `{"status":"ok"}` when the store is writable and the
 *   public listener is up, else 503 `{"status":"unavailable","reason":…}`.
 * - `GET /metrics`: the Prometheus text exposition.
 *
 * Other methods on those paths get 405, other paths 404.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAdminApp } from "./admin_app.ts";
 * import { createMetrics } from "../metrics.ts";
 * const app = createAdminApp({
 *   health: () => ({ storeWritable: true, listening: true }),
 *   metrics: createMetrics(),
 * });
 * const res = await app.request("/healthz");
 * assert.equal(res.status, 200);
 * ```
 */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
  if (deps.access) app.use(adminHostCheck(deps.access), adminAuth(deps.access));
  if (deps.output) mountOutputStream(app, deps.output);
  if (deps.pages) mountLazyPages(app, deps.pages);

  app.on(["GET", "HEAD"], "/healthz", async function healthz(c) {
    let report: HealthReport;
    try {
      report = await deps.health();
    } catch (error) {
      const reason = `Health check failed: ${error instanceof Error ? error.message : error}`;
      return c.json({ status: "unavailable", reason }, 503, NO_STORE);
    }
    const checks = { store: report.storeWritable, listener: report.listening };
    if (report.storeWritable && report.listening) {
      return c.json({ status: "ok", ...checks }, 200, NO_STORE);
    }
    const reason = report.reason ?? [
      ...(report.storeWritable ? [] : ["the store is not writable"]),
      ...(report.listening ? [] : ["the public listener is not up"]),
    ].join("; ");
    return c.json({ status: "unavailable", reason, ...checks }, 503, NO_STORE);
  });

  app.on(["GET", "HEAD"], "/metrics", async function metrics(c) {
    const text = await deps.metrics.render();
    return c.body(text, 200, { "Content-Type": deps.metrics.contentType, ...NO_STORE });
  });

  app.all("/healthz", methodNotAllowed);
  app.all("/metrics", methodNotAllowed);
  app.notFound(notFound);
  return app;
}

/**
 * The deliveries pages, imported at the first request for one: their views,
 * chart and styles cost memory that a daemon nobody browses should not
 * carry. The paths are the ones `mountDeliveriesPages` serves; anything else
 * under them gets the admin app's own 404.
 */
function mountLazyPages(app: Hono, deps: DeliveriesPageDeps): void {
  let pages: Promise<Hono> | undefined;
  const load = async () => {
    const { mountDeliveriesPages } = await import("./deliveries_page.tsx");
    const sub = new Hono();
    mountDeliveriesPages(sub, deps);
    sub.notFound(notFound);
    return sub;
  };
  const handler = async (c: Context) => {
    pages ??= load();
    pages.catch(() => pages = undefined);
    return await (await pages).fetch(c.req.raw, c.env);
  };
  for (const path of ["/", "/deliveries", "/deliveries/*", STYLE_PATH, SCRIPT_PATH]) {
    app.all(path, handler);
  }
}

function notFound(c: Context): Response {
  return c.json({ error: "Not found: use /healthz or /metrics" }, 404);
}

function methodNotAllowed(c: Context): Response {
  return c.json({ error: "Method not allowed: use GET" }, 405, { Allow: "GET, HEAD" });
}

/**
 * Whether a directory takes writes right now: create, sync and remove a
 * small probe file. Works for root too, where mode bits do not stop writes
 * (a read-only mount, a full disk or a removed directory still do).
 *
 * @param dir the directory, e.g. `HOOKD_STATE_DIR`
 * @returns why it is not writable, or `undefined` when it is
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeWritable } from "./admin_app.ts";
 * const problem = await probeWritable(await Deno.makeTempDir());
 * assert.equal(problem, undefined);
 * ```
 */
export async function probeWritable(dir: string): Promise<string | undefined> {
  const path = `${dir}/.healthz-${crypto.randomUUID()}`;
  try {
    using file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    await file.write(new Uint8Array([0x0a]));
    await file.sync();
  } catch (error) {
    return `The state directory ${dir} is not writable: ${
      error instanceof Error ? error.message : error
    }`;
  } finally {
    await Deno.remove(path).catch(() => {});
  }
  return undefined;
}
