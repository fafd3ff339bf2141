/**
 * Rows in, store types out: the columns a summary reads, the filter's
 * WHERE clause, and the checks a new delivery passes before it is written.
 *
 * @module
 */

import {
  type ClaimedDelivery,
  DELIVERY_STATES,
  type DeliveryDetail,
  type DeliveryFilter,
  type DeliveryState,
  type DeliverySummary,
  type NewDelivery,
  type QueueCounts,
  type RequeueOptions,
  type RequeueResult,
  type RunOutcome,
  type RunRecord,
  StoreUnavailableError,
} from "./types.ts";

export type Row = Record<string, unknown>;

export const SUMMARY_COLUMNS =
  `d.id, d.endpoint, d.event, d.source_id, d.received_at, d.content_type,
  d.body_size, d.hook, d.verified_by, d.state, d.attempts, d.queued_at, d.updated_at,
  d.finished_at, d.superseded_by, d.filtered_by,
  r.outcome AS r_outcome, r.exit_code AS r_exit_code, r.signal AS r_signal,
  r.started_at AS r_started_at, r.ended_at AS r_ended_at`;

export const LAST_RUN_JOIN = `LEFT JOIN runs r ON r.id = (
  SELECT max(id) FROM runs WHERE delivery_id = d.id)`;

/**
 * Check a new delivery and make it storable: a sender id's control
 * characters escaped (see {@linkcode escapeControls}).
 *
 * @param d the delivery as the accept path hands it over
 * @returns the delivery to store
 * @throws {TypeError} naming every field that is missing or malformed
 */
export function checkDelivery(d: NewDelivery): NewDelivery {
  const problems: string[] = [];
  for (const key of ["endpoint", "event", "contentType"] as const) {
    if (typeof d[key] !== "string") problems.push(`${key} must be a string`);
  }
  if (!d.endpoint) problems.push("endpoint must not be empty");
  if (d.sourceId !== undefined && typeof d.sourceId !== "string") {
    problems.push("sourceId must be a string when present");
  }
  if (!Number.isFinite(d.receivedAt)) problems.push("receivedAt must be epoch milliseconds");
  if (!(d.body instanceof Uint8Array)) problems.push("body must be a Uint8Array");
  if (d.hook !== null && typeof d.hook !== "string") problems.push("hook must be a string or null");
  if (d.filteredBy !== undefined && typeof d.filteredBy !== "string") {
    problems.push("filteredBy must be a string when present");
  }
  if (!Number.isInteger(d.timeoutMs) || d.timeoutMs <= 0) {
    problems.push("timeoutMs must be a positive integer");
  }
  if (typeof d.headers !== "object" || d.headers === null) {
    problems.push("headers must be an object");
  }
  if (problems.length > 0) throw new TypeError(`Invalid delivery: ${problems.join("; ")}`);
  if (d.sourceId === undefined) return d;
  const sourceId = escapeControls(d.sourceId);
  return sourceId === d.sourceId ? d : { ...d, sourceId };
}

/** A database failure as the store's error, in the database's own words. */
export function unavailable(what: string, error: unknown): StoreUnavailableError {
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`${what}: ${detail}`, { cause: error });
}

/**
 * A new delivery's columns as both stores write them, in the state it
 * starts in: `ignored` without a hook, `filtered` with `filteredBy`, else `queued`.
 */
export function newRow(row: NewDelivery, id: string, now: number) {
  const state: DeliveryState = row.hook === null
    ? "ignored"
    : row.filteredBy !== undefined
    ? "filtered"
    : "queued";
  return {
    id,
    endpoint: row.endpoint,
    event: row.event,
    source_id: row.sourceId ?? null,
    received_at: row.receivedAt,
    content_type: row.contentType,
    headers: JSON.stringify(row.headers),
    body: row.body,
    body_size: row.body.byteLength,
    hook: row.hook,
    timeout_ms: row.timeoutMs,
    verified_by: row.verifiedBy ?? null,
    state,
    queued_at: now,
    updated_at: now,
    finished_at: state === "queued" ? null : now,
    replay_hash: row.replayHash ?? null,
    filtered_by: state === "filtered" ? row.filteredBy! : null,
  };
}

export function whereClause(
  filter: DeliveryFilter,
  extra: string[] = [],
): { where: string; params: (string | number)[] } {
  const clauses = [...extra];
  const params: (string | number)[] = [];
  if (filter.endpoint !== undefined) {
    clauses.push("d.endpoint = ?");
    params.push(filter.endpoint);
  }
  if (filter.state !== undefined) {
    const states = typeof filter.state === "string" ? [filter.state] : [...filter.state];
    for (const state of states) {
      if (!DELIVERY_STATES.includes(state)) {
        throw new RangeError(
          `Unknown delivery state "${state}": use one of ${DELIVERY_STATES.join(", ")}`,
        );
      }
    }
    clauses.push(`d.state IN (${states.map(() => "?").join(", ") || "NULL"})`);
    params.push(...states);
  }
  if (filter.since !== undefined) {
    clauses.push("d.received_at >= ?");
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    clauses.push("d.received_at < ?");
    params.push(filter.until);
  }
  if (filter.before !== undefined) {
    clauses.push("d.id < ?");
    params.push(filter.before);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}

export function toSummary(row: Row): DeliverySummary {
  return {
    id: row.id as string,
    endpoint: row.endpoint as string,
    event: row.event as string,
    sourceId: row.source_id as string | null,
    receivedAt: row.received_at as number,
    contentType: row.content_type as string,
    bodySize: row.body_size as number,
    hook: row.hook as string | null,
    verifiedBy: row.verified_by as string | null,
    state: row.state as DeliveryState,
    attempts: row.attempts as number,
    queuedAt: row.queued_at as number,
    updatedAt: row.updated_at as number,
    finishedAt: row.finished_at as number | null,
    supersededBy: row.superseded_by as string | null,
    filteredBy: (row.filtered_by ?? null) as string | null,
    lastRun: row.r_outcome == null ? null : {
      outcome: row.r_outcome as RunOutcome,
      exitCode: row.r_exit_code as number | null,
      signal: row.r_signal as string | null,
      startedAt: row.r_started_at as number,
      endedAt: row.r_ended_at as number | null,
    },
  };
}

/** A whole delivery from its summary row (with the detail columns) and runs. */
export function toDetail(row: Row, runs: RunRecord[]): DeliveryDetail {
  return {
    ...toSummary(row),
    headers: JSON.parse(row.headers as string),
    body: bytes(row.body),
    timeoutMs: row.timeout_ms as number,
    failures: row.failures as number,
    notBefore: row.not_before as number,
    runs,
  };
}

/** Queue counts from the stored count of each state (states without a count: 0). */
export function toCounts(
  stateCounts: Iterable<Row>,
  inserting: number,
  oldest: Row | undefined,
): QueueCounts {
  const byState = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<
    DeliveryState,
    number
  >;
  for (const row of stateCounts) byState[row.state as DeliveryState] = row.n as number;
  return {
    queued: byState.queued,
    running: byState.running,
    inserting,
    oldestQueuedAt: oldest ? oldest.queued_at as number : null,
    byState,
  };
}

/**
 * The rows `requeue` may replay, in the order of `ids`; unknown, queued and
 * running ids are added to `result` as skipped.
 */
export function replayable(
  ids: Iterable<string>,
  find: (id: string) => Row | undefined,
  result: RequeueResult,
): Row[] {
  const rows: Row[] = [];
  for (const id of ids) {
    const row = find(id);
    if (!row) result.skipped.push({ id, reason: "unknown" });
    else if (row.state === "queued" || row.state === "running") {
      result.skipped.push({ id, reason: row.state });
    } else rows.push(row);
  }
  return rows;
}

/** `requeueMatching`'s WHERE clause: finished deliveries that have a hook, or may get one from `hookFor`. */
export function replayWhere(filter: DeliveryFilter, options: RequeueOptions) {
  return whereClause(filter, [
    "d.state NOT IN ('queued', 'running')",
    ...(options.hookFor ? [] : ["d.hook IS NOT NULL"]),
  ]);
}

/** The hook a replay of `row` runs: the one `hookFor` gives, or the stored one. */
export function replayHook(row: Row, options: RequeueOptions): string | null {
  const hook = row.hook as string | null;
  if (!options.hookFor) return hook;
  const { id, endpoint, event } = row as Record<string, string>;
  return options.hookFor({ id, endpoint, event, hook });
}

export function toRun(row: Row): RunRecord {
  return {
    id: row.id as number,
    attempt: row.attempt as number,
    startedAt: row.started_at as number,
    endedAt: row.ended_at as number | null,
    durationMs: row.duration_ms as number | null,
    outcome: row.outcome as RunOutcome,
    exitCode: row.exit_code as number | null,
    signal: row.signal as string | null,
    stdout: fromBytes(row.stdout),
    stderr: fromBytes(row.stderr),
    // SQLite's 0 or 1, PostgreSQL's boolean.
    stdoutTruncated: Boolean(row.stdout_truncated),
    stderrTruncated: Boolean(row.stderr_truncated),
    error: row.error as string | null,
  };
}

/** C0 and C1 control characters and DEL. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
/** The same, but tab and line feed. */
// deno-lint-ignore no-control-regex
const CONTROLS_BUT_LINES = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text from outside with its control characters written as `\xHH`: how the
 * store keeps a sender id (a NUL in a PostgreSQL text column fails the
 * insert; the same id always escapes the same way, so dedupe still works)
 * and how the page shows hook output.
 *
 * @param text any text
 * @param options `keepLines`: leave tab and line feed as they are
 * @returns the text with each control character escaped
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeControls } from "./_rows.ts";
 *
 * assert.equal(escapeControls("evt_\0\n"), "evt_\\x00\\x0a");
 * assert.equal(escapeControls("a\0\n", { keepLines: true }), "a\\x00\n");
 * ```
 */
export function escapeControls(text: string, options: { keepLines?: boolean } = {}): string {
  return text.replace(
    options.keepLines ? CONTROLS_BUT_LINES : CONTROLS,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Output as stored: the bytes of its UTF-8 text, so that NUL and every other
 * character fit in both stores.
 */
export function toBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A body as a plain Uint8Array: postgres.js gives a Buffer, and the two stores answer alike. */
function bytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array && value.constructor === Uint8Array
    ? value
    : Uint8Array.from(value as Uint8Array);
}

/** Stored output back as text. */
function fromBytes(value: unknown): string {
  return typeof value === "string" ? value : decoder.decode(value as Uint8Array);
}

/**
 * A claimed delivery from its row (after the claim's update: `attempts`
 * counts this run) and the run the claim created.
 */
export function toClaimed(row: Row, runId: number): ClaimedDelivery {
  return {
    id: row.id as string,
    endpoint: row.endpoint as string,
    event: row.event as string,
    sourceId: row.source_id as string | null,
    receivedAt: row.received_at as number,
    contentType: row.content_type as string,
    headers: JSON.parse(row.headers as string),
    body: bytes(row.body),
    hook: row.hook as string,
    timeoutMs: row.timeout_ms as number,
    verifiedBy: row.verified_by as string | null,
    attempt: row.attempts as number,
    failures: row.failures as number,
    runId,
  };
}
