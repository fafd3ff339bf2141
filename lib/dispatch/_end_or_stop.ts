/**
 * The wait every run does, spawned or launched: for the hook's end, or for
 * its time-out or abort, whichever comes first; a stop terminates the whole
 * process group. Private to `lib/dispatch/`.
 *
 * @module
 */

import { terminateGroup } from "./group_signaller.ts";

/** Options of {@linkcode endOrStop}. */
export interface EndOrStopOptions {
  /** How long the hook may run. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL when terminating. */
  killGraceMs: number;
  /** Aborting stops the hook as a time-out does. */
  signal: AbortSignal | undefined;
}

/**
 * Wait for `ended`, or stop the hook: on time-out or abort (an already aborted
 * signal included) the group gets SIGTERM, then SIGKILL after the grace if
 * anything in it is still there.
 *
 * @param pgid the hook's process group
 * @param ended settles when the hook ended
 * @param options the time limit, the kill grace and the abort signal
 * @returns whether the hook was stopped, and why; `ended` may still be pending
 *   when it was (the caller waits for it)
 * @throws what `ended` rejects with, when it settles first
 */
export async function endOrStop(
  pgid: number,
  ended: Promise<unknown>,
  options: EndOrStopOptions,
): Promise<{ timedOut: boolean; aborted: boolean }> {
  const { signal } = options;
  let stop: (reason: "timeout" | "abort") => void = () => {};
  const stopped = new Promise<"timeout" | "abort">((resolve) => stop = resolve);
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = () => stop("abort");
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) stop("abort");
  try {
    const first = await Promise.race([ended.then(() => "ended" as const), stopped]);
    if (first === "ended") return { timedOut: false, aborted: false };
    await terminateGroup(pgid, options.killGraceMs);
    return { timedOut: first === "timeout", aborted: first === "abort" };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
