/**
 * The footprint section of `deno task bench` (`deno task bench --scenarios footprint`):
 * what an operator sees in `systemctl status` and `top` before any load, for
 * hookd, adnanh/webhook and the bare Deno + Hono ceiling in one run:
 *
 * - start-up: from spawning the process until its port accepts a connection;
 * - `hookd check` and `hookd deliveries` (SQLite, 200 deliveries stored): wall time;
 * - RSS right after start-up, after 200 signed pushes whose hook is `/bin/true` (the
 *   hooks drained), and after an idle spell (`--idle S`, 60 by default; shorten it for
 *   a quick look, record with 60);
 * - CPU used while idle, per minute (the threads' run time from /proc's schedstat).
 *
 * Rounds alternate the servers' order; the idle spell is taken by the three
 * servers of a round together (each one's own CPU counters), so a round costs
 * one idle spell, not three. `--breakdown` adds hookd's memory at rest in
 * parts: V8 heap, external memory and the rest (code, the runtime, native
 * allocations), what each import costs loaded alone in a scratch process,
 * and the checkpoint worker's isolate (bench/_footprint_probe.ts).
 *
 * Options: `--rounds N` (3), `--idle S` (60), `--requests N` (200),
 * `--breakdown`, `--dir PATH`, `--out FILE|-` (bench/results.md, section
 * `footprint`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { signedPush } from "./_payload.ts";
import { memoryOf, ThreadCpu, treeOf } from "./_proc.ts";
import { type Server, type ServerKind, startServer } from "./_servers.ts";
import { HookCounter } from "./_hook_counter.ts";
import { writeSection } from "./_sections.ts";
import { DAEMON_FLAGS } from "../tests/harness.ts";
import { fmt, median } from "./_numbers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PROBE = `${ROOT}bench/_footprint_probe.ts`;

/** One round's figures for one server. */
interface Figures {
  startMs: number;
  rssStart: number;
  rssAfterLoad: number;
  rssIdle: number;
  idleCpuMsPerMin: number;
  settledCpuMsPerMin: number;
  checkMs?: number;
  deliveriesMs?: number;
}

const KINDS = ["hookd", "adnanh", "ceiling"] as const;

/**
 * Run the footprint section and write it to bench/results.md.
 *
 * @param args the command line after `deno task bench`
 */
export async function footprintMain(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: false,
    options: {
      rounds: { type: "string", default: "3" },
      idle: { type: "string", default: "60" },
      requests: { type: "string", default: "200" },
      breakdown: { type: "boolean", default: false },
      dir: { type: "string" },
      out: { type: "string", default: new URL("./results.md", import.meta.url).pathname },
    },
  });
  const rounds = Number(values.rounds);
  const idleS = Number(values.idle);
  const requests = Number(values.requests);
  const dir = values.dir as string | undefined;
  const loadBefore = loadAverage();
  const request = await signedPush();
  const figures = new Map<string, Figures[]>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [...KINDS] : [...KINDS].reverse();
    const servers: Server[] = [];
    const partial = new Map<string, Partial<Figures>>();
    try {
      for (const kind of order) {
        const t0 = performance.now();
        const server = await startServer(kind as ServerKind, {
          hook: "true",
          maxHooks: 4,
          baseDir: dir,
        });
        const startMs = performance.now() - t0;
        servers.push(server);
        const rssStart = memoryOf(server.pid)?.rss ?? 0;
        await pushes(server, request, requests, `f${round}${kind}`);
        const rssAfterLoad = memoryOf(server.pid)?.rss ?? 0;
        partial.set(kind, { startMs, rssStart, rssAfterLoad });
      }
      const whole = servers.map((s) => new ThreadCpu(s.pid));
      let half: ThreadCpu[] = [];
      const t0 = Date.now();
      while (Date.now() - t0 < idleS * 1000) {
        await sleep(1000);
        for (const cpu of [...whole, ...half]) cpu.sample();
        if (half.length === 0 && Date.now() - t0 >= idleS * 500) {
          half = servers.map((s) => new ThreadCpu(s.pid));
        }
      }
      const t1 = Date.now();
      servers.forEach((server, i) => {
        Object.assign(partial.get(server.kind)!, {
          idleCpuMsPerMin: whole[i].usedMs() * 60_000 / (t1 - t0),
          // V8 shrinks the heap once, some 20-40 s after the last work: the second half shows
          // what an idle daemon costs from then on.
          settledCpuMsPerMin: half[i].usedMs() * 60 / (idleS / 2),
          rssIdle: memoryOf(server.pid)?.rss ?? 0,
        });
      });
      const hookd = servers.find((s) => s.kind === "hookd")!;
      const envFile = `${hookd.dir}/hookd.env`;
      Object.assign(partial.get("hookd")!, {
        checkMs: await timeHookd(["check", "--env-file", envFile], hookd.dir),
        deliveriesMs: await timeHookd(["deliveries", "--env-file", envFile], hookd.dir),
      });
    } finally {
      for (const server of servers) await server[Symbol.asyncDispose]();
    }
    for (const [kind, f] of partial) {
      figures.set(kind, [...(figures.get(kind) ?? []), f as Figures]);
      note(`footprint · round ${round + 1} · ${kind}: ${JSON.stringify(f)}`);
    }
  }
  const lines = renderTable(figures, { rounds, idleS, requests, loadBefore });
  if (values.breakdown) lines.push("", ...await breakdown(dir));
  const text = lines.join("\n") + "\n";
  console.log(text);
  if (values.out !== "-") {
    await writeSection(values.out as string, "footprint", text);
    note(`written to ${values.out}`);
  }
}

/** `n` signed pushes, 4 at a time, each with its own delivery id; then wait for the hooks. */
async function pushes(
  server: Server,
  request: Awaited<ReturnType<typeof signedPush>>,
  n: number,
  prefix: string,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const response = await fetch(server.url, {
        method: "POST",
        body: request.body,
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "GitHub-Hookshot/bench",
          "X-GitHub-Event": "push",
          "X-GitHub-Hook-ID": "1",
          "X-GitHub-Delivery": `${prefix}-${i}`,
          "X-Hub-Signature-256": request.signature,
        },
      });
      await response.body?.cancel();
      if (response.status >= 300) throw new Error(`${server.kind} answered ${response.status}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const deadline = Date.now() + 60_000;
  if (server.kind === "hookd") {
    const counter = new HookCounter(server.logFile);
    while (await counter.read() < n && Date.now() < deadline) await sleep(50);
  } else {
    while (treeOf(server.pid).descendants > 0 && Date.now() < deadline) await sleep(50);
  }
}

/** Wall time of one `hookd` command run as the compile task would run it. */
async function timeHookd(args: string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...DAEMON_FLAGS, `${ROOT}main.ts`, ...args],
    cwd,
    clearEnv: true,
    env: cleanEnv(),
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(`hookd ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    NO_COLOR: "1",
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return env;
}

function renderTable(
  figures: Map<string, Figures[]>,
  run: { rounds: number; idleS: number; requests: number; loadBefore: string },
): string[] {
  const med = (kind: string, pick: (f: Figures) => number | undefined) =>
    median((figures.get(kind) ?? []).map(pick).filter((v): v is number => v !== undefined));
  const rows: [string, (f: Figures) => number | undefined, (n: number) => string][] = [
    ["start-up until the port answers, ms", (f) => f.startMs, (n) => fmt(n, 0)],
    ["`hookd check`, ms", (f) => f.checkMs, (n) => fmt(n, 0)],
    [
      `\`hookd deliveries\` (SQLite, ${run.requests} stored), ms`,
      (f) => f.deliveriesMs,
      (n) => fmt(n, 0),
    ],
    ["RSS at start, MB", (f) => f.rssStart, mb],
    [`RSS after ${run.requests} signed pushes (hook \`/bin/true\`), MB`, (f) => f.rssAfterLoad, mb],
    [`RSS after ${run.idleS} s idle, MB`, (f) => f.rssIdle, mb],
    [`CPU while idle (the ${run.idleS} s), ms/min`, (f) => f.idleCpuMsPerMin, (n) => fmt(n, 1)],
    [
      `CPU while idle (its last ${run.idleS / 2} s), ms/min`,
      (f) => f.settledCpuMsPerMin,
      (n) => fmt(n, 1),
    ],
  ];
  const lines = [
    `### Footprint, ${new Date().toISOString().slice(0, 10)}`,
    "",
    `- Command: \`deno task bench --scenarios footprint${
      otherArgs().map((a) => " " + a).join("")
    }\`; ${run.rounds} round(s), servers alternated, medians; load average ${run.loadBefore} ` +
    `before, ${loadAverage()} after (${navigator.hardwareConcurrency} cores).`,
    "",
    "| | hookd | adnanh/webhook | bare Deno + Hono | hookd / bare |",
    "|---|--:|--:|--:|--:|",
  ];
  for (const [title, pick, show] of rows) {
    const [h, a, c] = KINDS.map((k) => med(k, pick));
    lines.push(
      `| ${title} | ${show(h)} | ${show(a)} | ${show(c)} | ${
        Number.isFinite(h / c) ? `${fmt(h / c, 2)}×` : "–"
      } |`,
    );
  }
  lines.push(
    "",
    `Each server gets ${run.requests} signed 7.7 KB GitHub pushes, 4 at a time, whose hook is ` +
      "`/bin/true`, and the hooks are drained before the RSS is read; then the three idle " +
      `together for ${run.idleS} s. RSS is \`VmRSS\`; CPU is the sum of the process's threads' ` +
      "run time from `/proc/<pid>/task/<tid>/schedstat` (nanoseconds, not 10 ms ticks), sampled " +
      "every second so that threads ending meanwhile count; the last-half row starts after " +
      "V8's one heap shrink some 20-40 s after the last request.",
  );
  return lines;
}

/** The modules whose cost is measured one at a time, each in a fresh scratch process. */
const IMPORTS = [
  "hono",
  "hono/jsx",
  "prom-client",
  "@logtape/logtape",
  "node:sqlite",
  "postgres",
  "node:net",
  "fastest-levenshtein",
  "./lib/log/mod.ts",
  "./lib/metrics.ts",
  "./lib/config/mod.ts",
  "./lib/verify/mod.ts",
  "./lib/store/mod.ts",
  "./lib/store/postgres.ts",
  "./lib/dispatch/mod.ts",
  "./lib/http/app.ts",
  "./lib/http/deliveries_page.tsx",
  "./lib/http/mod.ts",
  "./lib/cli/mod.ts",
  "./lib/daemon.ts",
  "./main.ts",
];

/** hookd's memory at rest in parts, from scratch processes (bench/_footprint_probe.ts). */
async function breakdown(dir?: string): Promise<string[]> {
  const probe = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--max-semi-space-size=2,--expose-gc",
        PROBE,
        ...args,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`probe ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    }
    return JSON.parse(text.trim().split("\n").at(-1)!) as ProbeResult;
  };
  const work = await Deno.makeTempDir({ dir, prefix: "bench_breakdown_" });
  try {
    const empty = await probe("empty");
    const daemon = await probe("daemon", work);
    const withWorker = await probe("store", "true", work);
    const withoutWorker = await probe("store", "false", work);
    daemon.workerRss = withWorker.rss - withoutWorker.rss;
    const lines = [
      "#### hookd's memory at rest, in parts",
      "",
      "One scratch process each (`deno run -A --v8-flags=--expose-gc bench/_footprint_probe.ts`), " +
      "after a full GC; MB.",
      "",
      "| | RSS | V8 heap used | V8 heap total | external | RSS − heap total − external |",
      "|---|--:|--:|--:|--:|--:|",
      row("empty Deno process", empty),
      row("hookd serving (SQLite, one endpoint, admin on)", daemon),
    ];
    if (daemon.workerRss !== undefined) {
      lines.push(
        "",
        `The checkpoint worker's isolate: ${
          mb(daemon.workerRss)
        } MB of RSS (the SQLite store opened alone, with and without it).`,
      );
    }
    lines.push(
      "",
      "| import, alone | + RSS MB | + heap used MB | + external MB |",
      "|---|--:|--:|--:|",
    );
    for (const spec of IMPORTS) {
      const r = await probe("import", spec);
      lines.push(
        `| \`${spec}\` | ${mb(r.rss - empty.rss)} | ${mb(r.heapUsed - empty.heapUsed)} | ${
          mb(r.external - empty.external)
        } |`,
      );
    }
    return lines;
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

interface ProbeResult {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  workerRss?: number;
}

function row(title: string, r: ProbeResult): string {
  return `| ${title} | ${mb(r.rss)} | ${mb(r.heapUsed)} | ${mb(r.heapTotal)} | ${
    mb(r.external)
  } | ${mb(r.rss - r.heapTotal - r.external)} |`;
}

/** The command line without the words that chose this section. */
function otherArgs(): string[] {
  return Deno.args.filter((a, i) =>
    !a.includes("footprint") && !(a === "--scenarios" && Deno.args[i + 1] === "footprint")
  );
}

function mb(bytes: number): string {
  return fmt(bytes / 2 ** 20, 1);
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

function note(text: string): void {
  console.error(`bench: ${text}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
