/**
 * What a crashed daemon leaves behind, cleaned up at the next start before
 * `recover()` requeues those deliveries, so an orphan never runs beside its
 * re-run: hooks still running (outside systemd nothing else ends them) and
 * their payload files.
 *
 * @module
 */

import type { RunningGroup, Store } from "../store/mod.ts";
import { terminateGroup } from "./group_signaller.ts";
import { startTimes } from "./start_time.ts";
import { sweepPayloadFiles } from "./_payload_file.ts";

/**
 * How far the start time read from `/proc` may be from the recorded one: the
 * boot time is whole seconds, and the record is taken just before the spawn.
 */
const START_TOLERANCE_MS = 2000;

/** Options for {@linkcode endOrphanedRuns}. */
export interface EndOrphanedRunsOptions {
  /** The payload directory the queue's runs use; every payload file in it is removed. */
  payloadDir: string;
  /** Time between SIGTERM and SIGKILL, default 5000 (the queue's default). */
  killGraceMs?: number;
}

/** A group {@linkcode endOrphanedRuns} did not signal, and why. */
export interface LeftAloneGroup extends RunningGroup {
  /**
   * `gone`: its leader no longer runs. `started at another time`: a process
   * with that pid runs, but it started at another time than recorded (a pid
   * reused, or a clock stepped since boot: not ours to kill, when unsure).
   */
  reason: "gone" | "started at another time";
  /** For `started at another time`: when the process that has the pid now started, epoch ms. */
  startedAt?: number;
}

/** What {@linkcode endOrphanedRuns} did. */
export interface OrphanedRuns {
  /** Groups whose leader was still the recorded process: terminated (SIGTERM, then SIGKILL). */
  terminated: RunningGroup[];
  /** Groups left alone, each with its reason. */
  leftAlone: LeftAloneGroup[];
  /** The payload files removed. */
  payloadFiles: string[];
}

/**
 * At start, before `store.recover()` and any run (only in the process that
 * runs hooks): terminate the process groups of runs a previous daemon left
 * `running`, then remove every payload file in `payloadDir`. A group is
 * signalled only while its leader started when it was recorded to (within two
 * seconds), so a pid reused by an unrelated process is never hit; a group
 * whose leader has exited cannot be told from a new one that reuses the id,
 * so it is left alone.
 *
 * @param store the delivery store, not yet recovered
 * @param options the payload directory and the kill grace
 * @returns what was terminated, left alone and removed
 * @throws {StoreUnavailableError} when the running runs cannot be read
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "../store/mod.ts";
 * import { endOrphanedRuns } from "./orphans.ts";
 *
 * await using store = openStore(":memory:");
 * const payloadDir = await Deno.makeTempDir();
 * const ended = await endOrphanedRuns(store, { payloadDir });
 * assert.deepEqual([ended.terminated, ended.payloadFiles], [[], []]);
 * await store.recover();
 * await Deno.remove(payloadDir);
 * ```
 */
export async function endOrphanedRuns(
  store: Store,
  options: EndOrphanedRunsOptions,
): Promise<OrphanedRuns> {
  const groups = (await store.runningGroups()).filter((group) =>
    Number.isSafeInteger(group.pgid) && group.pgid > 1
  );
  const started = groups.length === 0 ? new Map() : await startTimes(groups.map((g) => g.pgid));
  const terminated: RunningGroup[] = [];
  const leftAlone: LeftAloneGroup[] = [];
  for (const group of groups) {
    const startedAt = started.get(group.pgid);
    if (startedAt === undefined) leftAlone.push({ ...group, reason: "gone" });
    else if (Math.abs(startedAt - group.leaderStartTime) <= START_TOLERANCE_MS) {
      terminated.push(group);
    } else leftAlone.push({ ...group, reason: "started at another time", startedAt });
  }
  await Promise.all(
    terminated.map((group) => terminateGroup(group.pgid, options.killGraceMs ?? 5000)),
  );
  const payloadFiles = await sweepPayloadFiles(options.payloadDir);
  return { terminated, leftAlone, payloadFiles };
}
