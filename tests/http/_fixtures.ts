/**
 * Shared set-up for the admin page tests: an in-memory store on a fixed
 * clock, filled with deliveries in every state, and the admin app over it.
 *
 * @module
 */

import type { Hono } from "hono";
import { createAdminApp } from "../../lib/http/admin_app.ts";
import type { AdminAuthOptions } from "../../lib/http/admin_auth.ts";
import type { DeliveriesPageDeps } from "../../lib/http/deliveries_page.tsx";
import { createMetrics } from "../../lib/metrics.ts";
import { type NewDelivery, openStore, type Store } from "../../lib/store/mod.ts";
import { delivery as baseDelivery, seed } from "../_delivery.ts";
import { parseConfig } from "../../lib/config/mod.ts";
import { replayOne } from "../../lib/cli/mod.ts";

/**
 * The configuration the pages' replays meet: `github` runs `./deploy.sh` on
 * push (the hook the sample delivery was stored with), `gitea` runs nothing.
 */
export const CONFIG = parseConfig({
  HOOKD_ENDPOINTS: "github,gitea",
  HOOKD_GITHUB_PROVIDER: "github",
  HOOKD_GITHUB_SECRET: "fixture-github-secret-0123456789",
  HOOKD_GITHUB_HOOK_PUSH: "./deploy.sh",
  HOOKD_GITEA_PROVIDER: "gitea",
  HOOKD_GITEA_SECRET: "fixture-gitea-secret-0123456789",
});

/** The fixed "now" of the fixtures, epoch milliseconds (a whole minute). */
export const NOW = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

const encoder = new TextEncoder();

/**
 * The shared test delivery as the page tests see it: received a minute
 * before {@linkcode NOW}, with a sender id of its own.
 *
 * @param overrides fields to change
 * @returns the delivery
 */
export function delivery(overrides: Partial<NewDelivery> = {}): NewDelivery {
  return baseDelivery({
    endpoint: "github",
    sourceId: crypto.randomUUID(),
    receivedAt: NOW - 60_000,
    body: encoder.encode('{"ref":"refs/heads/main","commits":[{"id":"abc"}]}'),
    ...overrides,
  });
}

export { seed };

/** An admin app over a store, with what it was built from. */
export interface Fixture extends Disposable {
  app: Hono;
  /** The pages' store, with its synchronous operations, for the test to set up and inspect. */
  store: Store;
  /** How many times the pages asked the queue to look for work. */
  notified: () => number;
}

/** Options for {@linkcode fixture}. */
export interface FixtureOptions {
  access?: AdminAuthOptions;
  adminToken?: string;
  pages?: Partial<DeliveriesPageDeps>;
  store?: Store;
}

/**
 * The admin app with the pages over an in-memory store (or the one given).
 *
 * @param options access rules, admin token, page overrides
 * @returns the fixture; dispose it to close the store
 */
export function fixture(options: FixtureOptions = {}): Fixture {
  const store = options.store ?? openStore(":memory:", { now: () => NOW });
  let notified = 0;
  const app = createAdminApp({
    health: () => ({ storeWritable: true, listening: true }),
    metrics: createMetrics(),
    access: options.access,
    pages: {
      store: store,
      replay: (id) => replayOne(store, CONFIG, id),
      endpoints: () => ["github", "gitea"],
      adminToken: () => options.adminToken,
      notify: () => void notified++,
      now: () => NOW,
      ...options.pages,
    },
  });
  return {
    app,
    store,
    notified: () => notified,
    // A store passed in belongs to the caller.
    [Symbol.dispose]: () => {
      // SQLite closes before close() returns: a Disposable fixture suffices.
      if (options.store === undefined) void store.close();
    },
  };
}

/**
 * The delivery ids of the list page's table rows, in order.
 *
 * @param html the page
 * @returns the ids
 */
export function rowIds(html: string): string[] {
  return [...html.matchAll(/<tr data-id="([0-9A-Z]{26})"/g)].map((m) => m[1]);
}
