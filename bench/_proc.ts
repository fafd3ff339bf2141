/**
 * What a server costs the machine, read from Linux's /proc: its resident
 * memory (current and peak) and the processes it has forked.
 *
 * @module
 */

/** A process's memory, in bytes. */
export interface Memory {
  /** Resident now (`VmRSS`). */
  rss: number;
  /** The most it was ever resident (`VmHWM`). */
  peak: number;
}

/**
 * Read a process's memory from `/proc/<pid>/status`.
 *
 * @param pid the process
 * @returns its memory, or null when it is gone
 */
export function memoryOf(pid: number): Memory | null {
  let text;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { rss: kb("VmRSS") * 1024, peak: kb("VmHWM") * 1024 };
}

/** CPU time a process used, in milliseconds (all its threads). */
export interface CpuTime {
  /** Its own user + system time. */
  self: number;
  /** User + system time of the children it waited for. */
  children: number;
}

/** Clock ticks per second of `/proc/<pid>/stat`; 100 on every Linux in practice. */
const TICKS_PER_SECOND = 100;

/**
 * Read a process's CPU time from `/proc/<pid>/stat`.
 *
 * @param pid the process
 * @returns its CPU time, or null when it is gone
 */
export function cpuTimeOf(pid: number): CpuTime | null {
  let stat;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // Fields after the parenthesised command name start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  const [utime, stime, cutime, cstime] = fields.slice(11, 15);
  const ms = 1000 / TICKS_PER_SECOND;
  return { self: (utime + stime) * ms, children: (cutime + cstime) * ms };
}

/**
 * The scheduler's run time of each live thread of a process, nanoseconds,
 * from `/proc/<pid>/task/<tid>/schedstat` (not 10 ms ticks: precise enough
 * for an idle process's few milliseconds a minute).
 *
 * @param pid the process
 * @returns run time by thread id; empty when the process is gone
 */
export function threadCpuNs(pid: number): Map<string, number> {
  const times = new Map<string, number>();
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const text = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/schedstat`);
        times.set(entry.name, Number(text.split(" ")[0]));
      } catch {
        // The thread exited during the scan.
      }
    }
  } catch {
    // The process is gone.
  }
  return times;
}

/**
 * CPU a process uses from now on, summed over its threads, those that start
 * and end meanwhile included (each counted up to its last sample: sample
 * often, e.g. every second).
 */
export class ThreadCpu {
  readonly #pid: number;
  readonly #first: Map<string, number>;
  readonly #last = new Map<string, number>();

  /** @param pid the process */
  constructor(pid: number) {
    this.#pid = pid;
    this.#first = threadCpuNs(pid);
  }

  /** Read every thread's time now. */
  sample(): void {
    for (const [tid, ns] of threadCpuNs(this.#pid)) this.#last.set(tid, ns);
  }

  /** @returns the CPU used since construction up to the last sample, milliseconds */
  usedMs(): number {
    let ns = 0;
    for (const [tid, last] of this.#last) ns += last - (this.#first.get(tid) ?? 0);
    return ns / 1e6;
  }
}

/** How many processes descend from one. */
export interface Tree {
  /** Direct children: the hooks a daemon started, and any helper of its own. */
  children: number;
  /**
   * Descendants that lead a process group of their own: hookd's hooks (each in
   * a session and group of its own), not a helper of the daemon's, which stays
   * in the daemon's group.
   */
  groupLeaders: number;
  /** All descendants: hooks and whatever they started. */
  descendants: number;
  /**
   * CPU time, ms, of the process and every live descendant, each with its
   * reaped children: what the tree has used so far, long-lived children included.
   */
  cpuMs: number;
}

/**
 * Count a process's children and descendants by reading every
 * `/proc/<pid>/stat` (the kernel here has no `/proc/<pid>/task/<tid>/children`).
 * With thousands of processes one scan costs tens of milliseconds.
 *
 * @param root the process
 * @returns its children and descendants
 */
export function treeOf(root: number): Tree {
  const kids = new Map<number, number[]>();
  const leaders = new Set<number>();
  const cpu = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    let stat;
    try {
      stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    } catch {
      continue; // exited during the scan
    }
    // The command name is in parentheses and may itself contain spaces or ")".
    // After the name: state, ppid, pgrp, session, … utime (12), stime, cutime, cstime.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 15);
    const ppid = Number(fields[1]);
    if (Number(fields[2]) === pid) leaders.add(pid);
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
    cpu.set(pid, (utime + stime + cutime + cstime) * 1000 / TICKS_PER_SECOND);
    const list = kids.get(ppid);
    if (list) list.push(pid);
    else kids.set(ppid, [pid]);
  }
  const children = kids.get(root)?.length ?? 0;
  let descendants = 0;
  let groupLeaders = 0;
  let cpuMs = cpu.get(root) ?? 0;
  const todo = [root];
  while (todo.length > 0) {
    for (const kid of kids.get(todo.pop()!) ?? []) {
      descendants++;
      if (leaders.has(kid)) groupLeaders++;
      cpuMs += cpu.get(kid) ?? 0;
      todo.push(kid);
    }
  }
  return { children, groupLeaders, descendants, cpuMs };
}

/** The maxima a {@linkcode Sampler} saw. */
export interface Samples {
  /** The largest `VmRSS` seen, bytes. */
  maxRss: number;
  /** The most direct children at once. */
  maxChildren: number;
  /** The most descendants leading their own process group at once. */
  maxGroupLeaders: number;
  /** The most descendants at once. */
  maxDescendants: number;
  /** The last tree seen. */
  last: Tree;
  /** How many samples were taken. */
  count: number;
}

/**
 * Sample a process every `intervalMs` until stopped. Sampling is itself
 * work on a small machine, so it is only used where the process count matters.
 */
export class Sampler {
  readonly #pid: number;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly samples: Samples = {
    maxRss: 0,
    maxChildren: 0,
    maxGroupLeaders: 0,
    maxDescendants: 0,
    last: { children: 0, groupLeaders: 0, descendants: 0, cpuMs: 0 },
    count: 0,
  };

  /**
   * @param pid the process to watch
   * @param intervalMs the time between samples
   */
  constructor(pid: number, intervalMs: number) {
    this.#pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  /**
   * Take one sample now.
   *
   * @returns the tree seen
   */
  sample(): Tree {
    const memory = memoryOf(this.#pid);
    const tree = treeOf(this.#pid);
    const s = this.samples;
    s.maxRss = Math.max(s.maxRss, memory?.rss ?? 0);
    s.maxChildren = Math.max(s.maxChildren, tree.children);
    s.maxGroupLeaders = Math.max(s.maxGroupLeaders, tree.groupLeaders);
    s.maxDescendants = Math.max(s.maxDescendants, tree.descendants);
    s.last = tree;
    s.count++;
    return tree;
  }

  /** Stop sampling. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
