/**
 * `hookd tail`: follow the daemon's log file, one readable line per request
 * and per hook run. It reads the file, not the daemon, so it works while the
 * daemon is stopped; the records are already redacted, and nothing is added.
 *
 * @module
 */

import type { CommandLine } from "./command_line.ts";
import type { Config } from "../config/mod.ts";
import { followLogLines, LogUnreadableError } from "./_log_follower.ts";
import { printable, writeTo } from "./_write.ts";

/** A record of the log file, as parsed from its line. */
export type LogEntry = Record<string, unknown>;

/** Which records `hookd tail` shows. */
export interface TailFilter {
  /** `--endpoint NAME[,NAME…]` */
  endpoints?: readonly string[];
  /** `--outcome OUTCOME[,OUTCOME…]`, as {@linkcode entryOutcome} names them. */
  outcomes?: readonly string[];
}

/**
 * How a record ended: a request's own `outcome` (`accepted`, `rejected`,
 * `duplicate`, …); for a hook run the store's words: `succeeded`, `failed`,
 * `timed_out` or `aborted`.
 *
 * @param entry a `request` or `hook` record
 * @returns the outcome, or undefined for other records
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryOutcome } from "./tail.ts";
 * assert.equal(entryOutcome({ type: "hook", exitCode: 3, timedOut: false }), "failed");
 * assert.equal(entryOutcome({ type: "request", outcome: "accepted" }), "accepted");
 * ```
 */
export function entryOutcome(entry: LogEntry): string | undefined {
  if (entry.type === "request") return typeof entry.outcome === "string" ? entry.outcome : "-";
  if (entry.type !== "hook") return undefined;
  if (entry.timedOut === true) return "timed_out";
  if (entry.aborted === true) return "aborted";
  return entry.exitCode === 0 && entry.error == null ? "succeeded" : "failed";
}

/**
 * Whether `hookd tail` shows a record: a request or a hook run that passes the filter.
 */
export function tailShows(entry: LogEntry, filter: TailFilter): boolean {
  const outcome = entryOutcome(entry);
  if (outcome === undefined) return false;
  if (filter.endpoints && !filter.endpoints.includes(String(entry.endpoint))) return false;
  if (filter.outcomes && !filter.outcomes.includes(outcome)) return false;
  return true;
}

/**
 * One readable line for a request or a hook run: time, kind, endpoint,
 * event, outcome (and HTTP status), duration, exit (or signal), delivery id.
 * Control characters are escaped: the event name came from a sender.
 *
 * @param entry a `request` or `hook` record
 * @returns the line, without a newline
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTailLine } from "./tail.ts";
 * const line = formatTailLine({
 *   time: "2025-01-02T03:04:05.678Z", type: "hook", endpoint: "github", event: "push",
 *   exitCode: 3, signal: null, timedOut: false, durationMs: 1520.4, id: "01JH",
 * });
 * assert.equal(line, "2025-01-02 03:04:05.678  hook     github  push  failed  1520ms  exit 3  01JH");
 * ```
 */
export function formatTailLine(entry: LogEntry): string {
  const time = typeof entry.time === "string"
    ? entry.time.replace("T", " ").replace(/Z$/, "")
    : "-";
  const kind = String(entry.type).padEnd(7);
  const outcome = entryOutcome(entry) ?? "-";
  const parts = [
    time,
    kind,
    text(entry.endpoint),
    text(entry.event),
    entry.type === "request" && entry.status != null ? `${entry.status} ${outcome}` : outcome,
    typeof entry.durationMs === "number" ? `${Math.round(entry.durationMs)}ms` : "-",
  ];
  if (entry.type === "hook") {
    parts.push(
      entry.exitCode != null
        ? `exit ${entry.exitCode}`
        : entry.signal != null
        ? `signal ${text(entry.signal)}`
        : "no exit",
    );
  }
  if (entry.id != null) parts.push(text(entry.id));
  if (entry.type === "request" && entry.endpoint == null) parts.push(text(entry.path));
  return parts.join("  ");
}

function text(value: unknown): string {
  return value == null || value === "" ? "-" : printable(String(value), { lines: false });
}

/**
 * Turn the flags into a filter and a start.
 *
 * @returns the filter, and how many existing records to show first
 * @throws {RangeError} naming the flag and the fix when a value is wrong
 */
export function tailOptions(
  cli: Pick<CommandLine, "endpoint" | "outcome" | "lines">,
): { filter: TailFilter; last: number } {
  const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);
  const filter: TailFilter = {};
  if (cli.endpoint !== undefined) filter.endpoints = list(cli.endpoint);
  if (cli.outcome !== undefined) filter.outcomes = list(cli.outcome);
  let last = 0;
  if (cli.lines !== undefined) {
    if (!/^\d{1,7}$/.test(cli.lines)) {
      throw new RangeError(
        `Invalid -n "${cli.lines}": write a whole number of records, e.g. -n 20`,
      );
    }
    last = Number(cli.lines);
  }
  return { filter, last };
}

/** Where `hookd tail` writes, and when it stops. */
export interface TailOptions {
  /** Receives each line, newline included; default stdout. */
  write?(line: string): Promise<void>;
  /** Stop following (the command itself runs until interrupted). */
  signal?: AbortSignal;
}

/**
 * Run `hookd tail`: the last `-n` matching records, then each new one, until
 * interrupted. `--json` writes the records' lines as they are in the file.
 *
 * @param config the configuration (its log file)
 * @param options where the lines go
 * @returns the exit code: 1, with the message written to stderr, when the log cannot be read
 * @throws {RangeError} for a flag with a wrong value
 */
export async function runTailCommand(
  cli: CommandLine,
  config: Pick<Config, "log">,
  options: TailOptions = {},
): Promise<number> {
  const write = options.write ?? writeTo(Deno.stdout);
  const { filter, last } = tailOptions(cli);
  const parse = (line: string): LogEntry | null => {
    try {
      const entry = JSON.parse(line);
      return entry !== null && typeof entry === "object" ? entry : null;
    } catch {
      return null; // A line torn by a full disk: skip it.
    }
  };
  const shown = (line: string) => {
    const entry = parse(line);
    return entry !== null && tailShows(entry, filter);
  };
  try {
    for await (
      const line of followLogLines(config.log.file, {
        last,
        keep: shown,
        signal: options.signal,
        // On stderr, so that stdout stays the records alone; also says which file this is.
        onReady: () => console.error(`hookd: following ${config.log.file} (Ctrl-C to stop)`),
      })
    ) {
      const entry = parse(line);
      if (entry === null || !tailShows(entry, filter)) continue;
      await write(`${cli.json ? line : formatTailLine(entry)}\n`);
    }
  } catch (error) {
    if (!(error instanceof LogUnreadableError)) throw error;
    console.error(`hookd: ${error.message}`);
    return 1;
  }
  return 0;
}
