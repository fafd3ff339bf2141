/**
 * What a crashed daemon leaves behind, cleaned up at the next start: hooks
 * still running in their process groups (outside systemd nothing else ends
 * them), and their payload files. Runs before the store's `recover()` puts
 * those deliveries back in the queue, so an orphan never runs beside its
 * re-run.
 *
 * @module
 */

import type { RunningGroup, Store } from "../store/mod.ts";
import { terminateGroup } from "./group_signaller.ts";
import { processStartTime, type StartTimeReader } from "./start_time.ts";
import { sweepPayloadFiles } from "./_payload_file.ts";

/** Options for {@linkcode endOrphanedRuns}. */
export interface EndOrphanedRunsOptions {
  /** The payload directory the queue's runs use; every payload file in it is removed. */
  payloadDir: string;
  /** Time between SIGTERM and SIGKILL, default 5000 (the queue's default). */
  killGraceMs?: number;
  /** Reads the leaders' start times; without one, each read spawns a one-off shell. */
  startTimes?: StartTimeReader;
}

/** What {@linkcode endOrphanedRuns} did. */
export interface OrphanedRuns {
  /** Groups whose leader was still the recorded process: terminated (SIGTERM, then SIGKILL). */
  terminated: RunningGroup[];
  /**
   * Groups left alone: their leader is gone, or its pid now belongs to
   * another process (a different start time).
   */
  leftAlone: RunningGroup[];
  /** The payload files removed. */
  payloadFiles: string[];
}

/**
 * At start, before `store.recover()` and before any run: terminate the
 * process groups of runs a previous daemon left `running`, then remove every
 * payload file in `payloadDir` (no run of this daemon exists yet, so none
 * owns one). A group is signalled only while its leader's start time is the
 * one recorded, so a pid reused by an unrelated process is never hit. The
 * groups are ended in parallel; each takes at most `killGraceMs`.
 *
 * A group whose leader already exited while other members run on cannot be
 * told from a new group that reuses the id, so it is left alone (the leader
 * is the hook itself, its shell or its program, which normally outlives what
 * it starts).
 *
 * Only the process that runs hooks may call this, as for `recover()`.
 *
 * @param store the delivery store, not yet recovered
 * @param options the payload directory and the kill grace
 * @returns what was terminated, left alone and removed
 * @throws {StoreUnavailableError} when the running runs cannot be read
 * @example
 * ```ts
 * import { openStore } from "../store/mod.ts";
 * import { endOrphanedRuns } from "./orphans.ts";
 *
 * await using store = openStore(":memory:");
 * const payloadDir = await Deno.makeTempDir();
 * const ended = await endOrphanedRuns(store, { payloadDir });
 * console.assert(ended.terminated.length === 0 && ended.payloadFiles.length === 0);
 * await store.recover();
 * await Deno.remove(payloadDir);
 * ```
 */
export async function endOrphanedRuns(
  store: Store,
  options: EndOrphanedRunsOptions,
): Promise<OrphanedRuns> {
  const terminated: RunningGroup[] = [];
  const leftAlone: RunningGroup[] = [];
  for (const group of await store.runningGroups()) {
    const mine = Number.isSafeInteger(group.pgid) && group.pgid > 1 &&
      await processStartTime(group.pgid, options.startTimes) === group.leaderStartTime;
    (mine ? terminated : leftAlone).push(group);
  }
  await Promise.all(
    terminated.map((group) => terminateGroup(group.pgid, options.killGraceMs ?? 5000)),
  );
  const payloadFiles = await sweepPayloadFiles(options.payloadDir);
  return { terminated, leftAlone, payloadFiles };
}
