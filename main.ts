/**
 * hookd's entry point: parse the command line, load the configuration,
 * build the app, serve it, and stop cleanly on SIGINT/SIGTERM. Everything
 * else lives in `lib/`.
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { createApp } from "./lib/app.ts";
import { parseCommandLine, USAGE } from "./lib/cli.ts";
import { type Config, ConfigError, parseConfig } from "./lib/config.ts";
import { describeConfig } from "./lib/describe_config.ts";
import { createDispatcher } from "./lib/dispatcher.ts";
import { buildEndpoints } from "./lib/endpoints.ts";
import { loadEnv } from "./lib/env_file.ts";
import { daemonLog, setupLog } from "./lib/log.ts";
import { runDelivery } from "./lib/run_delivery.ts";

/** How long running hooks may go on after SIGTERM before they are stopped. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * Run hookd with the given arguments.
 *
 * @param args the arguments after the program name
 * @returns the exit code
 */
export async function main(args: string[]): Promise<number> {
  let cli;
  try {
    cli = parseCommandLine(args);
  } catch (error) {
    console.error(`hookd: ${error instanceof Error ? error.message : error}`);
    return 2;
  }
  if (cli.command === "help") {
    console.log(USAGE);
    return 0;
  }
  if (cli.command === "version") {
    console.log(`hookd ${denoJson.version}`);
    return 0;
  }
  let env: Record<string, string>;
  let config: Config;
  try {
    env = await loadEnv(cli.envFile, Deno.env.toObject());
    config = parseConfig(env);
    if (cli.command === "check") {
      await buildEndpoints(config);
      console.log(describeConfig(config));
      return 0;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) console.error(`hookd: ${problem}`);
    } else {
      console.error(`hookd: ${error instanceof Error ? error.message : error}`);
    }
    return 1;
  }
  return await serve(config, env);
}

async function serve(config: Config, env: Record<string, string>): Promise<number> {
  const payloadDir = `${config.stateDir}/payloads`;
  let endpoints;
  let logging;
  try {
    await Deno.mkdir(payloadDir, { recursive: true, mode: 0o700 });
    endpoints = await buildEndpoints(config);
    logging = await setupLog(config.log);
  } catch (error) {
    const problems = error instanceof ConfigError
      ? error.problems
      : [error instanceof Error ? error.message : String(error)];
    for (const problem of problems) console.error(`hookd: ${problem}`);
    return 1;
  }
  await using _logging = logging;
  const log = daemonLog();
  await using dispatcher = createDispatcher({
    maxConcurrent: config.maxConcurrentHooks,
    run: (delivery, signal) =>
      runDelivery(delivery, {
        processEnv: env,
        allowEnv: endpoints.get(delivery.endpoint)?.config.hookEnv ?? [],
        payloadDir,
        signal,
      }).then(() => {}),
  });
  const app = createApp(config, { endpoints, accept: dispatcher.accept });

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal);
  try {
    const server = Deno.serve({
      hostname: config.listen.hostname,
      port: config.listen.port,
      signal: stop.signal,
      onListen({ hostname, port }) {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        log.info(`listening on http://${host}:${port}`, {
          version: denoJson.version,
          endpoints: [...endpoints.keys()],
        });
      },
    }, app.fetch);
    await server.finished;
    log.info("stopping: waiting for running hooks", { running: dispatcher.running });
    await dispatcher.close(SHUTDOWN_GRACE_MS);
    log.info("stopped");
    return 0;
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.removeSignalListener(signal, onSignal);
    }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
