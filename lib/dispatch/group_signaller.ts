/**
 * Signals hooks' process groups with `Deno.kill(-pgid, …)`; a group is known
 * to be gone when signalling it meets ESRCH.
 *
 * @module
 */

import { setTimeout as delay } from "node:timers/promises";

/** How often to look whether a terminated group is gone. */
const GROUP_POLL_MS = 50;

/**
 * Send a signal to every process in a process group.
 *
 * @param pgid the group's id, an integer above 1
 * @param signal `"SIGTERM"` or `"SIGKILL"`
 * @returns false when the group has no process left (ESRCH); true when the
 *   signal was sent, or when that could not be told (e.g. EPERM)
 * @throws {RangeError} when `pgid` is not an integer above 1 (0 or 1 would
 *   signal hookd's own group or every process)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signalGroup } from "./group_signaller.ts";
 * // No group has this id: nothing to signal.
 * assert.equal(signalGroup(2 ** 22 + 1, "SIGKILL"), false);
 * ```
 */
export function signalGroup(pgid: number, signal: "SIGTERM" | "SIGKILL"): boolean {
  checkPgid(pgid);
  return sendToGroup(pgid, signal);
}

/**
 * Whether a process group still has a member. Zombies count: a killed hook
 * child that nobody reaps (hookd as PID 1 in a container, without an init)
 * keeps its group "alive" until the grace of {@linkcode terminateGroup} ends.
 *
 * @param pgid the group's id, an integer above 1
 * @returns false once the group is empty; true otherwise, or when that could not be told
 * @throws {RangeError} when `pgid` is not an integer above 1
 */
export function groupExists(pgid: number): boolean {
  checkPgid(pgid);
  // Signal 0 checks for existence and permission without delivering anything;
  // Deno passes the number through, though its type names only real signals.
  return sendToGroup(pgid, 0 as unknown as Deno.Signal);
}

/**
 * SIGTERM to the group, then SIGKILL once `graceMs` has passed with a member
 * still there. Returns when the group is empty or SIGKILL is sent.
 *
 * @param pgid the group's id, an integer above 1
 * @param graceMs how long members may take to exit after SIGTERM
 * @throws {RangeError} when `pgid` is not an integer above 1
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, "SIGTERM")) return;
  const deadline = performance.now() + graceMs;
  for (;;) {
    if (!groupExists(pgid)) return;
    const left = deadline - performance.now();
    if (left <= 0) break;
    await delay(Math.min(GROUP_POLL_MS, left));
  }
  signalGroup(pgid, "SIGKILL");
}

function sendToGroup(pgid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(-pgid, signal);
    return true;
  } catch (error) {
    // ESRCH: no process has that group id (any more).
    return !(error instanceof Deno.errors.NotFound);
  }
}

function checkPgid(pgid: number): void {
  if (!Number.isSafeInteger(pgid) || pgid < 2) {
    throw new RangeError(`process group id must be an integer above 1: got ${pgid}`);
  }
}
