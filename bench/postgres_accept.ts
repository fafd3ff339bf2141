/**
 * `deno task bench --postgres`: the accept path (scenario 1: a signed push,
 * no hook; verify, parse, log, store, 202) of hookd on its SQLite store,
 * and on PostgreSQL with one and with two instances sharing the database
 * (the load split between them, as a load balancer would), same request,
 * same machine, runs alternated, medians. PostgreSQL is a throwaway cluster
 * from Debian's binaries (tests/postgres_cluster.ts) with fsync on, in the same
 * temp directory tree as SQLite's file. Writes its own section of
 * bench/results.md.
 *
 * Options: `--duration S` (10), `--rounds N` (3), `--connections N` (32),
 * `--warmup S` (1), `--client wrk|autocannon` (wrk when installed), `--out FILE`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Client, type LoadResult, runLoad } from "./_load.ts";
import { signedPush } from "./_payload.ts";
import { programVersion, type Server, startServer } from "./_servers.ts";
import { startPostgres } from "../tests/postgres_cluster.ts";
import { writeSection } from "./_sections.ts";
import { median } from "./_numbers.ts";

type Setup = "sqlite" | "postgres-1" | "postgres-2";
const NAMES: Record<Setup, string> = {
  "sqlite": "hookd, SQLite",
  "postgres-1": "hookd, PostgreSQL, 1 instance",
  "postgres-2": "hookd, PostgreSQL, 2 instances",
};

interface Options {
  duration: number;
  rounds: number;
  connections: number;
  warmup: number;
  client: Client;
  out: string;
}

/** One timed run of a setup: its servers up, a warm-up, the load split across them. */
async function runSetup(
  setup: Setup,
  options: Options,
  work: string,
  id: string,
  database: () => Promise<string>,
): Promise<LoadResult> {
  const request = await signedPush();
  const bodyFile = `${work}/push.json`;
  await Deno.writeFile(bodyFile, request.body);
  const instances = setup === "postgres-2" ? 2 : 1;
  const store = setup === "sqlite" ? undefined : await database();
  const servers: Server[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      servers.push(
        await startServer("hookd", {
          hook: "none",
          maxHooks: 4,
          baseDir: work,
          env: store ? { HOOKD_STORE: store, HOOKD_INSTANCE_ID: `bench-${i}` } : {},
        }),
      );
    }
    const headers = (event: string) => ({
      "Content-Type": "application/json",
      "User-Agent": "GitHub-Hookshot/bench",
      "X-GitHub-Event": event,
      "X-GitHub-Hook-ID": "123456789",
      "X-Hub-Signature-256": request.signature,
    });
    const load = (event: string, seconds: number, prefix: string) =>
      Promise.all(servers.map((server, i) =>
        runLoad(options.client, {
          url: server.url,
          bodyFile,
          headers: headers(event),
          seconds,
          connections: Math.max(1, Math.round(options.connections / instances)),
          threads: 2,
          idPrefix: `${prefix}i${i}`,
          workDir: work,
        })
      ));
    if (options.warmup > 0) await load("ping", options.warmup, `${id}w`);
    const results = await load("push", options.duration, id);
    const codes: Record<string, number> = {};
    for (const result of results) {
      for (const [code, n] of Object.entries(result.codes)) codes[code] = (codes[code] ?? 0) + n;
    }
    return {
      requests: results.reduce((sum, r) => sum + r.requests, 0),
      seconds: Math.max(...results.map((r) => r.seconds)),
      rps: results.reduce((sum, r) => sum + r.rps, 0),
      // The slower instance's latencies: what a sender behind the balancer may see.
      p50Ms: Math.max(...results.map((r) => r.p50Ms)),
      p99Ms: Math.max(...results.map((r) => r.p99Ms)),
      codes,
      errors: results.reduce((sum, r) => sum + r.errors, 0),
    };
  } finally {
    for (const server of servers) await server.stop();
  }
}

/**
 * Run the comparison and print (and write) the section.
 *
 * @param args the command line
 */
export async function postgresAcceptMain(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: "string", default: "10" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "32" },
      warmup: { type: "string", default: "1" },
      client: { type: "string" },
      out: { type: "string", default: new URL("./results.md", import.meta.url).pathname },
      postgres: { type: "boolean" },
    },
  });
  const wrk = await programVersion("wrk", ["-v"]);
  const options: Options = {
    duration: Number(values.duration),
    rounds: Number(values.rounds),
    connections: Number(values.connections),
    warmup: Number(values.warmup),
    client: (values.client as Client | undefined) ?? (wrk === null ? "autocannon" : "wrk"),
    out: values.out,
  };
  const work = await Deno.makeTempDir({ prefix: "bench_pg_" });
  const started = new Date();
  const runs = new Map<Setup, LoadResult[]>();
  const setups: Setup[] = ["sqlite", "postgres-1", "postgres-2"];
  try {
    await using cluster = await startPostgres({ durable: true });
    let databases = 0;
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? setups : [...setups].reverse();
      for (const setup of order) {
        const result = await runSetup(
          setup,
          options,
          work,
          `pg${round}${setup.replace("-", "")}`,
          () => cluster.createDatabase(`bench${++databases}`),
        );
        runs.set(setup, [...(runs.get(setup) ?? []), result]);
        console.error(
          `${NAMES[setup]} · round ${round + 1}: ${result.rps.toFixed(0)} req/s, ` +
            `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ` +
            `codes ${JSON.stringify(result.codes)}`,
        );
      }
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const base = median(runs.get("sqlite")!.map((r) => r.rps));
  const lines = [
    `### Accept path on PostgreSQL, ${started.toISOString().slice(0, 10)}`,
    "",
    `- Command: \`deno task bench --postgres --duration ${options.duration} --rounds ${options.rounds}\``,
    `  (bench/postgres_accept.ts). Scenario 1 (a signed 7 KB push, no hook: verify, parse, log,`,
    `  store, 202), ${options.connections} connections in all (split between two instances), ` +
    `${options.client}, runs alternated, medians.`,
    `- PostgreSQL 15 from Debian, a throwaway cluster with fsync on, on the same disk as SQLite's`,
    `  file. Machine: ${navigator.hardwareConcurrency} cores (hookd, PostgreSQL and the load client share them), Deno ${Deno.version.deno}.`,
    "",
    "| Setup | Requests/s | vs SQLite | p50 ms | p99 ms | Answers |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
    ...setups.map((setup) => {
      const rs = runs.get(setup)!;
      const rps = median(rs.map((r) => r.rps));
      const codes = rs.at(-1)!.codes;
      return `| ${NAMES[setup]} | ${rps.toFixed(0)} | ${(rps / base).toFixed(2)} | ${
        median(rs.map((r) => r.p50Ms)).toFixed(2)
      } | ${median(rs.map((r) => r.p99Ms)).toFixed(2)} | ${
        Object.entries(codes).map(([c, n]) => `${c}: ${n}`).join(", ")
      } |`;
    }),
  ];
  const section = lines.join("\n");
  console.log(section);
  if (options.out !== "-") {
    await writeSection(options.out, "postgres-accept", section);
    console.error(`written to ${options.out}`);
  }
}

if (import.meta.main) await postgresAcceptMain(Deno.args);
