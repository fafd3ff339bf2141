/**
 * Assemble a daemon from a configuration (endpoints, store, queue, app) and
 * serve it: listeners, SIGHUP reloads, a clean stop on SIGINT/SIGTERM. This
 * file owns the order of start and stop; `main.ts` only hands it the
 * configuration.
 *
 * @module
 */

import {
  createAdminApp,
  createApp,
  createIntake,
  createRateLimiter,
  probeWritable,
} from "./http/mod.ts";
import { type Config, isLoopback, loadConfig, problemsOf, type UnixListen } from "./config/mod.ts";
import { daemonLog, hookLog, logUnhandledRejections, setupLog } from "./log/mod.ts";
import { type NotifyState, notifySystemd } from "./systemd_notify.ts";
import { buildEndpoints } from "./endpoints.ts";
import { replayOne } from "./cli/mod.ts";

import { createMetrics, createMinuteCounter, type Metrics, type MinuteCounter } from "./metrics.ts";
import {
  choosePayloadDir,
  createQueue,
  endOrphanedRuns,
  type EndpointPolicy,
  type HookRunner,
  LiveOutput,
  type OrphanedRuns,
  planRun,
  type Queue,
  type QueueEvent,
  runHook,
  spawnProblem,
} from "./dispatch/mod.ts";
import { openConfiguredStore, type Store } from "./store/mod.ts";
import type { OutputSource } from "./http/mod.ts";

const log = daemonLog();

/** A daemon's parts, ready to serve. */
export interface Daemon {
  /** The HTTP handler. */
  fetch: ReturnType<typeof createApp>["fetch"];
  /** The delivery store. */
  store: Store;
  /** The hook queue. */
  queue: Queue;
  /** The configuration requests are served with now. */
  readonly config: Config;
  /** The Prometheus metrics. */
  metrics: Metrics;
  /** Duplicate deliveries answered per minute, last hour (they are not stored). */
  duplicates: MinuteCounter;
  /** Live hook output, for watchers on the admin listener. */
  output: OutputSource;
  /**
   * Apply a new configuration to requests that arrive afterwards: endpoints,
   * secrets, hooks and per-endpoint policies. Requests in flight finish with
   * the configuration they started with.
   *
   * @returns the settings that changed but need a restart to apply
   * @throws {ConfigError} when a key cannot be imported (nothing changes)
   */
  reload(config: Config, env: Record<string, string>): Promise<string[]>;
  /**
   * Stop taking work, let running hooks finish up to `timeoutMs` (then
   * abort them: they stay queued), and close the store.
   */
  close(timeoutMs: number): Promise<void>;
}

/** Options for {@linkcode createDaemon}. */
export interface DaemonOptions {
  /** The variables hooks may copy from (process environment and env file). */
  env: Record<string, string>;
}

/**
 * Build the daemon: import keys, open the store, recover and start the queue.
 *
 * @param config the resolved configuration
 * @param options the environment hooks may copy from
 * @returns the daemon
 * @throws {ConfigError} when a key cannot be imported
 * @throws {StoreUnavailableError} when the store cannot be opened
 */
export async function createDaemon(config: Config, options: DaemonOptions): Promise<Daemon> {
  // Refused before anything is opened: without posix_spawn no hook could run.
  const spawnFails = config.runHooks ? spawnProblem() : null;
  if (spawnFails !== null) throw new Error(spawnFails);
  const payloadDir = await choosePayloadDir(config.stateDir, Deno.env.toObject());
  let current = config;
  let hookSource = options.env;
  let endpoints = await buildEndpoints(config);
  const store = await openConfiguredStore(config);
  // The queue reads this map on every dispatch, so a reload updates it in place.
  const policies = new Map<string, EndpointPolicy>();
  setPolicies(policies, config);
  const metrics = createMetrics({
    store: () => store.stats(),
    async queue() {
      const counts = await store.counts();
      return {
        depth: counts.queued,
        oldestAgeSeconds: counts.oldestQueuedAt === null
          ? 0
          : Math.max(0, (Date.now() - counts.oldestQueuedAt) / 1000),
      };
    },
  });
  const queue = createQueue(store, {
    run: runLoggedHook,
    onOutput: (id, stream, bytes) => live.write(id, stream, bytes),
    plan: (delivery) => planRun(current, delivery, hookSource),
    maxConcurrent: config.maxConcurrentHooks,
    endpoints: policies,
    payloadDir,
    onEvent(event) {
      if (event.type === "run-start") live.begin(event.id, event.attempt);
      if (event.type === "run-end") live.end(event.id, event);
      if (event.type === "run-end" && event.outcome !== "skipped") {
        metrics.observeHookRun({
          endpoint: event.endpoint,
          outcome: event.outcome,
          durationSeconds: event.durationMs / 1000,
        });
      }
      logQueueEvent(event);
    },
  });
  // Used by the queue's callbacks above, which run only once it has started.
  const live = new LiveOutput({ settled: (id, signal) => queue.waitForRun(id, { signal }) });
  const output: OutputSource = {
    store,
    live: (id) => live.watch(id),
    started: (id, signal) => live.started(id, signal),
    finished: (id, signal) => live.finished(id, signal),
  };
  const accept = createIntake(store, queue, { maxQueue: config.maxQueue });
  async function waitForRun(id: string, signal: AbortSignal) {
    const settled = await queue.waitForRun(id, { signal });
    const run = settled.run;
    return {
      exitCode: run?.exitCode ?? null,
      success: settled.state === "done",
      timedOut: run?.outcome === "timed_out",
      stdout: run?.stdout ?? "",
      stderr: run?.stderr ?? "",
    };
  }
  let rateLimiter = config.rateLimit && createRateLimiter(config.rateLimit);
  const duplicates = createMinuteCounter();
  const onRequest: typeof metrics.observeRequest = (record) => {
    metrics.observeRequest(record);
    if (record.outcome === "duplicate") duplicates.add();
  };
  const appDeps = () => ({ endpoints, accept, waitForRun, output, rateLimiter, onRequest });
  let app = createApp(config, appDeps());
  let listening: { unlisten(): Promise<void> } | undefined;
  try {
    // An accept-only instance (HOOKD_RUN_HOOKS=false) stores; others sharing the store run.
    if (config.runHooks) {
      // A crashed daemon's hooks may still run: end them before recovery re-runs their deliveries.
      logOrphans(await endOrphanedRuns(store, { payloadDir }));
      await queue.start();
      // Work stored by another instance (or `hookd replay`) is found now, not at the next poll.
      listening = await store.listen(() => queue.notify());
    }
  } catch (error) {
    await queue.close({ timeoutMs: 0 });
    await store.close();
    throw error;
  }
  return {
    fetch: (request, info) => app.fetch(request, info),
    store,
    queue,
    metrics,
    duplicates,
    output,
    get config() {
      return current;
    },
    async reload(next, env) {
      const built = await buildEndpoints(next);
      const restart = restartOnly(current, next);
      endpoints = built;
      if (JSON.stringify(next.rateLimit) !== JSON.stringify(current.rateLimit)) {
        rateLimiter = next.rateLimit && createRateLimiter(next.rateLimit);
      }
      app = createApp(next, appDeps());
      setPolicies(policies, next);
      current = next;
      hookSource = env;
      return restart;
    },
    async close(timeoutMs) {
      try {
        await listening?.unlisten();
        await queue.close({ timeoutMs });
      } finally {
        await store.close();
      }
    },
  };
}

function setPolicies(policies: Map<string, EndpointPolicy>, config: Config): void {
  policies.clear();
  for (const endpoint of config.endpoints.values()) {
    policies.set(endpoint.name, {
      concurrency: endpoint.concurrency,
      retries: endpoint.retries,
      backoffMs: endpoint.retryBackoffMs,
      onBusy: endpoint.onBusy,
    });
  }
}

/** Settings a reload cannot apply (they shape sockets, files and the queue), by variable. */
const RESTART_ONLY: [string, (config: Config) => unknown][] = [
  ["HOOKD_LISTEN", (c) => c.listen],
  ["HOOKD_STATE_DIR", (c) => c.stateDir],
  ["HOOKD_MAX_CONCURRENT_HOOKS", (c) => c.maxConcurrentHooks],
  ["HOOKD_MAX_QUEUE", (c) => c.maxQueue],
  ["HOOKD_RETENTION", (c) => c.retentionMs],
  ["HOOKD_SYNC", (c) => c.sync],
  ["HOOKD_TLS_CERT/HOOKD_TLS_KEY", (c) => c.tls],
  ["HOOKD_ADMIN_LISTEN", (c) => c.adminListen],
  ["HOOKD_STORE", (c) => c.store],
  ["HOOKD_INSTANCE_ID", (c) => c.instanceId],
  ["HOOKD_RUN_HOOKS", (c) => c.runHooks],
];

function restartOnly(before: Config, after: Config): string[] {
  return RESTART_ONLY.filter(([, read]) =>
    JSON.stringify(read(before)) !== JSON.stringify(read(after))
  ).map(([variable]) => variable);
}

function logOrphans(orphans: OrphanedRuns): void {
  for (const group of orphans.terminated) {
    log.warn("terminated a hook left running by a stopped daemon", { ...group });
  }
  for (const group of orphans.leftAlone) {
    if (group.reason === "gone") {
      log.info("a hook left running by a stopped daemon is gone", { ...group });
    } else {
      log.warn(
        "left alone a process group recorded for a hook of a stopped daemon: its leader's pid " +
          "now belongs to a process started at another time (a reused pid, or a stepped clock)",
        { ...group },
      );
    }
  }
  if (orphans.payloadFiles.length > 0) {
    log.info("removed payload files of interrupted runs", { count: orphans.payloadFiles.length });
  }
}

function logQueueEvent(event: QueueEvent): void {
  switch (event.type) {
    case "recovered":
      if (event.count > 0) log.warn("re-queued deliveries interrupted by a stop", event);
      break;
    case "superseded":
      log.info("superseded", { ...event, ids: event.ids.join(",") });
      break;
    case "purged":
      log.info("purged old deliveries", { count: event.count });
      break;
    case "error":
      log.error("queue error", {
        during: event.during,
        id: event.id,
        error: event.error instanceof Error ? event.error.message : String(event.error),
      });
      break;
    case "run-end":
      if (event.outcome === "skipped") {
        log.info("skipped: nothing to run as configured now", {
          id: event.id,
          endpoint: event.endpoint,
          event: event.event,
          state: event.state,
        });
      } else if (event.state === "queued" && event.retryAt !== null) {
        log.warn("retry scheduled", {
          id: event.id,
          endpoint: event.endpoint,
          attempt: event.attempt,
          retryAt: new Date(event.retryAt).toISOString(),
        });
      }
      break;
  }
}

const hookRecord = hookLog();

/**
 * Run a hook and log the outcome. The delivery is identified by the
 * `HOOKD_*` variables the hook's environment already carries.
 *
 * @param command the shell command
 * @param options as for `runHook`
 * @returns the run's result
 */
export const runLoggedHook: HookRunner = async function runLoggedHook(command, options) {
  const result = await runHook(command, options);
  const { success: _, startedAt: _s, endedAt: _e, ...outcome } = result;
  const record = {
    id: options.env.HOOKD_DELIVERY_ID,
    endpoint: options.env.HOOKD_ENDPOINT,
    event: options.env.HOOKD_EVENT,
    // The first word only: the full command line stays in the env file, where the admin wrote it.
    command: command.trim().split(/\s+/)[0],
    ...outcome,
  };
  if (result.success) hookRecord.info("hook", record);
  // What the shell or the hook said first ("…: not found") goes on the
  // stderr line too: exit=127 alone does not tell the admin why.
  else hookRecord.warn("hook", { ...record, stderrFirstLine: firstLine(result.stderr) });
  return result;
};

/** The first non-blank line of a hook's stderr, trimmed and cut; undefined when it wrote none. */
function firstLine(stderr: string): string | undefined {
  const line = stderr.split("\n").map((l) => l.trim()).find((l) => l !== "");
  return line === undefined ? undefined : line.slice(0, MAX_FIRST_LINE);
}

/** The stderr line's excerpt of a failed hook's stderr, in UTF-16 units. */
const MAX_FIRST_LINE = 200;

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** The variables the configuration was read from (hooks may copy from them). */
  env: Record<string, string>;
  /** The env file, read again on SIGHUP; `undefined`: the process environment. */
  envFile?: string;
  /** hookd's version, for the start-up record. */
  version: string;
}

/**
 * `hookd serve`: serve the public and admin listeners, reload on SIGHUP (a
 * broken file keeps the running configuration), and on SIGINT/SIGTERM let
 * running hooks finish and flush the log (Deno's `unload` does not fire on
 * those signals, so a logger that waits for it would lose lines).
 *
 * @param config the resolved configuration
 * @param options the environment, the env file and the version
 * @returns the exit code, once stopped
 * @throws {Error} naming the listener when its address is taken
 */
export async function serve(config: Config, options: ServeOptions): Promise<number> {
  const { env, envFile, version } = options;
  let logOptions = config.log;
  let logging = await setupLog(logOptions);
  const stopLoggingRejections = logUnhandledRejections();
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
        await notify("reloading");
        try {
          const { config: next, env: nextEnv } = await loadConfig(envFile);
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
        await notify("ready");
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
            // A shared store is elsewhere: it must answer too, not only the state directory.
            const reason = await probeWritable(daemon.config.stateDir) ??
              (daemon.config.store.kind === "postgres"
                ? await daemon.store.counts().then(() => undefined, (e) => String(e?.message ?? e))
                : undefined);
            return { storeWritable: reason === undefined, listening, reason };
          },
          metrics: daemon.metrics,
          output: daemon.output,
          access: {
            loopback: isLoopback(config.adminListen.hostname),
            token: () => daemon.config.adminToken,
            hosts: () => daemon.config.adminHosts,
          },
          pages: {
            store: daemon.store,
            replay: (id) => replayOne(daemon.store, daemon.config, id),
            endpoints: () => [...daemon.config.endpoints.keys()],
            notify: () => daemon.queue.notify(),
            adminToken: () => daemon.config.adminToken,
            duplicates: (since, until) => daemon.duplicates.perMinute(since, until),
          },
        }).fetch,
      );
      const started = (where: string) => {
        listening = true;
        log.info(`listening on ${where}`, { version, endpoints: [...config.endpoints.keys()] });
      };
      const listen = config.listen;
      const server = "path" in listen
        ? await serveUnix(listen, stop.signal, () => started(`unix:${listen.path}`), daemon.fetch)
        : serveOn("HOOKD_LISTEN", {
          hostname: listen.hostname,
          port: listen.port,
          signal: stop.signal,
          ...tls,
          onListen: ({ hostname, port }) =>
            started(`${tls ? "https" : "http"}://${hostPort(hostname, port)}`),
        }, daemon.fetch);
      await notify("ready");
      await server.finished;
      listening = false;
      await notify("stopping");
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
    stopLoggingRejections();
    await logging[Symbol.asyncDispose]();
  }
}

/** Tell systemd, when it listens; a failure is logged, never fatal. */
async function notify(state: NotifyState): Promise<void> {
  try {
    await notifySystemd(state);
  } catch (error) {
    log.warn("systemd notification failed", { error: problemsOf(error).join("; ") });
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

/**
 * Serve on a unix socket for a reverse proxy: a stale socket file left by a
 * killed daemon is replaced (one that still answers is in use: refused), and
 * the socket gets `HOOKD_LISTEN_MODE` and `HOOKD_LISTEN_GROUP` once it
 * exists (until then it has the service's umask: tighter, never looser).
 */
async function serveUnix(
  listen: UnixListen,
  signal: AbortSignal,
  onListen: () => void,
  handler: Deno.ServeHandler<Deno.UnixAddr>,
): Promise<Deno.HttpServer<Deno.UnixAddr>> {
  const where = `unix:${listen.path} (HOOKD_LISTEN, the public listener)`;
  const existing = await Deno.lstat(listen.path).catch(() => null);
  if (existing && !existing.isSocket) {
    throw new Error(`cannot listen on ${where}: the path exists and is not a socket`);
  }
  if (existing) {
    const conn = await Deno.connect({ transport: "unix", path: listen.path }).catch(() => null);
    if (conn) {
      conn.close();
      throw new Error(`cannot listen on ${where}: address already in use`);
    }
    await Deno.remove(listen.path);
  }
  // onListen is called below, once the socket has its mode: Deno's default would print.
  const server = Deno.serve(
    { transport: "unix", path: listen.path, signal, onListen() {} },
    handler,
  );
  try {
    await Deno.chmod(listen.path, listen.mode);
    if (listen.group !== undefined) {
      await Deno.chown(listen.path, null, await groupId(listen.group));
    }
  } catch (error) {
    await server.shutdown();
    throw new Error(
      `cannot set the mode or group of ${where}: ${
        error instanceof Error ? error.message : error
      }` +
        ": check HOOKD_LISTEN_MODE and HOOKD_LISTEN_GROUP (hookd must be a member of the group)",
      { cause: error },
    );
  }
  onListen();
  return server;
}

/** A group name's id, from /etc/group (a number is taken as the id). */
async function groupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const line = (await Deno.readTextFile("/etc/group")).split("\n")
    .find((entry) => entry.startsWith(`${group}:`));
  const id = line?.split(":")[2];
  if (id === undefined) throw new Error(`no group named ${group} in /etc/group`);
  return Number(id);
}
