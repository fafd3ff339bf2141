/**
 * The command line: which command, which env file, which flags. Parsing is
 * `node:util`'s `parseArgs`; this file only says what hookd accepts.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The commands hookd knows. */
export const COMMANDS = [
  "serve",
  "check",
  "deliveries",
  "show",
  "replay",
  "sign",
  "send",
  "tail",
  "version",
  "help",
] as const;

/** A parsed command line: the command, the arguments after it, and each option as given. */
export interface CommandLine {
  command: typeof COMMANDS[number];
  args: string[];
  envFile?: string;
  endpoint?: string;
  state?: string;
  since?: string;
  limit?: string;
  event?: string;
  outcome?: string;
  /** `-n`: how many existing records `hookd tail` shows first */
  lines?: string;
  follow: boolean;
  json: boolean;
}

/** The text `hookd help` prints. */
export const USAGE = `hookd: receive webhooks, verify them, run a shell hook per event

Usage:
  hookd serve [--env-file PATH]      run the daemon
  hookd check [--env-file PATH]      validate the configuration and show it (secrets as ***)
  hookd deliveries [--env-file PATH] [--endpoint NAME] [--state STATE] [--since 1h] [--limit N] [--json]
                                     list stored deliveries, newest first
  hookd show ID [--env-file PATH] [--json]
                                     one delivery: headers, body, every hook run and its output
  hookd show ID --follow [--env-file PATH]
                                     print a running hook's output as it is written (through the
                                     admin listener) and exit with the hook's exit code
  hookd tail [--env-file PATH] [--endpoint NAME] [--outcome OUTCOME] [-n N] [--json]
                                     follow the log: one line per request and per hook run
                                     (reads HOOKD_LOG_FILE: run as root or in group hookd)
  hookd replay ID... [--env-file PATH]
  hookd replay --state failed --since 1h [--endpoint NAME] [--env-file PATH]
                                     queue deliveries again; a running daemon picks them up within a second
  hookd sign --endpoint NAME [--event E] [--env-file PATH] FILE
                                     print the headers the configured sender would send for FILE
  hookd send URL --endpoint NAME [--event E] [--env-file PATH] FILE
                                     post FILE to URL signed as that sender, and print the answer
  hookd version                      print the version
  hookd help                         print this text

Without --env-file, hookd reads its HOOKD_* settings from the process
environment only. See README.md for every variable.`;

/**
 * Parse the arguments after the program name.
 *
 * @param args e.g. `["serve", "--env-file", "/etc/hookd/hookd.env"]`
 * @throws {Error} with a one-line message for an unknown command or option
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommandLine } from "./command_line.ts";
 * const cli = parseCommandLine(["check", "--env-file", "hookd.env"]);
 * assert.equal(cli.command, "check");
 * assert.equal(cli.envFile, "hookd.env");
 * ```
 */
export function parseCommandLine(args: readonly string[]): CommandLine {
  const { values, positionals } = parseOptions(args);
  if (values.help) return { command: "help", args: [], json: false, follow: false };
  if (values.version) return { command: "version", args: [], json: false, follow: false };
  const [command = "help", ...rest] = positionals;
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new Error(`Unknown command: ${command}; run "hookd help"`);
  }
  const arity: Record<string, [number, number]> = {
    show: [1, 1],
    sign: [1, 1],
    send: [2, 2],
    replay: [0, Infinity],
    deliveries: [0, 0],
    tail: [0, 0],
  };
  const [min, max] = arity[command] ?? [0, 0];
  if (rest.length < min || rest.length > max) {
    throw new Error(`Wrong number of arguments for ${command}; run "hookd help"`);
  }
  return {
    command: command as CommandLine["command"],
    args: rest,
    envFile: values["env-file"],
    endpoint: values.endpoint,
    state: values.state,
    since: values.since,
    limit: values.limit,
    event: values.event,
    outcome: values.outcome,
    lines: values.lines,
    follow: values.follow ?? false,
    json: values.json ?? false,
  };
}

function parseOptions(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      options: {
        "env-file": { type: "string" },
        endpoint: { type: "string" },
        state: { type: "string" },
        since: { type: "string" },
        limit: { type: "string" },
        event: { type: "string" },
        outcome: { type: "string" },
        lines: { type: "string", short: "n" },
        follow: { type: "boolean", short: "f", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // node:util's messages run over several lines with advice about `--`;
    // hookd promises one line per problem.
    const message = error instanceof Error ? error.message : String(error);
    const first = message.split(/\n|\. To specify/)[0].replace(/\.$/, "");
    throw new Error(`${first}; run "hookd help"`, { cause: error });
  }
}
