/**
 * The store's share of the accept path, alone: inserts of the bench's signed
 * push into a file store opened as the daemon opens it (WAL, fsync'd before
 * an insert resolves, SQLite's own checkpoints), so many at a time, and the
 * process's CPU per insert (user + system, the fsyncs included). No HTTP, no verify, no log: a change to the schema or
 * the insert shows here with far less noise than in `deno task bench`.
 *
 * Usage: `deno run -A bench/store_insert.ts [--rows 20000] [--concurrency 16]
 * [--dir PATH]`; prints one line. Alternate runs of the variants you compare.
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { type NewDelivery, openStore } from "../lib/store/mod.ts";
import { pushPayload } from "./_payload.ts";

/** Options for {@linkcode measureInserts}. */
export interface StoreInsertOptions {
  /** Inserts timed, after 1,000 untimed. */
  rows: number;
  /** Inserts made together: about how many share a commit. */
  concurrency: number;
  /** Where the temporary store goes (its own directory, removed after). */
  dir?: string;
}

/** What {@linkcode measureInserts} measured. */
export interface StoreInsertResult {
  /** Inserts per second. */
  perSecond: number;
  /** The process's user + system CPU per insert, microseconds. */
  cpuUs: number;
  /** Of which user time. */
  userUs: number;
  /** Inserts per commit, on average. */
  perCommit: number;
}

/**
 * Insert the bench's push `rows` times, `concurrency` at a time, into a new
 * store, and measure.
 *
 * @param options how many, how many at once, where
 * @returns the rate and the CPU per insert
 */
export async function measureInserts(options: StoreInsertOptions): Promise<StoreInsertResult> {
  const dir = await Deno.makeTempDir({ dir: options.dir, prefix: "hookd-store-insert-" });
  try {
    await using store = openStore(`${dir}/hookd.db`);
    const body = new TextEncoder().encode(pushPayload(7_168));
    const row = (): NewDelivery => ({
      endpoint: "github",
      event: "push",
      sourceId: crypto.randomUUID(),
      receivedAt: Date.now(),
      contentType: "application/json",
      headers: {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/bench",
        "x-github-event": "push",
        "x-github-hook-id": "123456789",
        "x-hub-signature-256": "[redacted]",
      },
      body,
      hook: null,
      timeoutMs: 60_000,
      verifiedBy: "github",
    });
    const insertAll = async (n: number) => {
      for (let done = 0; done < n; done += options.concurrency) {
        await Promise.all(Array.from({ length: options.concurrency }, () => store.insert(row())));
      }
    };
    await insertAll(1_000);
    const before = await store.stats();
    const cpu = process.cpuUsage();
    const started = performance.now();
    await insertAll(options.rows);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const after = await store.stats();
    return {
      perSecond: options.rows / seconds,
      cpuUs: (used.user + used.system) / options.rows,
      userUs: used.user / options.rows,
      perCommit: (after.inserted - before.inserted) /
        (after.insertTransactions - before.insertTransactions),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string", default: "20000" },
      concurrency: { type: "string", default: "16" },
      dir: { type: "string" },
    },
  });
  const options = {
    rows: Number(values.rows),
    concurrency: Number(values.concurrency),
    dir: values.dir,
  };
  const r = await measureInserts(options);
  console.log(
    `${options.rows} inserts, ${options.concurrency} at a time: ${r.perSecond.toFixed(0)}/s, ` +
      `${r.perCommit.toFixed(1)} per commit, CPU ${r.cpuUs.toFixed(1)} µs/insert ` +
      `(user ${r.userUs.toFixed(1)}, system ${(r.cpuUs - r.userUs).toFixed(1)})`,
  );
}
