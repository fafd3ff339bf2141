/**
 * The hook runner the queue uses: `runHook` plus one `hook` log record per
 * run, with the command's name, exit, duration and output excerpts.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { runHook } from "./hook_runner.ts";
import type { HookRunner } from "./queue.ts";

const log = getLogger(["hookd", "hook"]);

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
  const record = {
    id: options.env.HOOKD_DELIVERY_ID,
    endpoint: options.env.HOOKD_ENDPOINT,
    event: options.env.HOOKD_EVENT,
    command: commandName(command),
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
};

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
