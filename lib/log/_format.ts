/**
 * Formatting for the log: a logtape record becomes one flat, redacted entry,
 * written as the file's JSON line or as a short human line for stderr.
 * Private to `lib/log/`.
 *
 * @module
 */

import type { LogRecord } from "@logtape/logtape";
import { Cleaner, MAX_STRING, REDACTED, truncate } from "./_redact.ts";

/** The stderr line quotes values past this length, cut. */
const MAX_STDERR_VALUE = 200;

/**
 * Top-level properties holding a process's output excerpt (a hook's stdout
 * and stderr, already limited to 64 KiB by the runner), kept up to this many
 * characters rather than {@linkcode MAX_STRING}: the log promises the same
 * excerpt the store has. One cut here sets `<key>Truncated` to true.
 */
const MAX_OUTPUT = 65_536;
const OUTPUT_KEYS = ["stdout", "stderr"] as const;

/** Record keys that properties may not overwrite. */
const RESERVED_KEYS = new Set(["time", "level", "type", "message"]);

/** Types by category array: a logger passes the same array with every record. */
const recordTypes = new WeakMap<readonly string[], string>();

/** The record's `type`: its category past the `hookd` root. */
function recordType(category: readonly string[]): string {
  let type = recordTypes.get(category);
  if (type === undefined) {
    type = (category[0] === "hookd" && category.length > 1 ? category.slice(1) : category)
      .join(".");
    recordTypes.set(category, type);
  }
  return type;
}

/** The last timestamp formatted: many records share a millisecond under load. */
let lastTimestamp = Number.NaN;
let lastTime = "";

function isoTime(timestamp: number): string {
  if (timestamp !== lastTimestamp) {
    lastTime = new Date(timestamp).toISOString();
    lastTimestamp = timestamp;
  }
  return lastTime;
}

/** The file and stderr sinks get the same record one after the other: the second reuses the entry. */
let lastRecord: LogRecord | null = null;
let lastEntry: Record<string, unknown> = {};

/** The flat, redacted object that both output formats are made from. */
function toEntry(record: LogRecord): Record<string, unknown> {
  if (record === lastRecord) return lastEntry;
  const entry: Record<string, unknown> = {
    time: isoTime(record.timestamp),
    level: record.level,
    type: recordType(record.category),
    message: "", // Rendered last, once the redacted values are known.
  };
  const cleaner = new Cleaner();
  const properties = record.properties;
  for (const key of Object.keys(properties)) {
    entry[RESERVED_KEYS.has(key) ? `_${key}` : key] = cleaner.property(key, properties[key], 0);
  }
  for (const key of OUTPUT_KEYS) {
    const output = properties[key];
    if (typeof output !== "string") continue;
    entry[key] = output.length > MAX_OUTPUT ? output.slice(0, MAX_OUTPUT) : output;
    // After the loop above, so that a caller's `false` cannot hide this cut.
    if (output.length > MAX_OUTPUT) entry[`${key}Truncated`] = true;
  }
  const parts = record.message;
  let message = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i % 2 === 0) {
      message += String(part);
    } else if (cleaner.redacted?.has(part)) {
      message += REDACTED;
    } else {
      const value = cleaner.value(part, 0);
      message += typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
    }
  }
  entry.message = truncate(message, MAX_STRING);
  lastRecord = record;
  lastEntry = entry;
  return entry;
}

/**
 * Formats a record as the file's JSON line: one flat object, newline-ended.
 * Properties named `time`, `level`, `type` or `message` are renamed with a
 * leading `_` so they cannot forge the record's own fields.
 *
 * @returns `{"time":ISO,"level":…,"type":…,"message":…,…properties}` and `\n`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLogLine } from "./_format.ts";
 * const line = formatLogLine({
 *   category: ["hookd", "request"],
 *   level: "info",
 *   message: ["request"],
 *   rawMessage: "request",
 *   timestamp: 0,
 *   properties: { status: 202, signature: "sha256=abc" },
 * });
 * assert.equal(line, '{"time":"1970-01-01T00:00:00.000Z","level":"info",' +
 *   '"type":"request","message":"request","status":202,"signature":"[REDACTED]"}\n');
 * ```
 */
export function formatLogLine(record: LogRecord): string {
  return JSON.stringify(toEntry(record)) + "\n";
}

/** A value for the stderr line: bare when it is one plain word, else quoted. */
function stderrValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return text.length <= MAX_STDERR_VALUE && /^[^\s"\\\p{C}]+$/u.test(text)
    ? text
    : JSON.stringify(truncate(text, MAX_STDERR_VALUE));
}

/** Always quoted (a line of output reads as one value), control characters escaped, cut. */
function quoted(value: unknown): string {
  // JSON escapes C0 controls only; DEL and C1 could still drive a terminal.
  return JSON.stringify(truncate(String(value), MAX_STDERR_VALUE)).replace(
    /\p{Cc}/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Formats a record as a short human line for stderr (journald adds the time),
 * with the fields an operator scans for. Control characters are escaped, so a
 * header value cannot forge a line.
 *
 * @returns the line, without a newline
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatStderrLine } from "./_format.ts";
 * const line = formatStderrLine({
 *   category: ["hookd", "request"],
 *   level: "info",
 *   message: ["request"],
 *   rawMessage: "request",
 *   timestamp: 0,
 *   properties: { endpoint: "github", event: "push", status: 202, outcome: "accepted", durationMs: 3, id: "d1" },
 * });
 * assert.equal(line, "request github push 202 accepted 3ms id=d1");
 * ```
 */
export function formatStderrLine(record: LogRecord): string {
  const entry = toEntry(record);
  const parts: string[] = [];
  if (entry.level !== "info") parts.push(String(entry.level).toUpperCase());
  parts.push(String(entry.type));
  if (entry.message !== "" && entry.message !== entry.type) {
    parts.push(
      String(entry.message).replace(
        /\p{Cc}/gu,
        (c) => JSON.stringify(c).slice(1, -1),
      ),
    );
  }
  for (const key of ["endpoint", "event", "status", "outcome"]) {
    if (entry[key] != null) parts.push(stderrValue(entry[key]));
  }
  if (entry.exitCode != null) parts.push(`exit=${stderrValue(entry.exitCode)}`);
  if (entry.timedOut === true) parts.push("timed-out");
  if (entry.durationMs != null) {
    parts.push(`${stderrValue(entry.durationMs)}ms`);
  }
  if (entry.id != null) parts.push(`id=${stderrValue(entry.id)}`);
  if (entry.stderrFirstLine != null) parts.push(`stderr=${quoted(entry.stderrFirstLine)}`);
  if (entry.error != null) {
    const error = entry.error as { message?: unknown };
    parts.push(
      `error=${stderrValue(typeof error === "object" ? error.message : error)}`,
    );
  }
  return parts.join(" ");
}
