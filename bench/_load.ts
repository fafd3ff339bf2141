/**
 * Load generators: `wrk` (a Lua script POSTs the body with its headers and
 * reports one JSON line from `done()`), `npm:autocannon` when wrk is not
 * installed, and a fixed-count burst over `fetch`. Every request carries a
 * fresh `X-GitHub-Delivery` (outside the signature), so hookd's duplicate
 * check never short-cuts the accept path.
 *
 * @module
 */

/** What one load run measured. */
export interface LoadResult {
  /** Requests answered. */
  requests: number;
  /** Wall time of the run, seconds. */
  seconds: number;
  /** Requests answered per second. */
  rps: number;
  /** Median latency, milliseconds. */
  p50Ms: number;
  /** 99th percentile latency, milliseconds. */
  p99Ms: number;
  /** Answers by HTTP status. */
  codes: Record<string, number>;
  /** Connect, read, write errors and timeouts. */
  errors: number;
}

/** Options for a timed load. */
export interface LoadOptions {
  /** The endpoint URL. */
  url: string;
  /** A file holding the body. */
  bodyFile: string;
  /** Headers besides `X-GitHub-Delivery` and `Content-Length`. */
  headers: Record<string, string>;
  /** How long, seconds. */
  seconds: number;
  /** Open connections. */
  connections: number;
  /** Client threads (wrk only). */
  threads: number;
  /** A prefix for the delivery ids, unique per run. */
  idPrefix: string;
  /** Where to write the Lua script. */
  workDir: string;
}

/** Which timed-load client. */
export type Client = "wrk" | "autocannon";

/** The autocannon version used when wrk is absent. */
export const AUTOCANNON = "npm:autocannon@9.0.0";

/**
 * Run a timed load with wrk or autocannon.
 *
 * @param client which client
 * @param options what to send, how hard and for how long
 * @returns what it measured
 */
export function runLoad(client: Client, options: LoadOptions): Promise<LoadResult> {
  return client === "wrk" ? runWrk(options) : runAutocannon(options);
}

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const script = `${options.workDir}/bench_${options.idPrefix}.lua`;
  await Deno.writeTextFile(script, wrkScript(options));
  try {
    const out = await new Deno.Command("wrk", {
      args: [
        `-t${options.threads}`,
        `-c${options.connections}`,
        `-d${options.seconds}s`,
        "--timeout",
        "30s",
        "--latency",
        "-s",
        script,
        options.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const line = text.split("\n").find((l) => l.startsWith("BENCH_JSON "));
    if (!out.success || !line) {
      throw new Error(`wrk failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
    }
    return fromWrk(JSON.parse(line.slice("BENCH_JSON ".length)));
  } finally {
    await Deno.remove(script).catch(() => {});
  }
}

interface WrkJson {
  requests: number;
  durationUs: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  p50Us: number;
  p99Us: number;
  codes: Record<string, number>;
}

function fromWrk(json: WrkJson): LoadResult {
  const seconds = json.durationUs / 1e6;
  const e = json.errors;
  return {
    requests: json.requests,
    seconds,
    rps: json.requests / seconds,
    p50Ms: json.p50Us / 1000,
    p99Ms: json.p99Us / 1000,
    codes: json.codes,
    errors: e.connect + e.read + e.write + e.timeout,
  };
}

/**
 * The wrk script: POST the body with the headers, a new delivery id per
 * request, statuses counted per thread and summed in `done()`, which prints
 * one `BENCH_JSON {...}` line.
 *
 * @param options the body file, headers and id prefix
 * @returns the Lua source
 */
export function wrkScript(options: LoadOptions): string {
  const lua = (s: string) => JSON.stringify(s); // a JSON string of ASCII is a valid Lua string
  const headers = Object.entries(options.headers)
    .map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`)
    .join("\n");
  return `
local f = assert(io.open(${lua(options.bodyFile)}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
${headers}

-- setup() runs in the main Lua state; request/response in each thread's own.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local n = 0
codes = {}
function request()
  n = n + 1
  wrk.headers["X-GitHub-Delivery"] = ${lua(options.idPrefix)} .. "-" .. tostring(tid) .. "-" .. n
  return wrk.format()
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local sum = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("codes") or {}) do
      sum[status] = (sum[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(sum) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"durationUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"p50Us":%d,"p99Us":%d,"codes":{%s}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), table.concat(parts, ",")))
end
`;
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_autocannon.ts", import.meta.url).pathname,
      JSON.stringify(options),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!out.success || !line) {
    throw new Error(`autocannon failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(line.slice("BENCH_JSON ".length));
}

/** Options for {@linkcode burst}. */
export interface BurstOptions {
  /** The endpoint URL. */
  url: string;
  /** The body. */
  body: Uint8Array<ArrayBuffer>;
  /** Headers besides `X-GitHub-Delivery`. */
  headers: Record<string, string>;
  /** Requests in all. */
  total: number;
  /** Requests in flight at once. */
  connections: number;
  /** A prefix for the delivery ids. */
  idPrefix: string;
}

/**
 * Send exactly `total` requests, `connections` at a time, over `fetch`.
 *
 * @param options what to send and how many
 * @returns what it measured
 */
export async function burst(options: BurstOptions): Promise<LoadResult> {
  let next = 0;
  let errors = 0;
  const codes: Record<string, number> = {};
  const latencies: number[] = [];
  const started = performance.now();
  async function worker() {
    while (next < options.total) {
      const i = next++;
      const t0 = performance.now();
      try {
        const response = await fetch(options.url, {
          method: "POST",
          body: options.body,
          headers: { ...options.headers, "X-GitHub-Delivery": `${options.idPrefix}-${i}` },
        });
        await response.body?.cancel();
        codes[response.status] = (codes[response.status] ?? 0) + 1;
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    codes,
    errors,
  };
}
