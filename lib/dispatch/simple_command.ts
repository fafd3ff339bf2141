/**
 * Whether a hook command line needs a shell: a line with no shell syntax
 * is split on blanks and executed directly, which saves a `/bin/sh` per
 * hook; anything else goes through `/bin/sh -c` as written. The test is
 * GNU make's fast path (`job.c`, `sh_chars` and `sh_cmds`), so a line runs
 * the same either way.
 *
 * @module
 */

/** Characters that give a line shell meaning: quoting, expansion, redirection, lists, globs, comments. */
const SHELL_CHARACTERS = /["'\\`$|&;<>(){}*?[\]~#!^\n\r]/;

/**
 * First words the shell runs itself (keywords and builtins of POSIX sh and
 * dash): executed directly they would find a different program, or none.
 */
const SHELL_WORDS: ReadonlySet<string> = new Set([
  // Keywords.
  ..."! case do done elif else esac fi for function if in select then time until while { } [[ ]]"
    .split(" "),
  // Special and regular builtins.
  ...(
    ". : [ alias bg break builtin cd command continue echo eval exec exit export " +
    "false fc fg getopts hash jobs kill local printf pwd read readonly return set " +
    "shift source test times trap true type ulimit umask unalias unset wait"
  ).split(" "),
]);

/**
 * Split a hook command line into a program and its arguments when it has
 * no shell syntax; otherwise `null`, and it runs through `/bin/sh -c`.
 * Nothing from a payload or a header ever reaches this: the line is the
 * one the admin configured.
 *
 * @param command the configured command line
 * @returns `[program, ...args]`, or `null` when a shell is needed
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simpleCommand } from "./simple_command.ts";
 * assert.equal(simpleCommand("/usr/local/bin/deploy --prod")?.length, 2);
 * assert.equal(simpleCommand("deploy > /tmp/log"), null);
 * assert.equal(simpleCommand("cd /srv && make"), null);
 * ```
 */
export function simpleCommand(command: string): string[] | null {
  if (SHELL_CHARACTERS.test(command)) return null;
  const words = command.split(/[ \t]+/).filter((word) => word !== "");
  if (words.length === 0) return null;
  const [program] = words;
  // `NAME=value cmd` is an assignment, not a program called NAME=value.
  if (program.includes("=") || SHELL_WORDS.has(program)) return null;
  return words;
}
