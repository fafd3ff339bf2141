/**
 * `deno task bench --page` (or `deno run -A bench/page_render.ts`): how
 * long the admin listener takes to render a page of 50 deliveries, chart
 * included, with 100,000 deliveries in the store, for each filter. The
 * store is a real file (WAL, the daemon's settings) filled through
 * `Store.insert`; runs and final states are then written in bulk. Two
 * layouts: the deliveries spread over the 7-day retention (about 600 in the
 * chart's hour), and all of them in the last hour (the chart's worst case).
 * Prints a markdown table and writes it into bench/results.md between
 * markers, leaving the rest of the file alone.
 *
 * Options: `--deliveries N` (100000), `--samples N` (40 per page),
 * `--dir PATH` (temp directory), `--out FILE|-` (bench/results.md).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { writeSection } from "./_sections.ts";
import { createAdminApp } from "../lib/http/admin_app.ts";
import { createMetrics } from "../lib/metrics.ts";
import { type NewDelivery, openStore } from "../lib/store/mod.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const ENDPOINTS = [
  "github",
  "github",
  "github",
  "github",
  "github",
  "github",
  "gitea",
  "gitea",
  "gitea",
  "netbox",
];
const EVENTS = ["push", "push", "push", "pull_request.opened", "release", "issues.opened"];

/** Options for {@linkcode runPageRender}. */
export interface PageRenderOptions {
  /** Deliveries in the store. */
  deliveries: number;
  /** Timed requests per page (after 5 untimed). */
  samples: number;
  /** Where the temp store goes. */
  dir?: string;
}

interface Measured {
  layout: string;
  page: string;
  rows: number;
  medianMs: number;
  p95Ms: number;
}

/**
 * Fill a store, then time every page.
 *
 * @param options the store size, the samples, the directory
 * @returns the markdown section (markers included)
 */
export async function runPageRender(options: PageRenderOptions): Promise<string> {
  const measured: Measured[] = [];
  const started = new Date();
  for (const layout of ["spread over 7 days", "all in the last hour"] as const) {
    const work = await Deno.makeTempDir({ dir: options.dir, prefix: "bench_page_" });
    try {
      measured.push(...await measureLayout(layout, work, options));
    } finally {
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  }
  return render(measured, options, started);
}

async function measureLayout(
  layout: "spread over 7 days" | "all in the last hour",
  work: string,
  options: PageRenderOptions,
): Promise<Measured[]> {
  const now = Date.now();
  const span = layout === "spread over 7 days" ? 7 * DAY_MS : HOUR_MS;
  let clock = now - span;
  const path = `${work}/hookd.db`;
  const store = openStore(path, { now: () => clock, retentionMs: 8 * DAY_MS });
  const body = new TextEncoder().encode(JSON.stringify({
    ref: "refs/heads/main",
    repository: { full_name: "example/site" },
    commits: Array.from(
      { length: 4 },
      (_, i) => ({ id: `${i}`.repeat(40), message: "x".repeat(150) }),
    ),
  }));
  const t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < options.deliveries; i++) {
    clock = now - span + Math.floor((span * i) / options.deliveries);
    const d: NewDelivery = {
      endpoint: ENDPOINTS[i % ENDPOINTS.length],
      event: EVENTS[i % EVENTS.length],
      sourceId: crypto.randomUUID(),
      receivedAt: clock,
      contentType: "application/json",
      headers: { "x-github-event": "push", "x-hub-signature-256": "[redacted]" },
      body,
      hook: i % 50 === 7 ? null : "/usr/local/bin/deploy",
      timeoutMs: 300_000,
      verifiedBy: "github",
    };
    pending.push(store.insert(d));
    if (pending.length >= 5000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await store.close();
  // Runs and final states in bulk: 3% failed, 1% superseded, 0.2% still queued, the rest done.
  {
    using db = new DatabaseSync(path);
    db.exec(`BEGIN;
      INSERT INTO runs (delivery_id, attempt, started_at, ended_at, duration_ms, outcome, exit_code,
        stdout, stderr)
      SELECT id, 1, received_at + 5, received_at + 5 + d, d,
        CASE WHEN f THEN 'failed' ELSE 'succeeded' END, CASE WHEN f THEN 1 ELSE 0 END,
        'deployed', ''
      FROM (SELECT id, received_at, abs(random()) % 2000 AS d, abs(random()) % 100 < 3 AS f
            FROM deliveries WHERE state = 'queued');
      UPDATE deliveries SET attempts = 1, finished_at = received_at + 2000,
        state = (SELECT CASE r.outcome WHEN 'failed' THEN 'failed' ELSE 'done' END
                 FROM runs r WHERE r.delivery_id = deliveries.id)
      WHERE state = 'queued';
      UPDATE deliveries SET state = 'superseded' WHERE rowid % 100 = 3 AND state = 'done';
      UPDATE deliveries SET state = 'queued' WHERE rowid % 500 = 11 AND state = 'done';
      COMMIT;`);
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  console.error(
    `${layout}: ${options.deliveries} deliveries stored in ${fillSeconds.toFixed(1)} s`,
  );

  // The daemon's connection, reopened: the pages read through it as they do in hookd.
  await using reopened = openStore(path, { retentionMs: 8 * DAY_MS });
  const app = createAdminApp({
    health: () => ({ storeWritable: true, listening: true }),
    metrics: createMetrics(),
    pages: {
      store: reopened,
      // The bench renders pages only; the daemon passes lib/cli's replayOne.
      replay: () => Promise.reject(new Error("the page bench does not replay")),
      endpoints: () => ["github", "gitea", "netbox"],
      adminToken: () => undefined,
      duplicates: () => new Array(60).fill(0),
    },
  });
  const older = (await reopened.list({ limit: 1001 })).at(-1)!.id;
  const some = (await reopened.list({ state: "failed", limit: 1 }))[0].id;
  const pages = [
    "/",
    "/?state=failed",
    "/?state=superseded",
    "/?endpoint=netbox",
    "/?endpoint=gitea&state=failed&since=24h",
    "/?since=15m",
    "/?endpoint=netbox&state=queued&since=1h",
    `/?before=${older}`,
    `/deliveries/${some}`,
  ];
  const out: Measured[] = [];
  for (const page of pages) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < options.samples + 5; i++) {
      const start = performance.now();
      const res = await app.request(page);
      const html = await res.text();
      const ms = performance.now() - start;
      if (res.status !== 200) throw new Error(`${page}: ${res.status}`);
      if (i >= 5) times.push(ms);
      rows = html.match(/<tr data-id=/g)?.length ?? 0;
    }
    times.sort((a, b) => a - b);
    out.push({
      layout,
      page: page.replace(older, "…").replace(some, "…"),
      rows,
      medianMs: times[Math.floor(times.length / 2)],
      p95Ms: times[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)],
    });
    console.error(`  ${page}: median ${out.at(-1)!.medianMs.toFixed(2)} ms (${rows} rows)`);
  }
  return out;
}

function render(measured: Measured[], options: PageRenderOptions, started: Date): string {
  const lines = [
    `### Admin page render, ${started.toISOString().slice(0, 10)}`,
    "",
    `- Command: \`deno task bench --page\` (bench/page_render.ts): ${
      options.deliveries.toLocaleString("en")
    } deliveries in a`,
    "  file store (WAL), the admin app called in process (`app.request`, the HTML read to the end),",
    `  5 warm-up requests then ${options.samples} timed per page; the chart (the last hour from the store) is`,
    `  part of every list page. Machine: ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}.`,
    "- Target: a page of 50 deliveries in under 50 ms (median), filters included.",
    "",
    "| Deliveries | Page | Rows | Median ms | p95 ms |",
    "| --- | --- | ---: | ---: | ---: |",
    ...measured.map((m) =>
      `| ${m.layout} | \`${m.page}\` | ${m.rows} | ${m.medianMs.toFixed(2)} | ${
        m.p95Ms.toFixed(2)
      } |`
    ),
    "",
    `Slowest median: ${Math.max(...measured.map((m) => m.medianMs)).toFixed(2)} ms.`,
  ];
  return lines.join("\n");
}

/**
 * Run from the command line.
 *
 * @param args the arguments
 */
export async function pageRenderMain(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      deliveries: { type: "string", default: "100000" },
      samples: { type: "string", default: "40" },
      dir: { type: "string" },
      out: { type: "string", default: new URL("./results.md", import.meta.url).pathname },
      page: { type: "boolean" },
    },
  });
  const section = await runPageRender({
    deliveries: Number(values.deliveries),
    samples: Number(values.samples),
    dir: values.dir,
  });
  console.log(section);
  if (values.out !== "-") {
    await writeSection(values.out, "page-render", section);
    console.error(`written to ${values.out}`);
  }
}

if (import.meta.main) await pageRenderMain(Deno.args);
