/**
 * hookd's entry point: parse the command line, load the configuration,
 * build the daemon, serve it, and stop cleanly on SIGINT/SIGTERM.
 * Everything else lives in `lib/`.
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { parseCommandLine, runDeliveryCommand, runSignCommand, USAGE } from "./lib/cli/mod.ts";
import { type Config, ConfigError, parseConfig } from "./lib/config/mod.ts";
import { createDaemon } from "./lib/daemon.ts";
import { createAdminApp, probeWritable } from "./lib/http/mod.ts";
import { describeConfig } from "./lib/config/describe.ts";
import { checkEnvFileMode } from "./lib/config/env_file_mode.ts";
import { hookPathWarnings } from "./lib/config/hook_paths.ts";
import { notifyReady, notifyReloading, notifyStopping } from "./lib/systemd_notify.ts";
import { buildEndpoints } from "./lib/endpoints.ts";
import { loadEnv } from "./lib/config/env_file.ts";
import { daemonLog, setupLog } from "./lib/log/mod.ts";
import { isLoopback } from "./lib/config/secret_strength.ts";

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
    const env = await loadConfigEnv(cli.envFile);
    const config = parseConfig(env);
    switch (cli.command) {
      case "check":
        await buildEndpoints(config);
        console.log(describeConfig(config));
        for (const warning of await hookPathWarnings(config)) console.error(warning);
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
    for (const problem of problemsOf(error)) console.error(`hookd: ${problem}`);
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
    let listening = false;
    let reloading = Promise.resolve();
    const onStop = () => stop.abort();
    const onReload = () => {
      reloading = reloading.then(async () => {
        await notify(notifyReloading);
        try {
          const nextEnv = await loadConfigEnv(envFile);
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
          log.error("reload refused: the running configuration stays", {
            problems: problemsOf(error),
          });
        }
        await notify(notifyReady);
      });
    };
    const signals: [Deno.Signal, () => void][] = [
      ["SIGINT", onStop],
      ["SIGTERM", onStop],
      ["SIGHUP", onReload],
    ];
    for (const [signal, handler] of signals) Deno.addSignalListener(signal, handler);
    try {
      const admin = config.adminListen && serveOn(
        "HOOKD_ADMIN_LISTEN",
        {
          hostname: config.adminListen.hostname,
          port: config.adminListen.port,
          signal: stop.signal,
          onListen: ({ hostname, port }) =>
            log.info(`admin listening on http://${hostPort(hostname, port)}`),
        },
        createAdminApp({
          async health() {
            const reason = await probeWritable(daemon.config.stateDir);
            return { storeWritable: reason === undefined, listening, reason };
          },
          metrics: daemon.metrics,
          access: {
            loopback: isLoopback(config.adminListen.hostname),
            token: () => daemon.config.adminToken,
          },
          pages: {
            store: daemon.store,
            endpoints: () => [...daemon.config.endpoints.keys()],
            notify: () => daemon.queue.notify(),
            adminToken: () => daemon.config.adminToken,
            duplicates: (since, until) => daemon.duplicates.perMinute(since, until),
          },
        }).fetch,
      );
      const server = serveOn("HOOKD_LISTEN", {
        hostname: config.listen.hostname,
        port: config.listen.port,
        signal: stop.signal,
        ...tls,
        onListen({ hostname, port }) {
          listening = true;
          log.info(`listening on ${tls ? "https" : "http"}://${hostPort(hostname, port)}`, {
            version: denoJson.version,
            endpoints: [...config.endpoints.keys()],
          });
        },
      }, daemon.fetch);
      await notify(notifyReady);
      await server.finished;
      listening = false;
      await notify(notifyStopping);
      await admin?.finished;
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

/** The env file (refused when others may read it) over the process environment. */
async function loadConfigEnv(envFile: string | undefined): Promise<Record<string, string>> {
  const problem = envFile === undefined ? undefined : await checkEnvFileMode(envFile);
  if (problem) throw new ConfigError([problem]);
  return await loadEnv(envFile, Deno.env.toObject());
}

/** Tell systemd, when it listens; a failure is logged, never fatal. */
async function notify(send: () => Promise<boolean>): Promise<void> {
  try {
    await send();
  } catch (error) {
    daemonLog().warn("systemd notification failed", { error: problemsOf(error).join("; ") });
  }
}

/**
 * `Deno.serve`, naming the listener when its address is taken: the address,
 * the variable that set it and which listener it is, not just `os error 98`.
 */
function serveOn(
  variable: "HOOKD_LISTEN" | "HOOKD_ADMIN_LISTEN",
  options: Deno.ServeTcpOptions | (Deno.ServeTcpOptions & Deno.TlsCertifiedKeyPem),
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve(options, handler);
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    const address = hostPort(options.hostname ?? "0.0.0.0", options.port ?? 8000);
    const which = variable === "HOOKD_LISTEN" ? "the public listener" : "the admin listener";
    throw new Error(
      `cannot listen on ${address} (${variable}, ${which}): address already in use`,
      { cause: error },
    );
  }
}

function hostPort(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

function problemsOf(error: unknown): string[] {
  return error instanceof ConfigError
    ? error.problems
    : [error instanceof Error ? error.message : String(error)];
}

if (import.meta.main) Deno.exit(await main(Deno.args));
