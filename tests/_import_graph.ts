/**
 * Reads the import graph of the source tree and checks it against
 * architecture rules written as data: no import cycles, private `_x.ts`
 * files used only inside their folder, dependencies pointing one way, and
 * small files. Imports are read with the TypeScript compiler's parser, so
 * type-only imports, `import()` and `new URL(…, import.meta.url)` (workers)
 * are edges like any other; comments and strings are not.
 *
 * @module
 */

import ts from "typescript";
import { readdir, readFile } from "node:fs/promises";
import { posix } from "node:path";
import { pathToFileURL } from "node:url";

/** How a file refers to another. */
export type ImportKind = "code" | "type" | "dynamic" | "url";

/** One module specifier as written in a file. */
export interface ImportSite {
  specifier: string;
  kind: ImportKind;
  /** 1-based line of the import. */
  line: number;
}

/** One import resolved to a file of the repository. */
export interface ImportEdge {
  /** Repository-relative path with `/` separators, e.g. `lib/http/app.ts`. */
  to: string;
  kind: ImportKind;
  line: number;
}

/** What the checker knows of one file. */
export interface SourceNode {
  lines: number;
  imports: ImportEdge[];
}

/** Repository-relative path → its file; edges may point at files outside the map. */
export type ImportGraph = Map<string, SourceNode>;

const SCRIPT = /\.(?:[cm]?[jt]sx?)$/;

/**
 * Every module specifier that `source` imports, re-exports, loads with a
 * literal `import()`, names in a type position (`typeof import("./x.ts")`)
 * or resolves with `new URL("./x.ts", import.meta.url)` (how a worker is
 * started). A specifier that is not a literal cannot be known and is not listed.
 *
 * @param source the text of a TypeScript or JavaScript module
 * @param fileName its name, which picks TSX parsing for `.tsx`/`.jsx`
 * @example
 * ```ts ignore
 * importsOf('import type { A } from "./a.ts";');
 * // [{ specifier: "./a.ts", kind: "type", line: 1 }]
 * ```
 */
export function importsOf(source: string, fileName = "module.ts"): ImportSite[] {
  const file = ts.createSourceFile(
    fileName,
    source,
    ts.ScriptTarget.Latest,
    true,
    /x$/.test(fileName) ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const sites: ImportSite[] = [];
  const add = (literal: ts.Node, kind: ImportKind) => {
    if (!ts.isStringLiteralLike(literal)) return;
    const line = file.getLineAndCharacterOfPosition(literal.getStart(file)).line + 1;
    sites.push({ specifier: literal.text, kind, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, importIsTypeOnly(node) ? "type" : "code");
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node.moduleSpecifier, exportIsTypeOnly(node) ? "type" : "code");
    } else if (
      ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)
    ) {
      add(node.moduleReference.expression, node.isTypeOnly ? "type" : "code");
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, "type");
    } else if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0
    ) {
      add(node.arguments[0], "dynamic");
    } else if (isModuleUrl(node)) {
      add(node.arguments[0], "url");
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return sites;
}

function importIsTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && named !== undefined && ts.isNamedImports(named) &&
    named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

function exportIsTypeOnly(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const named = node.exportClause;
  return named !== undefined && ts.isNamedExports(named) && named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly);
}

// `new URL("./x.ts", import.meta.url)` naming a script: a worker or a module
// loaded by URL depends on that file as surely as an import does.
function isModuleUrl(
  node: ts.Node,
): node is ts.NewExpression & { arguments: ts.NodeArray<ts.Expression> } {
  if (!ts.isNewExpression(node) || !ts.isIdentifier(node.expression)) return false;
  if (node.expression.text !== "URL" || !node.arguments || node.arguments.length < 2) return false;
  const [target, base] = node.arguments;
  return ts.isStringLiteralLike(target) && SCRIPT.test(target.text) &&
    ts.isPropertyAccessExpression(base) && base.name.text === "url" &&
    ts.isMetaProperty(base.expression) && base.expression.name.text === "meta";
}

/** How bare specifiers map to files: the `imports` of deno.json. */
export interface ResolveOptions {
  /** deno.json "imports"; values that are not relative paths are external. */
  importMap?: Record<string, string>;
  /** `file:` URL of the checkout, ending in `/`; absolute specifiers resolve against it. */
  root?: string;
}

const IN_MEMORY_ROOT = "file:///repo/";

/**
 * The repository-relative path that `specifier`, written in `from`, names;
 * `undefined` for anything outside the repository (npm:, node:, URLs, bare
 * names the import map sends elsewhere).
 *
 * @param from repository-relative path of the importing file
 * @param specifier the specifier as written
 * @param options the import map, and the checkout's URL for absolute specifiers
 */
export function resolveLocal(
  from: string,
  specifier: string,
  options: ResolveOptions = {},
): string | undefined {
  const root = new URL(options.root ?? IN_MEMORY_ROOT);
  let url: URL;
  if (/^(?:\.{1,2}\/|\/|file:)/.test(specifier)) {
    url = new URL(specifier, new URL(from, root));
  } else {
    const mapped = mapBare(specifier, options.importMap ?? {});
    if (mapped === undefined || !/^(?:\.{1,2}\/|\/)/.test(mapped)) return undefined;
    url = new URL(mapped, root);
  }
  if (url.protocol !== "file:" || !url.pathname.startsWith(root.pathname)) return undefined;
  return decodeURIComponent(url.pathname.slice(root.pathname.length));
}

function mapBare(specifier: string, importMap: Record<string, string>): string | undefined {
  if (specifier in importMap) return importMap[specifier];
  let best: string | undefined;
  for (const key of Object.keys(importMap)) {
    if (key.endsWith("/") && specifier.startsWith(key) && key.length > (best?.length ?? 0)) {
      best = key;
    }
  }
  return best === undefined ? undefined : importMap[best] + specifier.slice(best.length);
}

/**
 * Builds a graph from sources held in memory, keyed by repository-relative
 * path; the same reader as {@linkcode readImportGraph}, without a disk.
 *
 * @param sources path → module text
 * @param options how bare specifiers resolve
 */
export function graphFromSources(
  sources: Record<string, string>,
  options: ResolveOptions = {},
): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const [path, text] of Object.entries(sources)) {
    const imports: ImportEdge[] = [];
    for (const site of importsOf(text, path)) {
      const to = resolveLocal(path, site.specifier, options);
      if (to !== undefined) imports.push({ to, kind: site.kind, line: site.line });
    }
    graph.set(path, { lines: countLines(text), imports });
  }
  return graph;
}

/** Lines as `wc -l` counts them, plus a last line without its newline. */
export function countLines(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

/** Which files of a checkout to read. */
export interface ReadGraphOptions {
  /** Folders (ending in `/`, read recursively) and files, relative to the root. */
  include: string[];
}

/**
 * Reads every script under `options.include` of the checkout at `root`,
 * resolving bare specifiers through the `imports` of its deno.json.
 *
 * @param root absolute path of the checkout
 * @throws when an included file or folder cannot be read
 */
export async function readImportGraph(
  root: string,
  options: ReadGraphOptions,
): Promise<ImportGraph> {
  const rootUrl = pathToFileURL(root.endsWith("/") ? root : root + "/");
  let importMap: Record<string, string> = {};
  try {
    importMap = JSON.parse(await readFile(new URL("deno.json", rootUrl), "utf8")).imports ?? {};
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "ENOENT")) throw error;
  }
  const sources: Record<string, string> = {};
  for (const entry of options.include) {
    const paths = entry.endsWith("/")
      ? (await readdir(new URL(entry, rootUrl), { recursive: true }))
        .map((name) => posix.join(entry, name.replaceAll("\\", "/")))
      : [entry];
    for (const path of paths.filter((p) => SCRIPT.test(p)).sort()) {
      sources[path] = await readFile(new URL(path, rootUrl), "utf8");
    }
  }
  return graphFromSources(sources, { importMap, root: rootUrl.href });
}

/**
 * A path pattern: a folder ends in `/` and matches everything under it;
 * anything else matches that one file.
 */
export type PathPattern = string;

/** Files matching `from` must not import files matching `mayNotImport`, `except` aside. */
export interface DirectionRule {
  from: PathPattern[];
  mayNotImport: PathPattern[];
  except?: PathPattern[];
  /** One line: why the dependency would be wrong. */
  reason: string;
}

/** Everything {@linkcode checkArchitecture} enforces. */
export interface ArchitectureRules {
  /** Files among which an import cycle is an error. */
  cyclesAmong: PathPattern[];
  /**
   * Where the tests of a source folder live: a private file of `lib/x/` may
   * be imported from `tests/x/` (`{ source: "lib/", tests: "tests/" }`).
   */
  testMirror: { source: string; tests: string };
  directions: DirectionRule[];
  /** No file matching `under` has more lines than `lines`. */
  maxLines: { under: PathPattern[]; lines: number };
  /** The folder holds at most `files` scripts directly (subfolders aside). */
  maxTopLevelFiles: { folder: string; files: number };
}

/** One broken rule, described for a person. */
export interface Violation {
  rule: "cycle" | "private" | "direction" | "size";
  message: string;
}

/** Whether `path` matches `pattern` (see {@linkcode PathPattern}). */
export function matchesPath(path: string, pattern: PathPattern): boolean {
  return pattern.endsWith("/") ? path.startsWith(pattern) : path === pattern;
}

function matchesAny(path: string, patterns: PathPattern[]): boolean {
  return patterns.some((pattern) => matchesPath(path, pattern));
}

const KIND_WORDS: Record<ImportKind, string> = {
  code: "imports",
  type: "imports (type-only)",
  dynamic: "loads with import()",
  url: "names with new URL(…, import.meta.url)",
};

/**
 * Every rule `graph` breaks, cycles first, in a stable order; empty when it keeps them all.
 *
 * @param graph files and their imports
 * @param rules the rules to hold them to
 */
export function checkArchitecture(graph: ImportGraph, rules: ArchitectureRules): Violation[] {
  return [
    ...findCycles(graph, rules.cyclesAmong).map((cycle) => ({
      rule: "cycle" as const,
      message: describeCycle(graph, cycle),
    })),
    ...privateImports(graph, rules.testMirror),
    ...directionViolations(graph, rules.directions),
    ...sizeViolations(graph, rules),
  ];
}

const MAX_CYCLES = 100;

/**
 * Every elementary import cycle among the files matching `among`, each as a
 * path that starts and ends at its smallest file (`[a, b, a]`); a file that
 * imports itself is `[a, a]`. Stops after 100 cycles, which is plenty to
 * act on.
 *
 * @param graph files and their imports
 * @param among patterns of the files to consider
 */
export function findCycles(graph: ImportGraph, among: PathPattern[]): string[][] {
  const nodes = [...graph.keys()].filter((path) => matchesAny(path, among)).sort();
  const index = new Map(nodes.map((path, i) => [path, i]));
  const next = nodes.map((path) =>
    [
      ...new Set(
        graph.get(path)!.imports.map((edge) => index.get(edge.to)).filter((i) => i !== undefined),
      ),
    ].sort((a, b) => a - b)
  );
  const component = stronglyConnected(next);
  const cycles: string[][] = [];
  // From each start, walk only larger nodes of its component, so that each
  // cycle is found once, from its smallest file.
  for (let start = 0; start < nodes.length && cycles.length < MAX_CYCLES; start++) {
    const path = [start];
    const onPath = new Set(path);
    const walk = (at: number): void => {
      for (const to of next[at]) {
        if (cycles.length >= MAX_CYCLES) return;
        if (to === start) {
          cycles.push([...path, start].map((i) => nodes[i]));
        } else if (to > start && !onPath.has(to) && component[to] === component[start]) {
          path.push(to);
          onPath.add(to);
          walk(to);
          onPath.delete(to);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return cycles;
}

// Tarjan's algorithm: the component number of each node.
function stronglyConnected(next: number[][]): number[] {
  const order: number[] = next.map(() => -1);
  const low: number[] = next.map(() => 0);
  const component: number[] = next.map(() => -1);
  const stack: number[] = [];
  let counter = 0;
  let components = 0;
  const connect = (v: number): void => {
    order[v] = low[v] = counter++;
    stack.push(v);
    for (const w of next[v]) {
      if (order[w] === -1) {
        connect(w);
        low[v] = Math.min(low[v], low[w]);
      } else if (component[w] === -1) {
        low[v] = Math.min(low[v], order[w]);
      }
    }
    if (low[v] === order[v]) {
      let w: number;
      do {
        w = stack.pop()!;
        component[w] = components;
      } while (w !== v);
      components++;
    }
  };
  for (let v = 0; v < next.length; v++) if (order[v] === -1) connect(v);
  return component;
}

function describeCycle(graph: ImportGraph, cycle: string[]): string {
  const hops = cycle.slice(0, -1).map((from, i) => {
    const to = cycle[i + 1];
    const edges = graph.get(from)!.imports.filter((edge) => edge.to === to);
    const shown = edges.find((edge) => edge.kind !== "type") ?? edges[0];
    return `\n    ${from}:${shown.line} ${KIND_WORDS[shown.kind]} ${to}`;
  });
  return `import cycle ${cycle.join(" → ")}${hops.join("")}`;
}

// A private file belongs to its folder, subfolders included (as tests/_daemon.ts
// serves tests/verify/), and to that folder's mirror under the tests.
function isPrivate(path: string): boolean {
  return posix.basename(path).startsWith("_") && SCRIPT.test(path);
}

function privateImports(graph: ImportGraph, mirror: ArchitectureRules["testMirror"]): Violation[] {
  const violations: Violation[] = [];
  for (const [from, node] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    for (const edge of node.imports) {
      if (!isPrivate(edge.to)) continue;
      const folder = posix.dirname(edge.to) + "/";
      const allowed = [folder];
      if (folder.startsWith(mirror.source)) {
        allowed.push(mirror.tests + folder.slice(mirror.source.length));
      }
      if (matchesAny(from, allowed)) continue;
      violations.push({
        rule: "private",
        message: `${from}:${edge.line} ${KIND_WORDS[edge.kind]} ${edge.to}, ` +
          `which is private to ${allowed.join(" and ")}`,
      });
    }
  }
  return violations;
}

function directionViolations(graph: ImportGraph, rules: DirectionRule[]): Violation[] {
  const violations: Violation[] = [];
  for (const rule of rules) {
    for (const [from, node] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
      if (!matchesAny(from, rule.from)) continue;
      for (const edge of node.imports) {
        if (!matchesAny(edge.to, rule.mayNotImport) || matchesAny(edge.to, rule.except ?? [])) {
          continue;
        }
        const except = rule.except?.length ? ` except ${rule.except.join(", ")}` : "";
        violations.push({
          rule: "direction",
          message: `${from}:${edge.line} ${KIND_WORDS[edge.kind]} ${edge.to}, but ` +
            `${rule.from.join(", ")} may not import ${rule.mayNotImport.join(", ")}${except}: ` +
            rule.reason,
        });
      }
    }
  }
  return violations;
}

function sizeViolations(graph: ImportGraph, rules: ArchitectureRules): Violation[] {
  const paths = [...graph.keys()].sort();
  const violations: Violation[] = paths
    .filter((path) =>
      matchesAny(path, rules.maxLines.under) && graph.get(path)!.lines > rules.maxLines.lines
    )
    .map((path) => ({
      rule: "size",
      message: `${path} has ${graph.get(path)!.lines} lines, more than ${rules.maxLines.lines}`,
    }));
  const { folder, files } = rules.maxTopLevelFiles;
  const top = paths.filter((path) =>
    path.startsWith(folder) && !path.slice(folder.length).includes("/") && SCRIPT.test(path)
  );
  if (top.length > files) {
    violations.push({
      rule: "size",
      message: `${folder} holds ${top.length} files at its top level, more than ${files}: ` +
        top.map((path) => path.slice(folder.length)).join(" "),
    });
  }
  return violations;
}
