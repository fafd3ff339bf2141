/**
 * Rows in, store types out: the columns a summary reads, the filter's
 * WHERE clause, and the checks a new delivery passes before it is written.
 *
 * @module
 */

import {
  type ClaimedDelivery,
  DELIVERY_STATES,
  type DeliveryFilter,
  type DeliveryState,
  type DeliverySummary,
  type NewDelivery,
  type RunOutcome,
  type RunRecord,
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

export function checkDelivery(d: NewDelivery): void {
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
    stdout: row.stdout as string,
    stderr: row.stderr as string,
    stdoutTruncated: row.stdout_truncated === 1,
    stderrTruncated: row.stderr_truncated === 1,
    error: row.error as string | null,
  };
}

/**
 * A claimed delivery from its row (after the claim's update: `attempts`
 * counts this run) and the run the claim created.
 *
 * @param row the delivery's row, every column (SQLite's or PostgreSQL's)
 * @param runId the new run's id
 * @returns what the queue runs
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
    // postgres.js gives a Buffer; a plain Uint8Array keeps the two stores' answers equal.
    body: row.body instanceof Uint8Array && row.body.constructor === Uint8Array
      ? row.body
      : Uint8Array.from(row.body as Uint8Array),
    hook: row.hook as string,
    timeoutMs: row.timeout_ms as number,
    verifiedBy: row.verified_by as string | null,
    attempt: row.attempts as number,
    failures: row.failures as number,
    runId,
  };
}
