/**
 * The command line: parsing it, and the commands that work without starting
 * a server, beside a running daemon or without one; `show --follow` is the
 * one that talks to the daemon, as a client of its admin listener.
 *
 * @module
 */

export { type CommandLine, COMMANDS, parseCommandLine, USAGE } from "./command_line.ts";
export { replay, replayOne, type ReplayReport, runDeliveryCommand } from "./deliveries.ts";
export { runSignCommand, signedHeaders } from "./sign.ts";
export {
  exitCodeOf,
  followDelivery,
  type FollowOutputOptions,
  type RunEnd,
} from "./follow_output.ts";
export { runTailCommand, type TailOptions } from "./tail.ts";
