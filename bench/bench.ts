/**
 * `deno task bench`: hookd against adnanh/webhook (the peer), a bare
 * Deno + Hono + WebCrypto server (the ceiling) and the durable ceiling (the
 * ceiling plus `JSON.parse` and a group-fsync'd append to one file: the
 * least any receiver on this runtime does before a durable 2xx), same
 * request, same machine, same run, runs alternated; prints medians and
 * ratios as a markdown table and writes it to bench/results.md.
 *
 * Scenarios:
 * 1. a signed push with no hook for it (hookd: limit, verify, parse, log, store, 202);
 * 2. a signed push whose hook is `/bin/true` (hooks completed per second, until drained;
 *    hookd with `HOOKD_MAX_CONCURRENT_HOOKS=32`, as adnanh has no cap and the load has 32
 *    connections);
 * 3. a burst of 10,000 pushes whose hook is `sleep 1` (peak RSS and process count);
 * 4. pushes with a wrong signature (the cost of rejecting).
 *
 * `--scenarios footprint` (or `--footprint`) runs the footprint section instead
 * (bench/footprint.ts: start-up, `hookd check`, RSS at start, after 200 signed pushes and
 * after an idle spell, idle CPU per minute, for hookd, adnanh/webhook and the bare ceiling;
 * `--idle S` shortens the 60 s idle spell for a quick look, `--rounds N`, `--breakdown`
 * adds hookd's memory in parts), which keeps its own section of bench/results.md.
 *
 * `--page` runs the admin page's render scenario instead (bench/page_render.ts:
 * a page of 50 deliveries with 100,000 in the store), which keeps its own
 * section of bench/results.md; `--postgres` the accept path on PostgreSQL with
 * one and two instances against SQLite (bench/postgres_accept.ts), likewise.
 *
 * Options: `--duration S` (10), `--rounds N` (3), `--connections N` (32),
 * `--burst N` (10000), `--max-hooks N` (4), `--warmup S` (1), `--settle S` (5),
 * `--scenarios 1,2,3,4`, `--tmpfs DIR` (a tmpfs for scenario 2's second hookd line; default the first writable one outside /dev), `--client wrk|autocannon` (wrk when installed),
 * `--servers hookd,adnanh,ceiling,durable` (which to run), `--server-env NAME=VALUE` (more
 * environment for every server, repeatable), `--hookd-flags='FLAGS'` (extra
 * `deno run` flags for hookd, e.g. V8 heap limits), `--dir PATH` (temp directories; hookd fsyncs its store there), `--out FILE`
 * (bench/results.md; `--out -` writes none), `--profile DIR` (hookd's V8 CPU
 * profiles, one per run; summarise one with `deno run -A bench/_cpuprofile.ts FILE`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { AUTOCANNON, burst, type Client, type LoadResult, runLoad } from "./_load.ts";
import { signedPush } from "./_payload.ts";
import { pageRenderMain } from "./page_render.ts";
import { postgresAcceptMain } from "./postgres_accept.ts";
import { footprintMain } from "./footprint.ts";
import { writeSection } from "./_sections.ts";
import { HookCounter } from "./_hook_counter.ts";
import { cpuTimeOf, memoryOf, Sampler, treeOf } from "./_proc.ts";
import {
  type HookPlan,
  isHookd,
  programVersion,
  type Server,
  type ServerKind,
  startServer,
} from "./_servers.ts";
import { fmt, median } from "./_numbers.ts";

/** The bench's settings. */
export interface BenchOptions {
  duration: number;
  rounds: number;
  connections: number;
  threads: number;
  burst: number;
  maxHooks: number;
  warmup: number;
  settle: number;
  drainTimeout: number;
  scenarios: number[];
  client: Client;
  dir?: string;
  /** A tmpfs directory for scenario 2's second hookd line (`RUNTIME_DIRECTORY` there). */
  tmpfs?: string;
  out: string;
  /** Extra `deno run` flags for hookd, e.g. `--v8-flags=--max-semi-space-size=2`. */
  hookdFlags: string[];
  /** More environment for every server, e.g. `LD_PRELOAD` of a shim that slows fsync. */
  serverEnv: Record<string, string>;
  /** Which servers to run (default: all that are installed). */
  servers: ServerKind[];
  /** Write hookd's V8 CPU profiles here (`--cpu-prof`), one per run. */
  profile?: string;
}

/** One run of one server in one scenario. */
interface Run {
  load: LoadResult;
  /** `VmHWM` of the server process at the end of the run, bytes. */
  peakRss: number;
  /**
   * CPU time per answer during the load, microseconds; in scenario 2 per
   * completed hook from the start of the load until drained, the hook
   * processes' time included.
   */
  cpuUs?: number;
  /** Scenario 2: hooks completed, and per second from the start of the load until drained. */
  hooks?: number;
  hooksPerSecond?: number;
  drained?: boolean;
  /** Scenario 2, hookd: log lines saying `queue error` or `database is locked`. */
  logErrors?: number;
  /** Scenario 3. */
  maxChildren?: number;
  maxDescendants?: number;
  sampledRss?: number;
}

const SCENARIOS: Record<number, { title: string; hook: HookPlan; badSignature?: boolean }> = {
  1: { title: "1 · signed push, no hook", hook: "none" },
  2: { title: "2 · hook `/bin/true` per push", hook: "true" },
  3: { title: "3 · burst, hook `sleep 1`", hook: "sleep" },
  4: { title: "4 · wrong signature", hook: "none", badSignature: true },
};

function parseOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: "string", default: "10" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "32" },
      threads: { type: "string", default: String(Math.min(navigator.hardwareConcurrency, 4)) },
      burst: { type: "string", default: "10000" },
      "max-hooks": { type: "string", default: "4" },
      warmup: { type: "string", default: "1" },
      settle: { type: "string", default: "5" },
      "drain-timeout": { type: "string", default: "180" },
      scenarios: { type: "string", default: "1,2,3,4" },
      client: { type: "string" },
      dir: { type: "string" },
      tmpfs: { type: "string" },
      profile: { type: "string" },
      servers: { type: "string", default: "hookd,adnanh,ceiling,durable" },
      "hookd-flags": { type: "string", default: "" },
      "server-env": { type: "string", multiple: true, default: [] },
      out: { type: "string", default: new URL("./results.md", import.meta.url).pathname },
      help: { type: "boolean", short: "h" },
      page: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno task bench [--duration S] [--rounds N] [--connections N] [--burst N]\n" +
        "  [--max-hooks N] [--warmup S] [--settle S] [--scenarios 1,2,3,4]\n" +
        "  [--client wrk|autocannon] [--dir PATH] [--out FILE|-] [--profile DIR]\n" +
        "  [--servers hookd,adnanh,ceiling,durable] [--hookd-flags='DENO FLAGS']\n" +
        "  [--server-env NAME=VALUE ...]\n" +
        "   or: deno task bench --scenarios footprint [--rounds N] [--idle S] [--breakdown]\n" +
        "       [--dir PATH] [--out FILE|-] (start-up, RSS, idle CPU; bench/footprint.ts)\n" +
        "   or: deno task bench --page [--deliveries N] [--samples N] [--dir PATH] [--out FILE|-]\n" +
        "       (the admin page's render time, bench/page_render.ts)",
    );
    Deno.exit(0);
  }
  const number = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) {
      throw new Error(`--${name} must be a number ≥ ${min}: got ${text}`);
    }
    return n;
  };
  const scenarios = values.scenarios.split(",").map((s) => number("scenarios", s.trim(), 1));
  if (scenarios.some((s) => !(s in SCENARIOS))) throw new Error("--scenarios lists 1, 2, 3 or 4");
  if (values.client !== undefined && values.client !== "wrk" && values.client !== "autocannon") {
    throw new Error(`--client must be wrk or autocannon: got ${values.client}`);
  }
  return {
    duration: number("duration", values.duration, 1),
    rounds: Math.floor(number("rounds", values.rounds, 1)),
    connections: Math.floor(number("connections", values.connections, 1)),
    threads: Math.floor(number("threads", values.threads, 1)),
    burst: Math.floor(number("burst", values.burst, 1)),
    maxHooks: Math.floor(number("max-hooks", values["max-hooks"], 1)),
    warmup: number("warmup", values.warmup, 0),
    settle: number("settle", values.settle, 0),
    drainTimeout: number("drain-timeout", values["drain-timeout"], 1),
    scenarios: [...new Set(scenarios)].sort(),
    client: (values.client as Client | undefined) ?? "wrk",
    dir: values.dir,
    tmpfs: values.tmpfs,
    out: values.out,
    profile: values.profile,
    hookdFlags: values["hookd-flags"].split(/\s+/).filter((flag) => flag !== ""),
    serverEnv: Object.fromEntries(values["server-env"].map((pair) => {
      const at = pair.indexOf("=");
      if (at < 1) throw new Error(`--server-env wants NAME=VALUE: got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    })),
    servers: values.servers.split(",").map((name) => {
      if (!(SERVER_KINDS as readonly string[]).includes(name)) {
        throw new Error(`--servers lists ${SERVER_KINDS.join(", ")}: got ${name}`);
      }
      return name as ServerKind;
    }),
  };
}

async function main(): Promise<void> {
  if (Deno.args.includes("--page")) return await pageRenderMain(Deno.args);
  if (Deno.args.includes("--postgres")) return await postgresAcceptMain(Deno.args);
  const scenarios = Deno.args.indexOf("--scenarios");
  if (
    Deno.args.includes("--footprint") ||
    (scenarios !== -1 && Deno.args[scenarios + 1] === "footprint") ||
    Deno.args.includes("--scenarios=footprint")
  ) {
    return await footprintMain(Deno.args);
  }
  const options = parseOptions(Deno.args);
  const wrkVersion = await programVersion("wrk", ["-v"]);
  if (options.client === "wrk" && wrkVersion === null) {
    note(`wrk is not installed: using ${AUTOCANNON} (install wrk: apt-get install wrk)`);
    options.client = "autocannon";
  }
  const webhookVersion = await programVersion("webhook", ["-version"]);
  if (webhookVersion === null) {
    note(
      "adnanh/webhook is not installed: skipping the peer (install it: apt-get install webhook)",
    );
  }
  const kinds = (["hookd", "adnanh"] as const).filter((kind) =>
    options.servers.includes(kind) && (kind !== "adnanh" || webhookVersion !== null)
  );
  const ceilings = CEILINGS.filter((kind) => options.servers.includes(kind));
  options.tmpfs ??= await findTmpfs();
  if (options.scenarios.includes(2) && !options.tmpfs) {
    note("no tmpfs Deno may write (it refuses /dev/shm): scenario 2 runs hookd on disk only");
  }

  const request = await signedPush();
  const work = await Deno.makeTempDir({ dir: options.dir, prefix: "bench_" });
  const bodyFile = `${work}/push.json`;
  await Deno.writeFile(bodyFile, request.body);
  const started = new Date();
  const loadBefore = loadAverage();
  const runs = new Map<string, Run[]>();
  try {
    for (const scenario of options.scenarios) {
      const spec = SCENARIOS[scenario];
      // Scenario 2 runs hookd twice: state dir on disk, and payload files on a tmpfs.
      const servers: ServerKind[] = scenario === 1 || scenario === 4
        ? [...kinds, ...ceilings]
        : scenario === 2 && kinds.includes("hookd") && options.tmpfs
        ? [...kinds, "hookd_tmpfs"]
        : kinds;
      for (let round = 0; round < options.rounds; round++) {
        // Alternate the order so that drift in the machine's load hits everyone.
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        for (const kind of order) {
          const id = `s${scenario}r${round}${kind}`;
          const ctx: RunContext = { options, kind, scenario, id, bodyFile, request, work };
          const run = scenario === 3 ? await burstRun(ctx) : await timedRun(ctx, spec.hook);
          const key = `${scenario}/${kind}`;
          runs.set(key, [...(runs.get(key) ?? []), run]);
          note(`${spec.title} · round ${round + 1} · ${kind}: ${describeRun(run)}`);
        }
      }
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }

  const table = await renderResults({
    options,
    runs,
    kinds,
    started,
    loadBefore,
    loadAfter: loadAverage(),
    bodyBytes: request.body.byteLength,
    wrkVersion,
    webhookVersion,
  });
  console.log(table);
  if (options.out !== "-") {
    // Only this run's section changes: the page-render section (bench/page_render.ts) and
    // the history of earlier runs stay.
    await writeSection(options.out, "latest-run", table);
    note(`written to ${options.out}`);
  }
}

interface RunContext {
  options: BenchOptions;
  kind: ServerKind;
  scenario: number;
  id: string;
  bodyFile: string;
  request: Awaited<ReturnType<typeof signedPush>>;
  work: string;
}

function headersFor(ctx: RunContext, event: string): Record<string, string> {
  const bad = SCENARIOS[ctx.scenario].badSignature === true;
  return {
    "Content-Type": "application/json",
    "User-Agent": "GitHub-Hookshot/bench",
    "X-GitHub-Event": event,
    "X-GitHub-Hook-ID": "123456789",
    "X-Hub-Signature-256": bad ? ctx.request.badSignature : ctx.request.signature,
  };
}

/** hookd's hook cap in scenario 2: adnanh/webhook has none, and the load keeps 32 requests open. */
const SCENARIO_2_MAX_HOOKS = 32;

/** Scenarios 1, 2 and 4: a warm-up of `ping`s, then the timed load. */
async function timedRun(ctx: RunContext, hook: HookPlan): Promise<Run> {
  const { options } = ctx;
  await using server = await startServer(ctx.kind, {
    hook,
    maxHooks: ctx.scenario === 2 ? SCENARIO_2_MAX_HOOKS : options.maxHooks,
    baseDir: options.dir,
    tmpfs: options.tmpfs,
    denoFlags: hookdFlags(options, ctx),
    env: options.serverEnv,
  });
  const base = {
    url: server.url,
    bodyFile: ctx.bodyFile,
    connections: options.connections,
    threads: options.threads,
    workDir: ctx.work,
  };
  if (options.warmup > 0) {
    // `ping` (signed, no hook anywhere) warms the JIT without queueing hooks.
    await runLoad(options.client, {
      ...base,
      headers: { ...headersFor(ctx, "ping"), "X-Hub-Signature-256": ctx.request.signature },
      seconds: options.warmup,
      idPrefix: `${ctx.id}w`,
    });
  }
  const t0 = Date.now();
  const cpu0 = cpuTimeOf(server.pid);
  const tree0 = treeOf(server.pid);
  const load = await runLoad(options.client, {
    ...base,
    headers: headersFor(ctx, "push"),
    seconds: options.duration,
    idPrefix: ctx.id,
  });
  const cpu1 = cpuTimeOf(server.pid);
  const run: Run = { load, peakRss: 0 };
  if (cpu0 && cpu1) run.cpuUs = (cpu1.self - cpu0.self) * 1000 / load.requests;
  if (ctx.scenario === 2) {
    Object.assign(run, await drain(server, load, t0, options.drainTimeout));
    // The daemon, its reaped children and its live ones (the hooks' CPU is in
    // the daemon's counters once they are reaped).
    const tree2 = treeOf(server.pid);
    if (run.hooks) run.cpuUs = (tree2.cpuMs - tree0.cpuMs) * 1000 / run.hooks;
  }
  run.peakRss = memoryOf(server.pid)?.peak ?? 0;
  return run;
}

/**
 * Wait until every accepted delivery's hook has run. hookd: count the
 * `"type":"hook"` records and take the last one's time; adnanh (no queue,
 * one goroutine per request): every 200 forked a command, so wait until the
 * process has no children left.
 */
async function drain(
  server: Server,
  load: LoadResult,
  t0: number,
  timeoutS: number,
): Promise<{ hooks: number; hooksPerSecond: number; drained: boolean; logErrors?: number }> {
  const deadline = Date.now() + timeoutS * 1000;
  if (isHookd(server.kind)) {
    const expected = load.codes["202"] ?? 0;
    const tail = new HookCounter(server.logFile);
    while (await tail.read() < expected && Date.now() < deadline) await sleep(100);
    if (tail.firstFailure) throw new Error(`hookd's hooks failed: ${tail.firstFailure}`);
    if (tail.firstError) {
      note(`the first of ${tail.errors} error lines in hookd's log: ${tail.firstError}`);
    }
    const seconds = (tail.lastTime - t0) / 1000;
    return {
      hooks: tail.count,
      hooksPerSecond: seconds > 0 ? tail.count / seconds : 0,
      logErrors: tail.errors,
      drained: tail.count >= expected,
    };
  }
  const expected = load.codes["200"] ?? 0;
  let zeros = 0;
  while (zeros < 2 && Date.now() < deadline) {
    zeros = treeOf(server.pid).descendants === 0 ? zeros + 1 : 0;
    if (zeros < 2) await sleep(25);
  }
  const seconds = (Date.now() - t0) / 1000;
  return { hooks: expected, hooksPerSecond: expected / seconds, drained: zeros >= 2 };
}

/** Scenario 3: a fixed burst, the server's memory and process tree sampled throughout. */
async function burstRun(ctx: RunContext): Promise<Run> {
  const { options } = ctx;
  await using server = await startServer(ctx.kind, {
    hook: "sleep",
    maxHooks: options.maxHooks,
    baseDir: options.dir,
    denoFlags: hookdFlags(options, ctx),
    env: options.serverEnv,
  });
  const sampler = new Sampler(server.pid, 200);
  let load: LoadResult;
  try {
    load = await burst({
      url: server.url,
      body: ctx.request.body,
      headers: headersFor(ctx, "push"),
      total: options.burst,
      connections: options.connections,
      idPrefix: ctx.id,
    });
    // Watch the hooks run for a while; adnanh is done once its last sleep exits.
    const until = Date.now() + options.settle * 1000;
    while (Date.now() < until && !(!isHookd(ctx.kind) && sampler.sample().descendants === 0)) {
      await sleep(200);
    }
  } finally {
    sampler.stop();
  }
  const run: Run = {
    load,
    peakRss: memoryOf(server.pid)?.peak ?? 0,
    // hookd starts each hook in a session and process group of its own.
    maxChildren: isHookd(ctx.kind) ? sampler.samples.maxGroupLeaders : sampler.samples.maxChildren,
    maxDescendants: sampler.samples.maxDescendants,
    sampledRss: sampler.samples.maxRss,
  };
  if (isHookd(ctx.kind)) {
    run.hooks = await new HookCounter(server.logFile).read();
  } else {
    // Orphaned sleeps would weigh on the next run: let them finish first.
    const deadline = Date.now() + 60_000;
    while (treeOf(server.pid).descendants > 0 && Date.now() < deadline) await sleep(200);
  }
  return run;
}

function hookdFlags(options: BenchOptions, ctx: RunContext): string[] | undefined {
  if (!isHookd(ctx.kind)) return undefined;
  if (options.profile === undefined) return options.hookdFlags;
  return [
    ...options.hookdFlags,
    "--cpu-prof",
    `--cpu-prof-dir=${options.profile}`,
    `--cpu-prof-name=${ctx.id}.cpuprofile`,
  ];
}

function describeRun(run: Run): string {
  const parts = [
    `${fmt(run.load.rps, 0)} req/s`,
    `p50 ${fmt(run.load.p50Ms, 2)} ms`,
    `p99 ${fmt(run.load.p99Ms, 2)} ms`,
    `peak RSS ${mb(run.peakRss)} MB`,
    `CPU ${fmt(run.cpuUs ?? NaN, 0)} µs/answer`,
    `answers ${answers([run])}`,
  ];
  if (run.hooksPerSecond !== undefined) {
    parts.push(
      `${run.hooks} hooks, ${fmt(run.hooksPerSecond, 0)} hooks/s${
        run.drained ? "" : " (not drained)"
      }${run.logErrors ? `, ${run.logErrors} queue-error/locked log lines` : ""}`,
    );
  }
  if (run.maxChildren !== undefined) {
    parts.push(`max ${run.maxChildren} children / ${run.maxDescendants} descendants`);
  }
  return parts.join(", ");
}

interface Report {
  options: BenchOptions;
  runs: Map<string, Run[]>;
  kinds: ServerKind[];
  started: Date;
  loadBefore: string;
  loadAfter: string;
  bodyBytes: number;
  wrkVersion: string | null;
  webhookVersion: string | null;
}

const NAMES: Record<ServerKind, string> = {
  hookd: "hookd",
  hookd_tmpfs: "hookd, RUNTIME_DIRECTORY on tmpfs",
  adnanh: "adnanh/webhook",
  ceiling: "ceiling (Deno.serve + Hono + verify)",
  durable: "durable ceiling (+ parse, group-fsync'd append)",
};

const SERVER_KINDS = ["hookd", "adnanh", "ceiling", "durable"] as const;
/** The reference servers, run in scenarios 1 and 4 only. */
const CEILINGS = ["ceiling", "durable"] as const;

async function renderResults(report: Report): Promise<string> {
  const { options, runs } = report;
  const get = (scenario: number, kind: ServerKind) => runs.get(`${scenario}/${kind}`) ?? [];
  const med = (scenario: number, kind: ServerKind, pick: (r: Run) => number | undefined) =>
    median(get(scenario, kind).map(pick).filter((v): v is number => v !== undefined));
  const cpu = /^model name\s*:\s*(.*)$/m.exec(
    await Deno.readTextFile("/proc/cpuinfo").catch(() => ""),
  )?.[1];
  const fsType = await filesystemOf(options.dir ?? Deno.env.get("TMPDIR") ?? "/tmp");
  const command = `deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}`;
  const client = options.client === "wrk"
    ? `${report.wrkVersion ?? "wrk"}`.replace(/ Copyright.*$/, "")
    : AUTOCANNON;
  const lines: string[] = [];
  lines.push(
    `### Benchmark, ${report.started.toISOString().slice(0, 10)}`,
    "",
    `- Machine: ${navigator.hardwareConcurrency} cores (\`nproc\`)${cpu ? `, ${cpu}` : ""}, ` +
      `Linux ${Deno.osRelease()}, Deno ${Deno.version.deno}, temp dirs on ${fsType}; ` +
      `load average ${report.loadBefore} before, ${report.loadAfter} after (other work was running: ` +
      `only ratios within this run count).`,
    `- Command: \`${command}\`, at commit ${await commitOf()}`,
    `- Load: ${client}, ${options.connections} connections, ${options.duration} s per run after ` +
      `${options.warmup} s of warm-up; a ${
        fmt(report.bodyBytes, 0)
      }-byte signed GitHub push with a ` +
      `new \`X-GitHub-Delivery\` each; ${options.rounds} round(s), servers alternated, medians shown.`,
    `- Peer: ${report.webhookVersion ?? "adnanh/webhook not installed: skipped"}` +
      (report.webhookVersion
        ? " (hooks.json: `payload-hmac-sha256` on `X-Hub-Signature-256`, then the event)."
        : "."),
    "",
  );

  const timed = options.scenarios.filter((s) => s !== 3);
  if (timed.length > 0) {
    lines.push(
      "| Scenario | Server | Requests/s | p50 ms | p99 ms | Peak RSS MB | CPU µs/req | Hooks/s | Answers |",
      "|---|---|--:|--:|--:|--:|--:|--:|---|",
    );
    for (const scenario of timed) {
      const servers: ServerKind[] = scenario === 2
        ? [...report.kinds, "hookd_tmpfs"]
        : [...report.kinds, ...CEILINGS];
      let first = true;
      for (const kind of servers) {
        const rs = get(scenario, kind);
        if (rs.length === 0) continue;
        const hooks = scenario === 2 ? fmt(med(scenario, kind, (r) => r.hooksPerSecond), 0) : "–";
        lines.push(
          `| ${first ? SCENARIOS[scenario].title : ""} | ${NAMES[kind]} | ` +
            `${fmt(med(scenario, kind, (r) => r.load.rps), 0)} | ` +
            `${fmt(med(scenario, kind, (r) => r.load.p50Ms), 2)} | ` +
            `${fmt(med(scenario, kind, (r) => r.load.p99Ms), 2)} | ` +
            `${mb(med(scenario, kind, (r) => r.peakRss))} | ` +
            `${fmt(med(scenario, kind, (r) => r.cpuUs), 0)} | ${hooks} | ${answers(rs)} |`,
        );
        first = false;
      }
      for (
        const [mine, other] of [
          ...(["adnanh", ...CEILINGS] as const).map((o) => ["hookd", o] as const),
          ["hookd_tmpfs", "adnanh"] as const,
        ]
      ) {
        if (get(scenario, other).length === 0 || get(scenario, mine).length === 0) continue;
        const ratio = (pick: (r: Run) => number | undefined) =>
          times(med(scenario, mine, pick) / med(scenario, other, pick));
        lines.push(
          `| | *${NAMES[mine]} / ${other}* | *${ratio((r) => r.load.rps)}* | *${
            ratio((r) => r.load.p50Ms)
          }* | ` +
            `*${ratio((r) => r.load.p99Ms)}* | *${ratio((r) => r.peakRss)}* | ` +
            `*${ratio((r) => r.cpuUs)}* | ` +
            `${scenario === 2 ? `*${ratio((r) => r.hooksPerSecond)}*` : "–"} | |`,
        );
      }
    }
    lines.push("");
  }

  if (options.scenarios.includes(3)) {
    lines.push(
      `| ${SCENARIOS[3].title}: ${
        fmt(options.burst, 0)
      } pushes, ${options.connections} at a time ` +
        `| Accepted | Burst req/s | Peak RSS MB | Most hook processes | Most processes | Hooks done |`,
      "|---|--:|--:|--:|--:|--:|--:|",
    );
    for (const kind of report.kinds) {
      const rs = get(3, kind);
      if (rs.length === 0) continue;
      lines.push(
        `| ${NAMES[kind]} | ${fmt(med(3, kind, (r) => accepted(r.load)), 0)} | ` +
          `${fmt(med(3, kind, (r) => r.load.rps), 0)} | ${mb(med(3, kind, (r) => r.peakRss))} | ` +
          `${fmt(Math.max(...rs.map((r) => r.maxChildren ?? 0)), 0)} | ` +
          `${fmt(Math.max(...rs.map((r) => r.maxDescendants ?? 0)), 0)} | ` +
          `${
            kind === "hookd"
              ? `${fmt(med(3, kind, (r) => r.hooks), 0)} in ${options.settle} s after the burst`
              : "all"
          } |`,
      );
    }
    lines.push(
      "",
      `hookd runs at most \`HOOKD_MAX_CONCURRENT_HOOKS=${options.maxHooks}\` hooks; the rest wait in ` +
        "its store. adnanh/webhook forks one command per request. Hook processes are the " +
        "daemon's descendants (for hookd: those leading a process group of their own, as every " +
        "hook does). Processes are counted by " +
        "sampling /proc every 200 ms (the maxima are over all rounds); peak RSS is the daemon's " +
        "own `VmHWM`, its children excluded.",
      "",
    );
  }

  lines.push(...targets(report, med), "");
  lines.push(
    "What each side does: hookd (this checkout, `deno run` with the compile task's permissions, " +
      "stderr to a file) limits the body, verifies the HMAC, parses the JSON, logs a JSON line and " +
      "commits the delivery to SQLite (fsync) before answering 202, or 401 for a wrong signature; " +
      "with a hook it also writes the payload file and runs the command (`posix_spawn` of " +
      "the program directly, or of `/bin/sh -c` for a line with shell syntax). " +
      "adnanh/webhook (no `-verbose`: it logs nothing) parses the JSON, checks the HMAC and the " +
      "event, answers 200 and forks the command directly (no shell) with no queue or store; a " +
      "wrong signature gets 500. In scenario 1 its rule wants `ping`, so the push is verified and " +
      "answered 200 without a command. The ceiling reads the body, verifies the HMAC with " +
      "WebCrypto and answers 202 (401 when wrong): no limit, no parse, no log, no store. Hooks/s " +
      "counts completed hooks from the start of the load until the last one finished. CPU µs/req " +
      "is the server process's user + system time (/proc) over the timed load divided by the " +
      "answers, a figure less sensitive than requests/s to the machine's other load; in scenario 2 " +
      "it is per completed hook, from the start of the load until drained, the hook processes' " +
      "time included.",
  );
  return lines.join("\n") + "\n";
}

function targets(
  report: Report,
  med: (scenario: number, kind: ServerKind, pick: (r: Run) => number | undefined) => number,
): string[] {
  const { options, runs } = report;
  const has = (scenario: number, kind: ServerKind) =>
    (runs.get(`${scenario}/${kind}`) ?? []).length > 0;
  const out = ["Targets (issue 12), from this run:", ""];
  const check = (ok: boolean, text: string) => out.push(`- ${ok ? "✅" : "❌"} ${text}`);
  const rps = (kind: ServerKind) => med(1, kind, (x) => x.load.rps);
  if (has(1, "hookd") && has(1, "durable")) {
    const r = rps("hookd") / rps("durable");
    check(r >= 0.7, `accept path at ≥ 0.70× the durable ceiling's requests/s: ${times(r)}`);
  }
  if (has(1, "hookd") && has(1, "adnanh")) {
    const r = rps("hookd") / rps("adnanh");
    check(r >= 1, `accept path at ≥ 1.0× adnanh/webhook's requests/s: ${times(r)}`);
    const p99 = med(1, "hookd", (x) => x.load.p99Ms);
    const peer = med(1, "adnanh", (x) => x.load.p99Ms);
    check(p99 <= peer, `accept path p99 at most adnanh's: ${fmt(p99, 2)} vs ${fmt(peer, 2)} ms`);
  }
  if (has(2, "hookd") && has(2, "adnanh")) {
    const cpu = med(2, "hookd", (x) => x.cpuUs) / med(2, "adnanh", (x) => x.cpuUs);
    check(cpu <= 2, `CPU per completed hook at most 2.0× adnanh's: ${times(cpu)}`);
    const r = med(2, "hookd", (x) => x.hooksPerSecond) / med(2, "adnanh", (x) => x.hooksPerSecond);
    check(r >= 0.5, `hooks/s at least 0.5× adnanh/webhook's: ${times(r)}`);
  }
  if (has(3, "hookd")) {
    const rs = runs.get("3/hookd")!;
    const rss = Math.max(...rs.map((r) => r.peakRss));
    const procs = Math.max(...rs.map((r) => r.maxChildren ?? 0));
    check(rss < 150 * 2 ** 20, `scenario 3 RSS under 150 MB: ${mb(rss)} MB at most`);
    check(
      procs <= options.maxHooks,
      `scenario 3 never more than ${options.maxHooks} hook processes: ${procs} at most`,
    );
  }
  return out;
}

function answers(rs: Run[]): string {
  const sum: Record<string, number> = {};
  let total = 0;
  for (const r of rs) {
    for (const [status, count] of Object.entries(r.load.codes)) {
      sum[status] = (sum[status] ?? 0) + count;
      total += count;
    }
    if (r.load.errors > 0) {
      sum.errors = (sum.errors ?? 0) + r.load.errors;
      total += r.load.errors;
    }
  }
  return Object.entries(sum)
    .sort(([, a], [, b]) => b - a)
    .map(([status, count]) =>
      count === total ? status : `${status} ${fmt(count / total * 100, 0)}%`
    )
    .join(", ");
}

function accepted(load: LoadResult): number {
  return Object.entries(load.codes)
    .filter(([status]) => status.startsWith("2"))
    .reduce((sum, [, count]) => sum + count, 0);
}

function mb(bytes: number): string {
  return fmt(bytes / 2 ** 20, 0);
}

function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${fmt(ratio, 2)}×` : "–";
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

async function filesystemOf(path: string): Promise<string> {
  try {
    const out = await new Deno.Command("df", { args: ["--output=fstype", path], stdout: "piped" })
      .output();
    return new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)?.trim() || "?";
  } catch {
    return "?";
  }
}

/** The checkout's commit, with `+changes` when the work tree differs from it. */
async function commitOf(): Promise<string> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  };
  const sha = await git("rev-parse", "--short", "HEAD").catch(() => undefined);
  if (!sha) return "(not a git checkout)";
  const dirty = await git("status", "--porcelain", "--untracked-files=no").catch(() => "");
  return dirty ? `\`${sha}\` +changes` : `\`${sha}\``;
}

/** A writable tmpfs mount outside /dev, /sys and /proc (which Deno refuses without -A). */
async function findTmpfs(): Promise<string | undefined> {
  const mounts = await Deno.readTextFile("/proc/mounts").catch(() => "");
  for (const line of mounts.split("\n")) {
    const [, target, type, flags] = line.split(" ");
    if (type !== "tmpfs" || !flags?.split(",").includes("rw")) continue;
    if (/^\/(dev|sys|proc)(\/|$)/.test(target)) continue;
    try {
      await Deno.remove(await Deno.makeTempDir({ dir: target, prefix: "bench_probe_" }));
      return target;
    } catch {
      // Not writable for us.
    }
  }
  return undefined;
}

function note(text: string): void {
  console.error(`bench: ${text}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (import.meta.main) await main();
