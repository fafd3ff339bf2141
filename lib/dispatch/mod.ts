/**
 * Dispatch: runs the hooks of stored deliveries. What this folder promises:
 *
 * - a durable queue with bounded concurrency: the store is the queue, so a
 *   delivery survives a crash and is run again at the next start; no more than
 *   `maxConcurrent` hooks run at once, and each endpoint within its policy
 *   (concurrency, retries with backoff, `queue` or `latest`);
 * - each hook started with `posix_spawn` (no fork of the daemon) in a session
 *   and process group of its own, with a clean environment, a time limit and
 *   output bounded in bytes, the whole group killed when the hook ends or times
 *   out (only a descendant that starts its own session escapes it); each group
 *   is recorded in the store,
 *   so that the next start ends what a crash left running
 *   ({@linkcode endOrphanedRuns}) before the delivery runs again;
 * - each run's command, time limit, environment, fields and filter read from
 *   the configuration when the run starts ({@linkcode planRun}), not when the
 *   delivery arrived.
 *
 * It uses the store (`lib/store/`) and the shared limits (`lib/config/`), and
 * must not import `lib/http/`, `lib/cli/` or `lib/daemon.ts`: those assemble it.
 *
 * @module
 */

export { type HookRunResult, runHook, type RunHookOptions } from "./hook_runner.ts";
export { planRun, type RunPlan } from "./run_plan.ts";
export { endOrphanedRuns, type OrphanedRuns } from "./orphans.ts";
export { LiveOutput, type LiveRun, type LiveRunEnd, type OutputSnapshot } from "./live_output.ts";
export { spawnProblem } from "./_libc.ts";
export { choosePayloadDir } from "./_payload_file.ts";
export type { EndpointPolicy } from "./policy.ts";
export {
  createQueue,
  type HookRunner,
  type Queue,
  QueueClosedError,
  type QueueEvent,
  type QueueOptions,
} from "./queue.ts";
