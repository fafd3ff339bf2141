/**
 * Dispatch: runs the hooks of stored deliveries, from a durable queue (the
 * store) within concurrency limits, each hook in a process group of its own
 * that is recorded so the next start ends what a crash left running. It uses
 * `lib/store/` and `lib/config/`, and must not import `lib/http/`, `lib/cli/`
 * or `lib/daemon.ts`: those assemble it.
 *
 * @module
 */

export { type HookRunResult, runHook, type RunHookOptions } from "./hook_runner.ts";
export { planRun } from "./run_plan.ts";
export { endOrphanedRuns, type OrphanedRuns } from "./orphans.ts";
export { LiveOutput } from "./live_output.ts";
export { spawnProblem } from "./_libc.ts";
export { choosePayloadDir } from "./_payload_file.ts";
export type { EndpointPolicy } from "./policy.ts";
export { createQueue } from "./queue.ts";
export {
  type HookRunner,
  type Queue,
  QueueClosedError,
  type QueueEvent,
  type QueueOptions,
} from "./queue_types.ts";
