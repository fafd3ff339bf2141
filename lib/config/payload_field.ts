/**
 * Fields of a delivery named by the admin, for filters (`_MATCH_<EVENT>`)
 * and hook variables (`_HOOK_FIELDS`): a dotted path into the payload
 * (`commits.0.id`) or a header (`header.x-gitlab-event`). Nothing here
 * evaluates code, and a path only walks the payload's own keys.
 *
 * @module
 */

/** A field the admin named: a path into the payload, or a header. */
export interface FieldPath {
  /** As it is printed back: `repository.full_name`, `header.x-gitlab-event`. */
  text: string;
  /** Where the value comes from. */
  source: "payload" | "header";
  /** The keys to walk into the payload; for a header, its lower-case name. */
  keys: string[];
}

/** What fields are read from: the parsed payload and the stored headers. */
export interface FieldSubject {
  /** The payload as parsed by {@linkcode parsePayload}; `undefined` when it is neither JSON nor a form. */
  payload: unknown;
  /** The headers as stored with the delivery (lower-case names, credentials redacted). */
  headers: Readonly<Record<string, string>>;
}

/** The characters a payload key may hold in a path: not the filter syntax's own. */
const KEY = /^[^\s.=!"\\*,]+$/;
/** Header names in practice; `!` and `*` would clash with the filter syntax. */
const HEADER_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Read a field path as the admin wrote it.
 *
 * @param text e.g. `repository.full_name` or `header.X-GitLab-Event`
 * @returns the path, a header's name lower-cased
 * @throws {Error} with a short problem (no variable name) when the path is malformed
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFieldPath } from "./payload_field.ts";
 * assert.equal(parseFieldPath("header.X-GitLab-Event").text, "header.x-gitlab-event");
 * assert.equal(parseFieldPath("commits.0.id").keys.length, 3);
 * ```
 */
export function parseFieldPath(text: string): FieldPath {
  if (text.startsWith("header.")) {
    const name = text.slice("header.".length);
    if (!HEADER_NAME.test(name)) {
      throw new Error(
        `"${text}" does not name a header: write header.<name>, e.g. header.x-gitlab-event`,
      );
    }
    const lower = name.toLowerCase();
    return { text: `header.${lower}`, source: "header", keys: [lower] };
  }
  const keys = text.split(".");
  if (text === "" || !keys.every((key) => KEY.test(key))) {
    throw new Error(
      `"${text}" is not a field path: write keys joined by dots, e.g. repository.full_name or commits.0.id`,
    );
  }
  return { text, source: "payload", keys };
}

/**
 * Parse a stored body for fields: JSON as is, a form as an object of its
 * fields (a repeated one as an array); anything else gives `undefined`.
 *
 * @returns the parsed payload, or `undefined`
 */
export function parsePayload(body: Uint8Array, contentType: string): unknown {
  const text = new TextDecoder().decode(body);
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType.trim())) {
    const form: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      const seen = form[key];
      form[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    return form;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A field's value as text (a string as is, anything else as compact JSON),
 * or `undefined` when the delivery has no such field.
 *
 * @param subject the parsed payload and stored headers
 * @returns the text, or `undefined` when absent
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFieldPath, readField } from "./payload_field.ts";
 * const subject = { payload: { pull_request: { merged: true }, commits: [{ id: "a1" }] }, headers: {} };
 * assert.equal(readField(subject, parseFieldPath("pull_request.merged")), "true");
 * assert.equal(readField(subject, parseFieldPath("commits.0.id")), "a1");
 * assert.equal(readField(subject, parseFieldPath("commits.1.id")), undefined);
 * ```
 */
export function readField(subject: FieldSubject, path: FieldPath): string | undefined {
  if (path.source === "header") {
    return Object.hasOwn(subject.headers, path.keys[0]) ? subject.headers[path.keys[0]] : undefined;
  }
  let value: unknown = subject.payload;
  for (const key of path.keys) {
    if (Array.isArray(value) && /^\d+$/.test(key)) {
      value = Number(key) < value.length ? value[Number(key)] : undefined;
    } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      // Own keys only: `constructor` or `__proto__` never reach Object.prototype.
      value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    } else {
      value = undefined;
    }
    if (value === undefined) return undefined;
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Fields a hook may be given at most: each can be 64 KiB, and the kernel caps a whole environment. */
export const MAX_HOOK_FIELDS = 16;

/**
 * The variable a hook gets a field in.
 *
 * @returns e.g. `HOOKD_FIELD_REPOSITORY_FULL_NAME`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fieldVariable, parseFieldPath } from "./payload_field.ts";
 * assert.equal(fieldVariable(parseFieldPath("repository.full_name")), "HOOKD_FIELD_REPOSITORY_FULL_NAME");
 * ```
 */
export function fieldVariable(path: FieldPath): string {
  return `HOOKD_FIELD_${path.text.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Read `_HOOK_FIELDS`: comma-separated field paths.
 *
 * @param problems where mistakes are reported, naming the variable
 * @returns the fields, malformed ones left out
 */
export function parseFieldList(variable: string, value: string, problems: string[]): FieldPath[] {
  const fields: FieldPath[] = [];
  const byVariable = new Map<string, string>();
  for (const text of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    let path: FieldPath;
    try {
      path = parseFieldPath(text);
    } catch (error) {
      problems.push(`${variable}: ${(error as Error).message}`);
      continue;
    }
    const name = fieldVariable(path);
    const clash = byVariable.get(name);
    if (clash !== undefined) {
      problems.push(
        `${variable} names ${clash} and ${path.text}, which would both be ${name}: keep one`,
      );
      continue;
    }
    byVariable.set(name, path.text);
    fields.push(path);
  }
  if (fields.length > MAX_HOOK_FIELDS) {
    problems.push(
      `${variable} names ${fields.length} fields: at most ${MAX_HOOK_FIELDS}; a hook that needs more can read HOOKD_PAYLOAD_FILE`,
    );
  }
  return fields;
}
