/**
 * Run one delivery's hook and write its `hook` log record: the glue
 * between a dispatcher, the hook's environment and the runner.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { buildHookEnv } from "./hook_env.ts";
import { type HookRunResult, runHook } from "./hook_runner.ts";

const log = getLogger(["hookd", "hook"]);

/** What a hook run needs to know of its delivery. */
export interface RunnableDelivery {
  /** hookd's delivery id. */
  id: string;
  /** The endpoint name. */
  endpoint: string;
  /** The event name. */
  event: string;
  /** The sender's delivery id. */
  sourceId?: string;
  /** The hook to run. */
  hook?: { variable: string; command: string };
  /** The bytes for stdin and the payload file. */
  payload: Uint8Array;
  /** The payload's content type. */
  contentType: string;
  /** The hook's time limit. */
  timeoutMs: number;
}

/** Options for {@linkcode runDelivery}. */
export interface RunDeliveryOptions {
  /** The daemon's environment, from which the allow-list is copied. */
  processEnv: Record<string, string>;
  /** Extra variable names the hook may see. */
  allowEnv: readonly string[];
  /** Where private payload files are written. */
  payloadDir: string;
  /** Aborts the run (shutdown). */
  signal?: AbortSignal;
}

/**
 * Run a delivery's hook and log the outcome; never throws.
 *
 * @param delivery the delivery (with a hook)
 * @param options environment and paths
 * @returns the run's result, or `undefined` when the delivery has no hook
 */
export async function runDelivery(
  delivery: RunnableDelivery,
  options: RunDeliveryOptions,
): Promise<HookRunResult | undefined> {
  if (!delivery.hook) return undefined;
  const env = buildHookEnv({
    endpoint: delivery.endpoint,
    event: delivery.event,
    deliveryId: delivery.id,
    sourceDeliveryId: delivery.sourceId,
    contentType: delivery.contentType,
  }, { processEnv: options.processEnv, allow: options.allowEnv });
  const result = await runHook(delivery.hook.command, {
    env,
    stdin: delivery.payload,
    timeoutMs: delivery.timeoutMs,
    payloadDir: options.payloadDir,
    signal: options.signal,
  });
  const record = {
    id: delivery.id,
    endpoint: delivery.endpoint,
    event: delivery.event,
    hook: delivery.hook.variable,
    command: commandName(delivery.hook.command),
    exitCode: result.code,
    signal: result.signal,
    timedOut: result.timedOut,
    aborted: result.aborted,
    durationMs: result.durationMs,
    stdout: result.stdout,
    stderr: result.stderr,
    stdoutTruncated: result.stdoutTruncated,
    stderrTruncated: result.stderrTruncated,
    error: result.error,
  };
  if (result.success) log.info("hook", record);
  else log.warn("hook", record);
  return result;
}

/**
 * The command's first word, for the log: the full command line stays in
 * the env file, where the admin wrote it.
 *
 * @param command a shell command
 * @returns its first word, e.g. `/usr/local/bin/deploy`
 */
export function commandName(command: string): string {
  return command.trim().split(/\s+/)[0] ?? "";
}
