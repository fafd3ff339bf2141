/**
 * `hookd deliveries`, `hookd show` and `hookd replay`: thin commands over
 * the store, safe to run while the daemon runs. What they print is made by
 * pure functions; only {@linkcode runDeliveryCommand} opens the store.
 *
 * @module
 */

import type { CommandLine } from "./command_line.ts";
import { type Config, filterMiss, parseDuration, pickHook } from "../config/mod.ts";
import { printable } from "./_write.ts";
import {
  DELIVERY_STATES,
  type DeliveryDetail,
  type DeliveryFilter,
  type DeliveryState,
  type DeliverySummary,
  openConfiguredStore,
  type RequeueOptions,
  type RequeueResult,
  type Store,
  StoreMissingError,
} from "../store/mod.ts";

/**
 * Turn command-line flags into a store filter.
 *
 * @param flags the flag values as strings
 * @param now the current time, epoch milliseconds (for `--since`)
 * @throws {RangeError} naming the flag and the fix when a value is wrong
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filterFromFlags } from "./deliveries.ts";
 * const filter = filterFromFlags({ state: "failed", since: "1h" }, 7_200_000);
 * assert.equal(filter.since, 3_600_000);
 * ```
 */
export function filterFromFlags(
  flags: Pick<CommandLine, "endpoint" | "state" | "since" | "limit">,
  now: number,
): DeliveryFilter {
  const filter: DeliveryFilter = {};
  if (flags.endpoint !== undefined) filter.endpoint = flags.endpoint;
  if (flags.state !== undefined) {
    const states = flags.state.split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = states.filter((s) => !DELIVERY_STATES.includes(s as DeliveryState));
    if (states.length === 0 || unknown.length > 0) {
      throw new RangeError(
        `Invalid --state "${flags.state}": use one or more of ${DELIVERY_STATES.join(", ")}`,
      );
    }
    filter.state = states as DeliveryState[];
  }
  if (flags.since !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(flags.since);
    } catch {
      throw new RangeError(
        `Invalid --since "${flags.since}": write a duration such as 300s, 5m, 2h or 7d`,
      );
    }
    filter.since = now - ms;
  }
  if (flags.limit !== undefined) {
    const limit = Number(flags.limit);
    if (!/^\d+$/.test(flags.limit) || limit < 1) {
      throw new RangeError(`Invalid --limit "${flags.limit}": write a whole number of at least 1`);
    }
    filter.limit = limit;
  }
  return filter;
}

/**
 * The `hookd deliveries` table: one line per delivery, newest first as given.
 *
 * @param deliveries summaries from `store.list`
 * @returns the text, ending with a newline; a sentence when there are none
 */
export function formatDeliveryList(deliveries: readonly DeliverySummary[]): string {
  if (deliveries.length === 0) return "No deliveries match.\n";
  const header = ["ID", "RECEIVED", "ENDPOINT", "EVENT", "STATE", "RUNS", "LAST"];
  const rows = deliveries.map((d) => [
    d.id,
    formatTime(d.receivedAt),
    d.endpoint,
    printable(d.event),
    d.state,
    String(d.attempts),
    d.lastRun ? describeEnd(d.lastRun) : "-",
  ]);
  return table([header, ...rows]);
}

/**
 * The `hookd show` text: the delivery, its headers and body, and every run with its output.
 *
 * @param delivery a delivery from `store.get`
 * @returns the text, ending with a newline
 */
export function formatDeliveryDetail(delivery: DeliveryDetail): string {
  const lines = [
    `Delivery ${delivery.id}`,
    `  Endpoint:     ${delivery.endpoint}`,
    `  Event:        ${printable(delivery.event)}`,
    `  Sender id:    ${printable(delivery.sourceId ?? "-")}`,
    `  Received:     ${formatTime(delivery.receivedAt)}`,
    `  Verified by:  ${delivery.verifiedBy ?? "-"}`,
    `  State:        ${delivery.state}${
      delivery.supersededBy ? ` by ${delivery.supersededBy}` : ""
    }${delivery.filteredBy ? ` by ${printable(delivery.filteredBy)}` : ""}${
      delivery.state === "queued" && delivery.notBefore > 0
        ? ` (retry at ${formatTime(delivery.notBefore)})`
        : ""
    }`,
    `  Hook:         ${delivery.hook ?? "(none)"}`,
    "",
    "Headers",
    ...Object.entries(delivery.headers).map(([name, value]) =>
      `  ${printable(name)}: ${printable(value)}`
    ),
    "",
    `Body (${delivery.contentType}, ${delivery.bodySize} bytes)`,
    indent(bodyText(delivery.body)),
  ];
  for (const run of delivery.runs) {
    lines.push(
      "",
      `Run ${run.attempt}: ${describeEnd(run)}, started ${formatTime(run.startedAt)}${
        run.durationMs === null ? "" : `, ${run.durationMs} ms`
      }`,
    );
    if (run.error) lines.push(`  Error: ${printable(run.error)}`);
    if (run.stdout) {
      lines.push(
        `  stdout${run.stdoutTruncated ? " (truncated)" : ""}:`,
        indent(printable(run.stdout), 4),
      );
    }
    if (run.stderr) {
      lines.push(
        `  stderr${run.stderrTruncated ? " (truncated)" : ""}:`,
        indent(printable(run.stderr), 4),
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * `hookd show --json`: the delivery with its body as base64 (and as text when it is UTF-8).
 *
 * @param delivery a delivery from `store.get`
 * @returns a JSON-serialisable object
 */
export function deliveryToJson(delivery: DeliveryDetail): Record<string, unknown> {
  const { body, ...rest } = delivery;
  const text = decodeUtf8(body);
  return { ...rest, bodyBase64: body.toBase64(), ...(text === null ? {} : { bodyText: text }) };
}

/**
 * What `hookd replay` prints.
 *
 * @param result from `store.requeue` or `store.requeueMatching`
 * @param notes a remark per delivery id, printed in parentheses after its
 *   line (e.g. that its hook changed, from {@linkcode currentHooks})
 * @returns one line per delivery, ending with a newline
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRequeueResult } from "./deliveries.ts";
 * const text = formatRequeueResult(
 *   { requeued: ["A"], skipped: [{ id: "B", reason: "no hook" }] },
 *   new Map([["A", "hook changed"]]),
 * );
 * assert.equal(text, "A queued (hook changed)\nB skipped: no hook to run\n");
 * ```
 */
export function formatRequeueResult(
  result: RequeueResult,
  notes: ReadonlyMap<string, string> = new Map(),
): string {
  const noted = (id: string, line: string) => notes.has(id) ? `${line} (${notes.get(id)})` : line;
  const lines = result.requeued.map((id) => noted(id, `${id} queued`));
  for (const { id, reason, detail } of result.skipped) {
    const why = reason === "unknown"
      ? "no such delivery"
      : reason === "no hook"
      ? "no hook to run"
      : reason === "filtered"
      ? `the filter configured now refuses it (${printable(detail ?? "")})`
      : `already ${reason}`;
    lines.push(noted(id, `${id} skipped: ${why}`));
  }
  if (lines.length === 0) lines.push("No deliveries match.");
  return lines.join("\n") + "\n";
}

/**
 * A replay runs the hook configured now for the delivery's event, not the
 * one stored when it arrived: after fixing a hook, replaying is how the
 * operator retries. Pass `hookFor` to `store.requeue`; `notes` then holds,
 * per delivery, what changed, naming the variable.
 *
 * @returns the store's `hookFor`, and the notes it fills
 */
export function currentHooks(
  config: Pick<Config, "endpoints">,
): Required<RequeueOptions> & { notes: Map<string, string> } {
  const notes = new Map<string, string>();
  return {
    notes,
    hookFor(delivery) {
      const endpoint = config.endpoints.get(delivery.endpoint);
      if (!endpoint) {
        notes.set(delivery.id, `endpoint ${delivery.endpoint} is not configured`);
        return null;
      }
      const picked = pickHook(endpoint, delivery.event);
      if (!picked) return null;
      if (picked.command !== delivery.hook) {
        notes.set(
          delivery.id,
          `hook changed: ${picked.variable} is now "${printable(picked.command)}"`,
        );
      }
      return picked.command;
    },
  };
}

/** What one replay did, as the command line and the deliveries page both report it. */
export interface ReplayReport {
  /** Which were requeued and which skipped, and why. */
  result: RequeueResult;
  /** What `hookd replay` prints: one line per delivery, ending with a newline. */
  text: string;
}

/**
 * The one replay, for `hookd replay` and the deliveries page's Replay button:
 * a delivery meets the filter and runs the hook configured now (see
 * {@linkcode currentHooks}), and the text says what happened to each.
 *
 * @param config the configuration now (the env file for the command line,
 *   the running one, reloads included, for the page)
 * @param target delivery ids, or a store filter (`--state failed --since 1h`)
 * @returns what was done, and its text
 * @throws {StoreUnavailableError} when the store cannot do the work
 */
export async function replay(
  store: Pick<Store, "get" | "list" | "requeue" | "requeueMatching">,
  config: Pick<Config, "endpoints">,
  target: readonly string[] | DeliveryFilter,
): Promise<ReplayReport> {
  const hooks = currentHooks(config);
  const result = await replayDeliveries(store, config, target, hooks);
  return { result, text: formatRequeueResult(result, hooks.notes) };
}

/**
 * {@linkcode replay} of one delivery, as the deliveries page's Replay button
 * reports it.
 *
 * @returns whether it was requeued, whether it is unknown, and the line `hookd replay ID` prints
 * @throws {StoreUnavailableError} when the store cannot do the work
 */
export async function replayOne(
  store: Pick<Store, "get" | "list" | "requeue" | "requeueMatching">,
  config: Pick<Config, "endpoints">,
  id: string,
): Promise<{ requeued: boolean; unknown: boolean; text: string }> {
  const { result, text } = await replay(store, config, [id]);
  const unknown = result.skipped.some((skipped) => skipped.reason === "unknown");
  return { requeued: result.requeued.length > 0, unknown, text: text.trim() };
}

/**
 * The store's replay, except that a delivery the filter configured now
 * refuses is skipped with the failed condition (a `filtered` one it now
 * lets through is queued like any other).
 */
async function replayDeliveries(
  store: Pick<Store, "get" | "list" | "requeue" | "requeueMatching">,
  config: Pick<Config, "endpoints">,
  target: readonly string[] | DeliveryFilter,
  options?: RequeueOptions,
): Promise<RequeueResult> {
  const filtering = [...config.endpoints.values()].some((e) => e.filters.size > 0);
  const byIds = Array.isArray(target);
  if (!filtering) {
    return byIds
      ? await store.requeue(target as string[], options)
      : await store.requeueMatching(target as DeliveryFilter, options);
  }
  const skipped: RequeueResult["skipped"] = [];
  const pass: string[] = [];
  const judge = (id: string, delivery: DeliveryDetail | null) => {
    // Whether it has a hook is the store's to judge with `options` (one may be configured by now).
    const replayable = delivery !== null && delivery.state !== "queued" &&
      delivery.state !== "running";
    const endpoint = replayable ? config.endpoints.get(delivery.endpoint) : undefined;
    const miss = endpoint && filterMiss(endpoint, delivery!.event, delivery!);
    if (miss) skipped.push({ id, reason: "filtered", detail: miss });
    else pass.push(id);
  };
  if (byIds) {
    for (const id of new Set(target as string[])) judge(id, await store.get(id));
  } else {
    const filter = target as DeliveryFilter;
    // What requeueMatching would take: finished deliveries (with a hook, unless `options`
    // may give them one), newest first, up to limit.
    const chosen = (await store.list({ ...filter, limit: Number.MAX_SAFE_INTEGER }))
      .filter((d) => (d.hook !== null || options) && d.state !== "queued" && d.state !== "running")
      .slice(0, filter.limit ?? Infinity)
      // Oldest first, so that replays keep their relative order in the queue.
      .reverse();
    for (const summary of chosen) judge(summary.id, await store.get(summary.id));
  }
  const result = pass.length > 0
    ? await store.requeue(pass, options)
    : { requeued: [], skipped: [] };
  return { requeued: result.requeued, skipped: [...result.skipped, ...skipped] };
}

/**
 * Run one of the delivery commands.
 *
 * @param cli the parsed command line (`deliveries`, `show` or `replay`)
 * @param config the configuration (the state directory; for `replay`, the hooks to run now)
 * @returns the text to print and the exit code; code 1 and a sentence
 *   naming the path and `HOOKD_STATE_DIR` when there is no store
 * @throws {RangeError} for a flag with a wrong value
 * @throws {StoreUnavailableError} when the store cannot be opened
 */
export async function runDeliveryCommand(
  cli: CommandLine,
  config: Config,
): Promise<{ output: string; code: number }> {
  const readOnly = cli.command !== "replay";
  let opened;
  try {
    // Never create one: a store not found is in another directory (an
    // admin's shell has no systemd STATE_DIRECTORY), and an empty new one
    // would answer "No deliveries match." instead of saying so.
    opened = await openConfiguredStore(config, { readOnly, create: false });
  } catch (error) {
    if (!(error instanceof StoreMissingError)) throw error;
    return {
      output: `hookd: no delivery store at ${error.path}: set HOOKD_STATE_DIR to the daemon's ` +
        "state directory (the daemon creates it on first start)",
      code: 1,
    };
  }
  await using store = opened;
  const filter = filterFromFlags(cli, Date.now());
  switch (cli.command) {
    case "deliveries": {
      const list = await store.list(filter);
      return {
        output: cli.json ? list.map((d) => JSON.stringify(d)).join("\n") : formatDeliveryList(list),
        code: 0,
      };
    }
    case "show": {
      const detail = await store.get(cli.args[0]);
      if (!detail) return { output: `hookd: no delivery ${cli.args[0]}`, code: 1 };
      return {
        output: cli.json
          ? JSON.stringify(deliveryToJson(detail), null, 2)
          : formatDeliveryDetail(detail),
        code: 0,
      };
    }
    case "replay": {
      if (cli.args.length === 0 && !cli.state && !cli.since && !cli.endpoint) {
        return {
          output: "hookd: replay needs delivery ids, or --state/--since/--endpoint to select them",
          code: 2,
        };
      }
      const { result, text } = await replay(store, config, cli.args.length > 0 ? cli.args : filter);
      return {
        output: text,
        code: result.skipped.length > 0 && result.requeued.length === 0 ? 1 : 0,
      };
    }
    default:
      throw new RangeError(`Not a delivery command: ${cli.command}`);
  }
}

function describeEnd(
  run: { outcome: string; exitCode: number | null; signal: string | null },
): string {
  if (run.exitCode !== null) return `${run.outcome} (exit ${run.exitCode})`;
  if (run.signal !== null) return `${run.outcome} (${run.signal})`;
  return run.outcome;
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n") + "\n";
}

function indent(text: string, spaces = 2): string {
  const pad = " ".repeat(spaces);
  return text.replace(/\n$/, "").split("\n").map((line) => pad + line).join("\n");
}

function bodyText(body: Uint8Array): string {
  if (body.byteLength === 0) return "(empty)";
  const text = decodeUtf8(body);
  return text === null ? `(binary; base64) ${body.toBase64()}` : printable(text);
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
