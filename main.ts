/**
 * hookd's entry point: parse the command line, load the configuration,
 * build the daemon, serve it, and stop cleanly on SIGINT/SIGTERM.
 * Everything else lives in `lib/`.
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { parseCommandLine, USAGE } from "./lib/cli.ts";
import { type Config, ConfigError, parseConfig } from "./lib/config.ts";
import { createDaemon } from "./lib/daemon.ts";
import { runDeliveryCommand } from "./lib/delivery_commands.ts";
import { describeConfig } from "./lib/describe_config.ts";
import { buildEndpoints } from "./lib/endpoints.ts";
import { loadEnv } from "./lib/env_file.ts";
import { daemonLog, setupLog } from "./lib/log.ts";
import { runSignCommand } from "./lib/sign_command.ts";

/**
 * Run hookd with the given arguments.
 *
 * @param args the arguments after the program name
 * @returns the exit code
 */
export async function main(args: string[]): Promise<number> {
  try {
    const cli = parseCommandLine(args);
    if (cli.command === "help") {
      console.log(USAGE);
      return 0;
    }
    if (cli.command === "version") {
      console.log(`hookd ${denoJson.version}`);
      return 0;
    }
    const env = await loadEnv(cli.envFile, Deno.env.toObject());
    const config = parseConfig(env);
    switch (cli.command) {
      case "check":
        await buildEndpoints(config);
        console.log(describeConfig(config));
        return 0;
      case "serve":
        return await serve(config, env, cli.envFile);
      case "sign":
      case "send": {
        const { output, code } = await runSignCommand(cli, config);
        console.log(output);
        return code;
      }
      default: {
        const { output, code } = runDeliveryCommand(cli, config);
        (code === 0 ? console.log : console.error)(output);
        return code;
      }
    }
  } catch (error) {
    const problems = error instanceof ConfigError
      ? error.problems
      : [error instanceof Error ? error.message : String(error)];
    for (const problem of problems) console.error(`hookd: ${problem}`);
    return 1;
  }
}

async function serve(
  config: Config,
  env: Record<string, string>,
  envFile: string | undefined,
): Promise<number> {
  let logOptions = config.log;
  let logging = await setupLog(logOptions);
  const log = daemonLog();
  try {
    const tls = config.tls && {
      cert: await Deno.readTextFile(config.tls.certFile),
      key: await Deno.readTextFile(config.tls.keyFile),
    };
    const daemon = await createDaemon(config, { env });
    const stop = new AbortController();
    let reloading = Promise.resolve();
    const onStop = () => stop.abort();
    const onReload = () => {
      reloading = reloading.then(async () => {
        try {
          const nextEnv = await loadEnv(envFile, Deno.env.toObject());
          const next = parseConfig(nextEnv);
          const restart = await daemon.reload(next, nextEnv);
          if (JSON.stringify(next.log) !== JSON.stringify(logOptions)) {
            // setupLog replaces the running configuration; the old handle
            // then has nothing left to dispose.
            logging = await setupLog(next.log);
            logOptions = next.log;
          }
          log.info("reloaded", { endpoints: [...next.endpoints.keys()] });
          if (restart.length > 0) {
            log.warn(`changed settings need a restart: ${restart.join(", ")}`, { restart });
          }
        } catch (error) {
          const problems = error instanceof ConfigError
            ? error.problems
            : [error instanceof Error ? error.message : String(error)];
          log.error("reload refused: the running configuration stays", { problems });
        }
      });
    };
    const signals: [Deno.Signal, () => void][] = [
      ["SIGINT", onStop],
      ["SIGTERM", onStop],
      ["SIGHUP", onReload],
    ];
    for (const [signal, handler] of signals) Deno.addSignalListener(signal, handler);
    try {
      const server = Deno.serve({
        hostname: config.listen.hostname,
        port: config.listen.port,
        signal: stop.signal,
        ...tls,
        onListen({ hostname, port }) {
          const host = hostname.includes(":") ? `[${hostname}]` : hostname;
          log.info(`listening on ${tls ? "https" : "http"}://${host}:${port}`, {
            version: denoJson.version,
            endpoints: [...config.endpoints.keys()],
          });
        },
      }, daemon.fetch);
      await server.finished;
      await reloading;
      log.info("stopping: waiting for running hooks", {
        running: daemon.queue.runningIds().length,
      });
      await daemon.close(daemon.config.shutdownTimeoutMs);
      log.info("stopped");
      return 0;
    } finally {
      for (const [signal, handler] of signals) Deno.removeSignalListener(signal, handler);
    }
  } finally {
    await logging[Symbol.asyncDispose]();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
