/**
 * The command line: parsing it, and the commands that work without a
 * running server (`deliveries`, `show`, `replay`, `sign`, `send`, `tail`).
 *
 * Promises: the delivery commands read the store straight from its file,
 * safely beside a running daemon; `tail` reads the log file; `show --follow`
 * is the one command that talks to the daemon, as a client of its admin
 * listener. Must not import `lib/daemon.ts` or
 * `lib/http/`: a command never starts a server.
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
