/**
 * Summarise a V8 `.cpuprofile` (from `deno run --cpu-prof`, or
 * `deno task bench --profile DIR`): where the time went, by function (self
 * and inclusive) and by source file, so a slow path can be named precisely.
 *
 * Usage: `deno run -A bench/_cpuprofile.ts FILE.cpuprofile [TOP]`
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One line of the summary. */
export interface Entry {
  /** A function (`name file:line`) or a file. */
  name: string;
  /** Time in the function itself, milliseconds. */
  selfMs: number;
  /** Time in it or anything it called, milliseconds. */
  totalMs: number;
}

/** Where the time went. */
export interface Summary {
  /** The profile's wall time, milliseconds. */
  wallMs: number;
  /** Sampled time, milliseconds; idle included. */
  sampledMs: number;
  /** By function, largest inclusive time first. */
  functions: Entry[];
  /** By source file (self time of its functions, inclusive time of entering it). */
  files: Entry[];
}

/**
 * Summarise a profile.
 *
 * @param profile the parsed `.cpuprofile`
 * @returns time by function and by file
 */
export function summarise(profile: CpuProfile): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const functions = new Map<string, Entry>();
  const files = new Map<string, Entry>();
  const entry = (map: Map<string, Entry>, name: string) => {
    let e = map.get(name);
    if (!e) map.set(name, e = { name, selfMs: 0, totalMs: 0 });
    return e;
  };
  let sampledMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    sampledMs += ms;
    let id: number | undefined = profile.samples[i];
    const seenFunctions = new Set<string>();
    const seenFiles = new Set<string>();
    let self = true;
    while (id !== undefined) {
      const frame = byId.get(id)!.callFrame;
      const fn = functionName(frame);
      const file = fileName(frame);
      if (self) {
        entry(functions, fn).selfMs += ms;
        entry(files, file).selfMs += ms;
        self = false;
      }
      if (!seenFunctions.has(fn)) {
        seenFunctions.add(fn);
        entry(functions, fn).totalMs += ms;
      }
      if (!seenFiles.has(file)) {
        seenFiles.add(file);
        entry(files, file).totalMs += ms;
      }
      id = parent.get(id);
    }
  }
  const order = (a: Entry, b: Entry) => b.totalMs - a.totalMs;
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    sampledMs,
    functions: [...functions.values()].sort(order),
    files: [...files.values()].sort(order),
  };
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\/.*?\/(lib|bench|tests)\//, "$1/")
    .replace(/^file:\/\/.*\/main\.ts$/, "main.ts")
    .replace(/^file:\/\/.*\/node_modules\/\.deno\/([^/]+)\/.*?([^/]+)$/, "npm:$1/$2")
    .replace(
      /^file:\/\/.*\/npm\/registry\.npmjs\.org\/([^/]+(?:\/[^/]+)?)\/.*?([^/]+)$/,
      "npm:$1/$2",
    );
}

function functionName(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  return frame.url ? `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : name;
}

function fileName(frame: CallFrame): string {
  return frame.url ? shortUrl(frame.url) : `(${frame.functionName || "native"})`;
}

if (import.meta.main) {
  const [file, top = "30"] = Deno.args;
  if (!file) {
    console.error("Usage: deno run -A bench/_cpuprofile.ts FILE.cpuprofile [TOP]");
    Deno.exit(2);
  }
  const summary = summarise(JSON.parse(await Deno.readTextFile(file)));
  const pct = (ms: number) => `${(ms / summary.sampledMs * 100).toFixed(1).padStart(5)}%`;
  const show = (title: string, entries: Entry[]) => {
    console.log(`\n${title}\n   self  total  name`);
    for (const e of entries.slice(0, Number(top))) {
      console.log(`${pct(e.selfMs)} ${pct(e.totalMs)}  ${e.name}`);
    }
  };
  console.log(
    `wall ${summary.wallMs.toFixed(0)} ms, sampled ${summary.sampledMs.toFixed(0)} ms`,
  );
  show("By file (self = its own code; total = time spent once it was entered)", summary.files);
  show("By function, largest total first", summary.functions);
  show(
    "By function, largest self first",
    [...summary.functions].sort((a, b) => b.selfMs - a.selfMs),
  );
}
