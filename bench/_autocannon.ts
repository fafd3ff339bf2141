/**
 * The fallback client when `wrk` is not installed: one autocannon run in
 * its own process (so it does not share the driver's event loop), printing
 * the same `BENCH_JSON {...}` line as the wrk script.
 *
 * Usage: `deno run -A bench/_autocannon.ts '<LoadOptions as JSON>'`
 *
 * @module
 */

import { Buffer } from "node:buffer";
import autocannon from "npm:autocannon@9.0.0";
import type { LoadOptions, LoadResult } from "./_load.ts";

/**
 * Run autocannon as the wrk script would.
 *
 * @param options what to send, how hard and for how long
 * @returns what it measured
 */
export async function autocannonLoad(options: LoadOptions): Promise<LoadResult> {
  const body = Buffer.from(await Deno.readFile(options.bodyFile));
  let n = 0;
  const result = await autocannon({
    url: options.url,
    method: "POST",
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    body,
    headers: options.headers,
    requests: [{
      // A fresh delivery id per request, outside the signature.
      setupRequest(request: { headers: Record<string, string> }) {
        request.headers = { ...request.headers, "X-GitHub-Delivery": `${options.idPrefix}-${++n}` };
        return request;
      },
    }],
  });
  const codes: Record<string, number> = {};
  for (const [status, stat] of Object.entries(result.statusCodeStats ?? {})) {
    codes[status] = (stat as { count: number }).count;
  }
  const seconds = result.duration;
  return {
    requests: result.requests.total,
    seconds,
    rps: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    codes,
    errors: result.errors + result.timeouts,
  };
}

if (import.meta.main) {
  const result = await autocannonLoad(JSON.parse(Deno.args[0]));
  console.log(`BENCH_JSON ${JSON.stringify(result)}`);
}
