/**
 * The command line: which command, which env file. Parsing is
 * `node:util`'s `parseArgs`; this file only says what hookd accepts.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** A parsed command line. */
export interface CommandLine {
  /** The command, e.g. `serve`. */
  command: "serve" | "check" | "version" | "help";
  /** `--env-file`, when given. */
  envFile?: string;
}

/** The text `hookd help` prints. */
export const USAGE = `hookd: receive webhooks, verify them, run a shell hook per event

Usage:
  hookd serve [--env-file PATH]   run the daemon
  hookd check [--env-file PATH]   validate the configuration and show it (secrets as ***)
  hookd version                   print the version
  hookd help                      print this text

Without --env-file, hookd reads its HOOKD_* settings from the process
environment only. See README.md for every variable.`;

/**
 * Parse the arguments after the program name.
 *
 * @param args e.g. `["serve", "--env-file", "/etc/hookd/hookd.env"]`
 * @returns the command line
 * @throws {Error} with a one-line message for an unknown command or option
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "./cli.ts";
 * const cli = parseCommandLine(["check", "--env-file", "hookd.env"]);
 * console.assert(cli.command === "check" && cli.envFile === "hookd.env");
 * ```
 */
export function parseCommandLine(args: readonly string[]): CommandLine {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      "env-file": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return { command: "help" };
  if (values.version) return { command: "version" };
  const [command = "help", ...rest] = positionals;
  if (rest.length > 0) throw new Error(`Unexpected argument: ${rest[0]}`);
  if (!["serve", "check", "version", "help"].includes(command)) {
    throw new Error(`Unknown command: ${command}; run "hookd help"`);
  }
  return { command: command as CommandLine["command"], envFile: values["env-file"] };
}
