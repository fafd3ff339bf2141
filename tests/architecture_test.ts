/**
 * The architecture of hookd, checked on its import graph: no import cycles
 * (type-only imports count), private `_x.ts` files used only inside their
 * folder and its mirrored tests, dependencies pointing the way
 * {@linkcode RULES} says, and small files. The checker is tested first on
 * small graphs that break each rule.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  type ArchitectureRules,
  checkArchitecture,
  type DirectionRule,
  findCycles,
  graphFromSources,
  importsOf,
  readImportGraph,
  resolveLocal,
  type Violation,
} from "./_import_graph.ts";
import { childEnv } from "./harness.ts";

/**
 * Which way dependencies may point. A folder pattern ends in `/`; a rule on a
 * folder that does not exist yet matches nothing, so rules can be written
 * ahead of the files.
 */
const DIRECTIONS: DirectionRule[] = [
  {
    from: ["lib/verify/"],
    mayNotImport: ["lib/", "main.ts"],
    except: ["lib/verify/", "lib/config/duration.ts"],
    reason:
      "verification is a self-contained library of sender schemes, usable and testable alone (durations such as TOLERANCE=5m are parsed by config's leaf duration.ts)",
  },
  {
    from: ["lib/store/", "lib/log/", "lib/config/"],
    mayNotImport: ["lib/http/", "lib/dispatch/", "lib/cli/", "lib/daemon.ts", "main.ts"],
    reason: "storage, logging and configuration are foundations the layers above build on",
  },
  {
    from: ["lib/config/"],
    mayNotImport: ["lib/store/", "lib/log/"],
    reason:
      "reading the configuration touches no database and writes no log: `hookd check` is pure",
  },
  {
    from: ["lib/store/"],
    mayNotImport: ["lib/log/"],
    reason: "the store reports failures by throwing; what gets logged is the caller's decision",
  },
  {
    from: ["lib/log/"],
    mayNotImport: ["lib/store/"],
    reason: "the log must keep working when the store does not",
  },
  {
    from: ["lib/http/"],
    mayNotImport: ["lib/dispatch/", "lib/cli/", "lib/daemon.ts"],
    reason: "the HTTP layer hands deliveries to intake and never knows how hooks run",
  },
  {
    from: ["lib/dispatch/"],
    mayNotImport: ["lib/http/", "lib/cli/", "lib/daemon.ts"],
    reason: "running hooks must not depend on how deliveries arrived or on the daemon's wiring",
  },
  {
    from: ["lib/cli/"],
    mayNotImport: ["lib/daemon.ts", "lib/http/"],
    reason: "commands work on stored deliveries and config without starting a server",
  },
  {
    from: ["lib/"],
    mayNotImport: ["main.ts", "tests/", "bench/"],
    reason: "the library is imported by the entry point, tests and benchmarks, never the reverse",
  },
];

/** What imports lib/: the entry point and lib/'s own files and folders. */
const LIB_PARTS = [
  "main.ts",
  "lib/daemon.ts",
  "lib/endpoints.ts",
  "lib/metrics.ts",
  "lib/systemd_notify.ts",
  "lib/cli/",
  "lib/config/",
  "lib/dispatch/",
  "lib/http/",
  "lib/log/",
  "lib/store/",
  "lib/verify/",
];

/**
 * A folder's `mod.ts` is its face: the rest of lib/ imports the folder
 * through it alone (its tests may reach in, see testMirror). `below` are
 * parts the face itself imports, which therefore cannot import it back;
 * their own rule above says what they may reach.
 */
function face(folder: string, below: readonly string[] = []): DirectionRule {
  return {
    from: LIB_PARTS.filter((part) => part !== folder && !below.includes(part)),
    mayNotImport: [folder],
    except: [`${folder}mod.ts`],
    reason: `${folder}mod.ts is the face the rest of lib/ uses, so the folder can change inside`,
  };
}

DIRECTIONS.push(
  face("lib/http/"),
  face("lib/log/"),
  // config/mod.ts imports verify/, which reads durations from config's leaf duration.ts.
  face("lib/config/", ["lib/verify/", "lib/store/"]),
  {
    from: ["lib/store/"],
    mayNotImport: ["lib/config/"],
    except: ["lib/config/limits.ts", "lib/config/store_setting.ts", "lib/config/parse_config.ts"],
    reason:
      "the store loads without the configuration parser and its packages (a bare `deno run` of it works): it reads two of config's leaves, and mod.ts the Config type",
  },
  face("lib/dispatch/"),
  face("lib/store/"),
  face("lib/verify/"),
  face("lib/cli/"),
);

/** Every rule the tree is held to; adjust here. */
const RULES: ArchitectureRules = {
  // Where a cycle is an error: the shipped code.
  cyclesAmong: ["main.ts", "lib/"],
  // tests/x/ mirrors lib/x/ and may reach into its private files.
  testMirror: { source: "lib/", tests: "tests/" },
  directions: DIRECTIONS,
  // A file past 600 lines does more than one thing.
  maxLines: { under: ["lib/"], lines: 600 },
  // lib/ keeps the few files that tie folders together; the rest live in folders.
  maxTopLevelFiles: { folder: "lib/", files: 5 },
};

/** What the real-tree check reads: the shipped code and everything that may import it. */
const INCLUDE = ["main.ts", "lib/", "tests/", "bench/"];

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function assertKept(violations: Violation[]): void {
  if (violations.length === 0) return;
  assert.fail(
    `${violations.length} architecture rule(s) broken:\n` +
      violations.map((v) => `  [${v.rule}] ${v.message}`).join("\n"),
  );
}

function rulesBroken(sources: Record<string, string>): string[] {
  return checkArchitecture(graphFromSources(sources), RULES).map((v) => v.rule);
}

Deno.test("importsOf() sees every way a module depends on another", async (t) => {
  const kinds = (source: string) => importsOf(source).map((s) => [s.specifier, s.kind]);

  await t.step("import type, import { type X } and export type … from are type edges", () => {
    assert.deepEqual(
      kinds(
        [
          'import type { A } from "./a.ts";',
          'import { type B, type C } from "./b.ts";',
          'export type { D } from "./d.ts";',
          'export type * from "./e.ts";',
          'let f: typeof import("./f.ts");',
        ].join("\n"),
      ),
      [["./a.ts", "type"], ["./b.ts", "type"], ["./d.ts", "type"], ["./e.ts", "type"], [
        "./f.ts",
        "type",
      ]],
    );
  });

  await t.step("an import mixing a value with types is a code edge", () => {
    assert.deepEqual(kinds('import { type A, b } from "./a.ts";'), [["./a.ts", "code"]]);
    assert.deepEqual(kinds('import a, { type B } from "./a.ts";'), [["./a.ts", "code"]]);
    assert.deepEqual(kinds('import "./side.ts";'), [["./side.ts", "code"]]);
    assert.deepEqual(kinds('export * from "./all.ts";'), [["./all.ts", "code"]]);
  });

  await t.step("import() and a worker's new URL(…, import.meta.url) are edges", () => {
    assert.deepEqual(
      kinds(
        [
          'const m = await import("./lazy.ts");',
          'new Worker(new URL("./_worker.ts", import.meta.url), { type: "module" });',
          'const data = new URL("./fixture.json", import.meta.url);',
        ].join("\n"),
      ),
      [["./lazy.ts", "dynamic"], ["./_worker.ts", "url"]],
    );
  });

  await t.step("imports in comments and strings are not edges", () => {
    assert.deepEqual(
      kinds(
        [
          "/** @example",
          ' * import { x } from "./doc.ts";',
          " */",
          "const s = 'import { y } from \"./string.ts\"';",
        ].join("\n"),
      ),
      [],
    );
  });

  await t.step("the line of each import is reported", () => {
    assert.deepEqual(importsOf('\n\nimport "./third.ts";').map((s) => s.line), [3]);
  });
});

Deno.test("resolveLocal() names files of the repository and nothing else", async (t) => {
  await t.step("relative specifiers resolve against the importing file", () => {
    assert.equal(resolveLocal("lib/http/app.ts", "../intake.ts"), "lib/intake.ts");
    assert.equal(resolveLocal("main.ts", "./lib/daemon.ts"), "lib/daemon.ts");
  });

  await t.step("npm:, node:, remote and unmapped bare specifiers are outside", () => {
    for (
      const specifier of ["npm:hono@4", "node:fs", "https://x.test/a.ts", "hono", "../../x.ts"]
    ) {
      assert.equal(resolveLocal("lib/a.ts", specifier), undefined, specifier);
    }
  });

  await t.step("a bare specifier the import map sends to a local path resolves", () => {
    const importMap = { "@lib/": "./lib/", "hono": "npm:hono@4" };
    assert.equal(
      resolveLocal("tests/a_test.ts", "@lib/log/mod.ts", { importMap }),
      "lib/log/mod.ts",
    );
    assert.equal(resolveLocal("tests/a_test.ts", "hono", { importMap }), undefined);
  });
});

Deno.test("checkArchitecture() rejects a graph that breaks a rule", async (t) => {
  await t.step("accepts a clean graph in the intended shape", () => {
    assert.deepEqual(
      checkArchitecture(
        graphFromSources({
          "main.ts": 'import "./lib/daemon.ts";\nimport "./lib/cli/mod.ts";',
          "lib/daemon.ts": 'import "./http/mod.ts";\nimport "./dispatch/mod.ts";',
          "lib/dispatch/mod.ts": 'import "./queue.ts";',
          "lib/http/mod.ts": 'import "./app.ts";',
          "lib/intake.ts": 'import type { Store } from "./store/mod.ts";',
          "lib/http/app.ts": 'import "../intake.ts";\nimport "../verify/mod.ts";',
          "lib/dispatch/queue.ts": 'import type { NewDelivery } from "../intake.ts";',
          "lib/cli/mod.ts": 'import "../store/mod.ts";\nimport "../config/mod.ts";',
          "lib/store/mod.ts": 'import "./_files.ts";\nimport "../config/limits.ts";',
          "lib/config/limits.ts": "",
          "lib/store/_files.ts": "",
          "lib/log/mod.ts": "",
          "lib/config/mod.ts": 'import "../verify/mod.ts";',
          "lib/verify/mod.ts": 'import "./_hmac.ts";',
          "lib/verify/_hmac.ts": "",
          "tests/store/files_test.ts": 'import "../../lib/store/_files.ts";',
          "tests/verify/daemon_test.ts": 'import "../harness.ts";',
          "tests/_daemon.ts": 'import "../lib/daemon.ts";',
        }),
        RULES,
      ),
      [],
    );
  });

  await t.step("an import cycle is reported as a path back to its start", () => {
    const graph = graphFromSources({
      "lib/a.ts": 'import "./b.ts";',
      "lib/b.ts": 'import "./c.ts";',
      "lib/c.ts": 'import "./a.ts";',
    });
    assert.deepEqual(findCycles(graph, ["lib/"]), [[
      "lib/a.ts",
      "lib/b.ts",
      "lib/c.ts",
      "lib/a.ts",
    ]]);
    const [violation] = checkArchitecture(graph, RULES);
    assert.equal(violation.rule, "cycle");
    assert.match(
      violation.message,
      /^import cycle lib\/a\.ts → lib\/b\.ts → lib\/c\.ts → lib\/a\.ts/,
    );
  });

  await t.step("a cycle made only of type-only imports is still a cycle", () => {
    assert.deepEqual(
      rulesBroken({
        "lib/app.ts": 'import type { Intake } from "./intake.ts";',
        "lib/intake.ts": 'import { type NewDelivery } from "./app.ts";',
      }),
      ["cycle"],
    );
  });

  await t.step("every cycle through a tangle is reported, and a file importing itself", () => {
    const graph = graphFromSources({
      "lib/a.ts": 'import "./b.ts";\nimport "./c.ts";',
      "lib/b.ts": 'import "./a.ts";',
      "lib/c.ts": 'import "./a.ts";\nimport "./c.ts";',
    });
    assert.deepEqual(findCycles(graph, ["lib/"]), [
      ["lib/a.ts", "lib/b.ts", "lib/a.ts"],
      ["lib/a.ts", "lib/c.ts", "lib/a.ts"],
      ["lib/c.ts", "lib/c.ts"],
    ]);
  });

  await t.step("a cycle through a worker's URL or an import() is a cycle", () => {
    assert.deepEqual(
      rulesBroken({
        "lib/store/mod.ts": 'new Worker(new URL("./worker.ts", import.meta.url));',
        "lib/store/worker.ts": 'const m = await import("./mod.ts");',
      }),
      ["cycle"],
    );
  });

  await t.step("a private file imported from another folder", () => {
    assert.deepEqual(
      rulesBroken({
        // A folder no face rule covers, so that only the private rule speaks.
        "lib/extra/_hex.ts": "",
        "lib/daemon.ts": 'import "./extra/_hex.ts";',
      }),
      ["private"],
    );
  });

  await t.step("a private file imported from a test that does not mirror its folder", () => {
    assert.deepEqual(
      rulesBroken({
        "lib/store/_schema.ts": "",
        "tests/daemon_test.ts": 'import "../lib/store/_schema.ts";',
      }),
      ["private"],
    );
  });

  await t.step("a private file started as a worker from another folder", () => {
    assert.deepEqual(
      rulesBroken({
        "lib/store/_worker.ts": "",
        "lib/store.ts": 'new Worker(new URL("./store/_worker.ts", import.meta.url));',
      }),
      ["private"],
    );
  });

  const forbidden: [string, Record<string, string>][] = [
    ["lib/verify/ importing the rest of lib/", {
      "lib/verify/github.ts": 'import type { Config } from "../config/mod.ts";',
      "lib/config/mod.ts": "",
    }],
    ["lib/store/ importing lib/dispatch/", {
      "lib/store/mod.ts": 'import type { Job } from "../dispatch/mod.ts";',
      "lib/dispatch/mod.ts": "",
    }],
    ["lib/log/ importing lib/daemon.ts", {
      "lib/log/mod.ts": 'export type { Daemon } from "../daemon.ts";',
      "lib/daemon.ts": "",
    }],
    ["lib/config/ importing lib/cli/", {
      "lib/config/mod.ts": 'import { run } from "../cli/mod.ts";',
      "lib/cli/mod.ts": "",
    }],
    ["lib/http/ importing lib/dispatch/", {
      "lib/http/app.ts": 'import { Queue } from "../dispatch/mod.ts";',
      "lib/dispatch/mod.ts": "",
    }],
    ["lib/dispatch/ importing lib/http/", {
      "lib/dispatch/queue.ts": 'import { HttpError } from "../http/mod.ts";',
      "lib/http/mod.ts": "",
    }],
    ["lib/cli/ importing lib/daemon.ts", {
      "lib/cli/check.ts": 'const d = await import("../daemon.ts");',
      "lib/daemon.ts": "",
    }],
    ["lib/config/ importing lib/store/", {
      "lib/config/mod.ts": 'import { openStore } from "../store/mod.ts";',
      "lib/store/mod.ts": "",
    }],
    ["lib/store/ importing lib/log/", {
      "lib/store/_group_commit.ts": 'import { daemonLog } from "../log/mod.ts";',
      "lib/log/mod.ts": "",
    }],
    ["lib/log/ importing lib/store/", {
      "lib/log/mod.ts": 'import type { Store } from "../store/mod.ts";',
      "lib/store/mod.ts": "",
    }],
    ["lib/ importing tests/", {
      "lib/metrics.ts": 'import "../tests/prometheus.ts";',
      "tests/prometheus.ts": "",
    }],
    ["lib/ importing past a folder's face", {
      "lib/daemon.ts": 'import "./log/secret_name.ts";\nimport "./log/mod.ts";',
      "lib/log/secret_name.ts": "",
      "lib/log/mod.ts": 'import "./secret_name.ts";',
    }],
    ["lib/ importing past config's face", {
      "lib/http/app.ts": 'import { filterMiss } from "../config/filter.ts";',
      "lib/config/filter.ts": "",
    }],
    ["main.ts importing past dispatch's face", {
      "main.ts": 'import { createQueue } from "./lib/dispatch/queue.ts";',
      "lib/dispatch/queue.ts": "",
    }],
    ["lib/ importing the store past its face", {
      "lib/daemon.ts": 'import "./store/postgres.ts";\nimport "./store/mod.ts";',
      "lib/store/postgres.ts": "",
      "lib/store/mod.ts": 'await import("./postgres.ts");',
    }],
    ["lib/ importing main.ts", {
      "lib/daemon.ts": 'import "../main.ts";',
      "main.ts": "",
    }],
  ];
  for (const [name, sources] of forbidden) {
    await t.step(`${name} breaks a direction rule`, () => {
      const violations = checkArchitecture(graphFromSources(sources), RULES);
      assert.deepEqual(violations.map((v) => v.rule), ["direction"]);
      assert.match(violations[0].message, /:\d+ (imports|loads)/);
    });
  }

  await t.step("a file under lib/ over 600 lines", () => {
    assert.deepEqual(rulesBroken({ "lib/store/mod.ts": "x;\n".repeat(601) }), ["size"]);
    assert.deepEqual(rulesBroken({ "lib/store/mod.ts": "x;\n".repeat(600) }), []);
  });

  await t.step("more than 5 files at the top of lib/", () => {
    const six = Object.fromEntries(["a", "b", "c", "d", "e", "f"].map((n) => [`lib/${n}.ts`, ""]));
    assert.deepEqual(rulesBroken(six), ["size"]);
    const { "lib/f.ts": _, ...five } = six;
    assert.deepEqual(rulesBroken({ ...five, "lib/http/f.ts": "" }), []);
  });
});

Deno.test("readImportGraph() sees every local dependency deno info reports", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    ...childEnv(),
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(output.success, "deno info failed");
  const info: {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
    }[];
  } = JSON.parse(new TextDecoder().decode(output.stdout));
  const graph = await readImportGraph(ROOT, { include: INCLUDE });
  const local = (url: string) =>
    url.startsWith("file:") ? fileURLToPath(url).slice(ROOT.length) : undefined;
  let compared = 0;
  let typeOnly = 0;
  for (const module of info.modules) {
    const from = local(module.specifier);
    if (from === undefined) continue;
    const seen = new Set(graph.get(from)?.imports.map((edge) => edge.to));
    for (const dependency of module.dependencies ?? []) {
      for (const target of [dependency.code, dependency.type]) {
        const to = target && local(target.specifier);
        if (to === undefined) continue;
        assert.ok(seen.has(to), `${from} → ${to} is missing from the graph`);
        compared++;
        if (target === dependency.type && !dependency.code) typeOnly++;
      }
    }
  }
  // Guards against comparing nothing: the tree has many imports, some type-only.
  assert.ok(compared > 50, `only ${compared} dependencies compared`);
  assert.ok(typeOnly > 0, "deno info reported no type-only dependency");
});

Deno.test("the source tree keeps its architecture", async (t) => {
  const graph = await readImportGraph(ROOT, { include: INCLUDE });
  const violations = checkArchitecture(graph, RULES);
  const of = (rule: Violation["rule"]) => violations.filter((v) => v.rule === rule);

  await t.step("no import cycles, type-only imports included", () => assertKept(of("cycle")));
  await t.step(
    "private _x.ts files are imported only from their folder and its tests",
    () => assertKept(of("private")),
  );
  await t.step("dependencies point the way the rules say", () => assertKept(of("direction")));
  await t.step(
    "files stay under 600 lines and lib/ keeps few top-level files",
    () => assertKept(of("size")),
  );
});

/**
 * Where a synchronous file call would hold the event loop while a client or a
 * hook waits: the hook path and the request path. Start-up (`main.ts`,
 * `lib/daemon.ts`, `lib/config/`) and the CLI (`lib/cli/`) may keep theirs;
 * the store's SQLite calls are its own concern (`lib/store/`).
 */
const NO_SYNC_FILE_CALLS = [
  "lib/dispatch/",
  "lib/http/",
  "lib/verify/",
  "lib/endpoints.ts",
  "lib/log/",
];

/** Named exceptions inside {@linkcode NO_SYNC_FILE_CALLS}, with why. */
const SYNC_FILE_CALLS_ALLOWED: Record<string, string> = {
  "lib/log/_stderr.ts":
    "the last-resort log writer writes stderr (journald's pipe), never a file on disk",
};

/** `Deno.xSync(` and the `FsFile` methods `.readSync(`, `.writeSync(`, …, outside comments. */
function syncFileCalls(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const calls =
    /\b(Deno\.[A-Za-z]+Sync|\.(?:read|write|stat|truncate|seek|sync|syncData|lock|unlock)Sync)\s*\(/g;
  return [...code.matchAll(calls)].map((m) => m[1]);
}

Deno.test("syncFileCalls() finds synchronous file calls, not words in comments", () => {
  assert.deepEqual(syncFileCalls("Deno.writeFileSync(p, b);\nfile.readSync(buf);"), [
    "Deno.writeFileSync",
    ".readSync",
  ]);
  assert.deepEqual(
    syncFileCalls("/** Deno.removeSync(x) */\n// Deno.statSync(x)\nawait Deno.stat(x);"),
    [],
  );
});

Deno.test("no synchronous file call on the hook path or the request path", async () => {
  const found: string[] = [];
  let scanned = 0;
  async function scan(path: string): Promise<void> {
    const info = await Deno.stat(`${ROOT}${path}`);
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(`${ROOT}${path}`)) {
        await scan(`${path}${entry.name}${entry.isDirectory ? "/" : ""}`);
      }
      return;
    }
    if (!/\.tsx?$/.test(path) || path in SYNC_FILE_CALLS_ALLOWED) return;
    scanned++;
    const calls = syncFileCalls(await Deno.readTextFile(`${ROOT}${path}`));
    for (const call of calls) found.push(`${path}: ${call}(…)`);
  }
  for (const path of NO_SYNC_FILE_CALLS) await scan(path);
  assert.ok(scanned > 20, `only ${scanned} files scanned`);
  assert.deepEqual(found, []);
});

/**
 * What a daemon at rest must not have loaded: the deliveries pages (imported
 * at the first page request) and prom-client (at the first scrape). Their
 * memory is paid by those who use them.
 */
const LOADED_ON_DEMAND = ["lib/http/deliveries_page.tsx", "lib/http/_views.tsx"];
const NPM_ON_DEMAND = ["prom-client"];

Deno.test("main.ts loads the pages and prom-client only on demand (dynamic imports)", async () => {
  const graph = await readImportGraph(ROOT, { include: ["main.ts", "lib/"] });
  const seen = new Set<string>();
  const todo = ["main.ts"];
  while (todo.length > 0) {
    const path = todo.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    for (const edge of graph.get(path)?.imports ?? []) {
      if (edge.kind === "code") todo.push(edge.to);
    }
  }
  assert.deepEqual(LOADED_ON_DEMAND.filter((path) => seen.has(path)), []);
  const npm: string[] = [];
  for (const path of seen) {
    const source = await Deno.readTextFile(`${ROOT}${path}`);
    for (const site of importsOf(source, path)) {
      if (site.kind === "code" && NPM_ON_DEMAND.includes(site.specifier)) {
        npm.push(`${path}:${site.line} imports ${site.specifier}`);
      }
    }
  }
  assert.deepEqual(npm, []);
});
