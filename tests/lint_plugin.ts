/**
 * hookd's own lint rules, loaded by `deno lint` from deno.json's
 * `lint.plugins`, so `deno task check` enforces them.
 *
 * `hookd/no-console-assert`: `console.assert` in `lib/` or `main.ts`, in code
 * or in a doc example. It only prints when false, so an example using it
 * passes `deno test --doc` whatever it claims; examples assert with
 * `node:assert/strict`, which throws.
 *
 * @module
 */

/** `console.assert`, also split over whitespace; written so this file does not match itself. */
const CONSOLE_ASSERT = /\bconsole\s*\.\s*assert\b/g;

/** The project's root, which deno.json's paths are relative to. */
const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** The files the rule holds for, relative to the root: the program and its doc examples. */
const CHECKED = /^(lib\/|main\.ts$)/;

/**
 * A linted file's path relative to the project's root.
 *
 * @param filename as `deno lint` names it: absolute, or relative in a test
 * @returns the relative path, `/`-separated
 */
function relative(filename: string): string {
  const path = filename.replaceAll("\\", "/");
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
}

/** The plugin `deno lint` loads. */
const plugin: Deno.lint.Plugin = {
  name: "hookd",
  rules: {
    "no-console-assert": {
      create(context) {
        return {
          Program() {
            if (!CHECKED.test(relative(context.filename))) return;
            const text = context.sourceCode.getText();
            for (const match of text.matchAll(CONSOLE_ASSERT)) {
              context.report({
                range: [match.index, match.index + match[0].length],
                message: "console.assert only prints when false, so nothing fails",
                hint: 'Assert with node:assert/strict: `import assert from "node:assert/strict";`',
              });
            }
          },
        };
      },
    },
  },
};

export default plugin;
