/**
 * The command line: parsing it, and the commands that work without starting
 * a server, beside a running daemon or without one; `show --follow` is the
 * one that talks to the daemon, as a client of its admin listener. Each
 * command's module is imported when it runs, so `hookd check` and
 * `hookd serve` load none of them.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import type { CommandLine } from "./command_line.ts";
import type { replayOne as ReplayOne } from "./deliveries.ts";
import type { FollowOutputOptions } from "./follow_output.ts";

export { type CommandLine, COMMANDS, parseCommandLine, USAGE } from "./command_line.ts";

/** Options for {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** How `show --follow` words the run's last line: the daemon's own `endLine`. */
  endLine?: FollowOutputOptions["endLine"];
}

/**
 * Run one of the commands that do not serve (`deliveries`, `show`,
 * `replay`, `purge`, `sign`, `send`, `tail`), printing what it says.
 *
 * @param cli the parsed command line
 * @param config the loaded configuration
 * @param options what the entry point hands on
 * @returns the exit code
 * @throws {RangeError} when `show --follow` is run without `endLine`
 */
export async function runCommand(
  cli: CommandLine,
  config: Config,
  options: RunCommandOptions = {},
): Promise<number> {
  switch (cli.command) {
    case "sign":
    case "send": {
      const { runSignCommand } = await import("./sign.ts");
      const { output, code } = await runSignCommand(cli, config);
      console.log(output);
      return code;
    }
    case "tail": {
      const { runTailCommand } = await import("./tail.ts");
      return await runTailCommand(cli, config);
    }
    case "show":
      if (cli.follow) {
        if (options.endLine === undefined) throw new RangeError("show --follow needs endLine");
        const { followDelivery } = await import("./follow_output.ts");
        return await followDelivery(cli.args[0], config, { endLine: options.endLine });
      }
    // falls through
    default: {
      const { runDeliveryCommand } = await import("./deliveries.ts");
      const { output, code } = await runDeliveryCommand(cli, config);
      (code === 0 ? console.log : console.error)(output);
      return code;
    }
  }
}

/**
 * Replay one delivery over the given configuration, as `hookd replay ID`
 * does: the one replay the deliveries page's button uses too.
 *
 * @param store the store to re-queue in
 * @param config the running configuration
 * @param id the delivery's id
 * @returns whether it was re-queued or unknown, and the sentence to show
 */
export async function replayOne(
  ...args: Parameters<typeof ReplayOne>
): ReturnType<typeof ReplayOne> {
  const deliveries = await import("./deliveries.ts");
  return await deliveries.replayOne(...args);
}
