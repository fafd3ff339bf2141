/**
 * Reading the process table for tests: a process's `/proc/<pid>/stat`
 * fields, whether it runs, its children, its memory; and the one poll until
 * something holds.
 *
 * @module
 */

/**
 * The fields of `/proc/<pid>/stat` after the command name: state, ppid, pgrp,
 * session, … (field N of proc(5) is at index N - 3).
 *
 * @param pid a process
 * @returns its fields, or null when it is gone
 */
export function statFields(pid: number): string[] | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name is in parentheses and may itself contain spaces or ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/**
 * Running: in the process table and not a zombie (an orphan whose new parent
 * does not reap it stays a zombie: dead, holding nothing).
 *
 * @param pid a process
 * @returns whether it runs
 */
export function isRunning(pid: number): boolean {
  const fields = statFields(pid);
  return fields !== null && fields[0] !== "Z";
}

/**
 * The processes whose parent is `ppid`.
 *
 * @param ppid a process
 * @returns their pids
 */
export function childrenOf(ppid: number): number[] {
  const kids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (Number(statFields(pid)?.[1]) === ppid) kids.push(pid);
  }
  return kids;
}

/**
 * The resident memory of a process, from `/proc/<pid>/status`.
 *
 * @param pid a process
 * @returns its VmRSS in kB
 */
export function rssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

/**
 * The tests' one deadline poll: look every 25 ms until `probe` gives
 * something other than `false`, `undefined` or `null`. For what a test can
 * only observe by looking (a file, a log record, a process), never as a
 * pause.
 *
 * @param what what is waited for, for the error; a function to describe the state at the deadline
 * @param probe the condition, or a lookup returning what was found
 * @param timeoutMs how long to wait, default 15 s
 * @returns what `probe` gave
 * @throws {Error} when nothing came in time
 */
export async function waitUntil<T>(
  what: string | (() => string),
  probe: () => T | Promise<T>,
  timeoutMs = 15_000,
): Promise<Exclude<T, false | undefined | null>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const found = await probe();
    if (found !== false && found !== undefined && found !== null) {
      return found as Exclude<T, false | undefined | null>;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Not within ${timeoutMs} ms: ${typeof what === "string" ? what : what()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
