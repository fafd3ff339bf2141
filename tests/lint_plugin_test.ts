/**
 * hookd's lint rules (tests/lint_plugin.ts) find what they forbid, only where
 * they forbid it; `deno lint`, in `deno task check`, runs them on the tree.
 *
 * @module
 */

import assert from "node:assert/strict";
import plugin from "./lint_plugin.ts";

/** A doc example asserting with `console.assert`, split so this file holds none. */
const EXAMPLE = [
  "/**",
  " * @example",
  " * ```ts",
  ` * console${"."}assert(1 === 2);`,
  " * ```",
  " */",
  "export const x = 1;",
  "",
].join("\n");

Deno.test("no-console-assert flags console.assert in lib/ and main.ts, in code and in doc examples", () => {
  const inExample = Deno.lint.runPlugin(plugin, "lib/config/x.ts", EXAMPLE);
  assert.equal(inExample.length, 1);
  assert.equal(inExample[0].id, "hookd/no-console-assert");
  assert.equal(EXAMPLE.slice(...inExample[0].range), `console${"."}assert`);

  const inCode = Deno.lint.runPlugin(plugin, "main.ts", `console${"."}assert(true);\n`);
  assert.equal(inCode.length, 1);

  const clean = EXAMPLE.replace(`console${"."}assert(`, "assert.equal(");
  assert.deepEqual(Deno.lint.runPlugin(plugin, "lib/config/x.ts", clean), []);
});

Deno.test("no-console-assert leaves tests alone", () => {
  assert.deepEqual(Deno.lint.runPlugin(plugin, "tests/x_test.ts", EXAMPLE), []);
  const root = new URL("../", import.meta.url).pathname;
  assert.equal(Deno.lint.runPlugin(plugin, `${root}lib/x.ts`, EXAMPLE).length, 1);
  assert.deepEqual(Deno.lint.runPlugin(plugin, `${root}tests/lib/x.ts`, EXAMPLE), []);
});
