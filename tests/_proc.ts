/**
 * Reading the process table for tests: a process's `/proc/<pid>/stat`
 * fields, whether it runs, its children, and polling until something holds.
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
 * Poll until `done()` holds.
 *
 * @param what what is waited for, for the error
 * @param done the condition
 * @param timeoutMs how long to wait, default 15 s
 * @throws {Error} when it did not hold in time
 */
export async function waitUntil(
  what: string,
  done: () => boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
