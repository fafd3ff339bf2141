/**
 * Tests for the shell-free fast path's decision.
 *
 * @module
 */

import assert from "node:assert/strict";
import { simpleCommand } from "../../lib/dispatch/simple_command.ts";

Deno.test("simpleCommand() splits a plain command line on blanks", async (t) => {
  await t.step("a program and its arguments", () => {
    assert.deepEqual(simpleCommand("/usr/local/bin/deploy --prod main"), [
      "/usr/local/bin/deploy",
      "--prod",
      "main",
    ]);
  });
  await t.step("runs of spaces and tabs are one separator, ends are trimmed", () => {
    assert.deepEqual(simpleCommand("  sleep\t 1  "), ["sleep", "1"]);
  });
  await t.step(
    "a program found on PATH, and dashes, dots, slashes, commas, equals later on",
    () => {
      assert.deepEqual(simpleCommand("rsync -a --delete=yes ./site/ host:/srv,x"), [
        "rsync",
        "-a",
        "--delete=yes",
        "./site/",
        "host:/srv,x",
      ]);
    },
  );
});

Deno.test("simpleCommand() leaves every line with shell syntax to the shell", async (t) => {
  await t.step("each of make's shell characters", () => {
    for (const c of `"'\\\`$|&;<>(){}*?[]~#!^`) {
      assert.equal(simpleCommand(`deploy a${c}b`), null, `a line with ${c}`);
    }
  });
  await t.step("a newline or carriage return", () => {
    assert.equal(simpleCommand("deploy\nreboot"), null);
    assert.equal(simpleCommand("deploy\rreboot"), null);
  });
  await t.step("a variable assignment in front", () => {
    assert.equal(simpleCommand("ENV=prod deploy"), null);
  });
  await t.step("a keyword or builtin as the first word", () => {
    for (const word of ["cd", "exec", "export", ".", "set", "if", "for", "while", "case", "test"]) {
      assert.equal(simpleCommand(`${word} x`), null, word);
    }
    assert.equal(simpleCommand("true"), null, "sh runs its own true");
  });
  await t.step("the same program named by its path runs directly", () => {
    assert.deepEqual(simpleCommand("/bin/true"), ["/bin/true"]);
  });
  await t.step("an empty or blank line", () => {
    assert.equal(simpleCommand(""), null);
    assert.equal(simpleCommand(" \t "), null);
  });
});
