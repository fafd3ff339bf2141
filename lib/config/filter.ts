/**
 * Filters per event (`HOOKD_<NAME>_MATCH_<EVENT>`): conditions on payload
 * fields and headers, all of which must hold for a delivery's hook to run.
 * No filter evaluates code: a condition compares one field's text with a
 * value, where `*` matches any run of characters. The syntax:
 *
 * ```text
 * ref=refs/heads/main repository.full_name=acme/site pull_request.merged=true
 * ref!=refs/tags/* header.x-gitlab-event="Push Hook" head_commit.message!="*[skip ci]*"
 * ```
 *
 * A value with spaces or `"` is written in double quotes; `\` takes the
 * next character literally (`\"`, `\\`, `\*` for a literal star).
 *
 * @module
 */

import { eventKeys } from "./event_keys.ts";
import { type FieldPath, parseFieldPath, parsePayload, readField } from "./payload_field.ts";

/** One condition: a field, `=` or `!=`, and a value that may hold `*`. */
export interface Condition {
  /** The field compared. */
  field: FieldPath;
  /** `!=`: the condition holds when the value does not match (or the field is absent). */
  negate: boolean;
  /** The value split at its unescaped stars: one part is plain equality. */
  parts: string[];
}

/** A parsed filter: conditions that must all hold. */
export interface Filter {
  /** The conditions, in the order written. */
  conditions: Condition[];
}

/** What a filter looks at: the stored body, content type and headers of a delivery. */
export interface FilterInput {
  body: Uint8Array;
  contentType: string;
  headers: Readonly<Record<string, string>>;
  /** The body as {@linkcode parsePayload} parses it, when the verifier already did. */
  parsed?: { value: unknown };
}

/**
 * Parse a filter.
 *
 * @throws {Error} with a short problem (the caller names the variable)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFilter, parseFilter } from "./filter.ts";
 * const filter = parseFilter('ref=refs/heads/main header.X-GitLab-Event="Push Hook"');
 * assert.equal(formatFilter(filter), 'ref=refs/heads/main header.x-gitlab-event="Push Hook"');
 * ```
 */
export function parseFilter(text: string): Filter {
  const conditions: Condition[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  skipSpace();
  while (i < text.length) {
    const start = i;
    while (i < text.length && !/[\s=!"]/.test(text[i])) i++;
    const pathText = text.slice(start, i);
    let negate = false;
    if (text.startsWith("!=", i)) {
      negate = true;
      i += 2;
    } else if (text[i] === "=") {
      i += 1;
    } else {
      throw new Error(
        `"${text.slice(start).split(/\s/)[0]}" has no = or !=: write field=value or field!=value`,
      );
    }
    if (pathText === "") throw new Error(`a condition at character ${start + 1} names no field`);
    const field = parseFieldPath(pathText);
    const { parts, end } = readValue(text, i);
    i = end;
    if (i < text.length && !/\s/.test(text[i])) {
      throw new Error(
        `"${pathText}" has text right after its quoted value: put a space between conditions`,
      );
    }
    conditions.push({ field, negate, parts });
    skipSpace();
  }
  if (conditions.length === 0) {
    throw new Error("no condition is given: write e.g. ref=refs/heads/main, or remove the line");
  }
  return { conditions };
}

/** Read a bare or quoted value from `start`; stars split it into parts. */
function readValue(text: string, start: number): { parts: string[]; end: number } {
  const quoted = text[start] === '"';
  let i = quoted ? start + 1 : start;
  const parts = [""];
  while (true) {
    if (i >= text.length) {
      if (quoted) {
        throw new Error(`a value opened with " at character ${start + 1} is never closed`);
      }
      break;
    }
    const c = text[i];
    if (quoted && c === '"') {
      i++;
      break;
    }
    if (!quoted && /\s/.test(c)) break;
    if (!quoted && c === '"') {
      throw new Error(`a value has a " inside it: quote the whole value, or write \\"`);
    }
    if (c === "\\") {
      if (i + 1 >= text.length) throw new Error("a value ends with a lone \\: write \\\\");
      parts[parts.length - 1] += text[i + 1];
      i += 2;
      continue;
    }
    if (c === "*") parts.push("");
    else parts[parts.length - 1] += c;
    i++;
  }
  return { parts, end: i };
}

/**
 * Print a filter back in the syntax it was parsed from, normalised:
 * header names lower-cased, values quoted only where needed.
 *
 * @returns one line that {@linkcode parseFilter} reads as the same filter
 */
export function formatFilter(filter: Filter): string {
  return filter.conditions.map(formatCondition).join(" ");
}

function formatCondition(condition: Condition): string {
  const escaped = condition.parts.map((part) => part.replace(/[\\"*]/g, (c) => `\\${c}`));
  const value = escaped.join("*");
  const quote = value === "" || /[\s"]/.test(value);
  return `${condition.field.text}${condition.negate ? "!=" : "="}${quote ? `"${value}"` : value}`;
}

/**
 * Whether a text matches a value's parts: equality for one part, else a glob.
 * No regular expression, so no catastrophic backtracking on hostile input.
 */
export function matchParts(parts: readonly string[], text: string): boolean {
  if (parts.length === 1) return parts[0] === text;
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (text.length < first.length + last.length) return false;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;
  // The middle parts, leftmost first, between the prefix and the suffix.
  let at = first.length;
  const stop = text.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = text.indexOf(part, at);
    if (found === -1 || found + part.length > stop) return false;
    at = found + part.length;
  }
  return true;
}

/**
 * Evaluate a filter on a delivery.
 *
 * @param input the stored body, content type and headers
 * @returns `undefined` when every condition holds; else the first that
 *   fails, as written, with `(no such field)` when its field is absent.
 *   Never the field's value: that is payload, which stays out of the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluateFilter, parseFilter } from "./filter.ts";
 * const body = new TextEncoder().encode('{"ref":"refs/heads/dev"}');
 * const input = { body, contentType: "application/json", headers: {} };
 * assert.equal(evaluateFilter(parseFilter("ref=refs/heads/*"), input), undefined);
 * assert.equal(evaluateFilter(parseFilter("ref=refs/heads/main"), input), "ref=refs/heads/main");
 * ```
 */
export function evaluateFilter(filter: Filter, input: FilterInput): string | undefined {
  let payload: unknown;
  let parsed = false;
  for (const condition of filter.conditions) {
    if (condition.field.source === "payload" && !parsed) {
      payload = input.parsed ? input.parsed.value : parsePayload(input.body, input.contentType);
      parsed = true;
    }
    const text = readField({ payload, headers: input.headers }, condition.field);
    const matches = text !== undefined && matchParts(condition.parts, text);
    if (matches === condition.negate) {
      return text === undefined
        ? `${formatCondition(condition)} (no such field)`
        : formatCondition(condition);
    }
  }
  return undefined;
}

/**
 * The filter for an event, from the most specific variable to the least, as
 * hooks are picked (see `event_keys.ts`).
 *
 * @param endpoint the endpoint's prefix and filters
 * @returns the variable and its filter, or `undefined` when none applies
 */
export function pickFilter(
  endpoint: { prefix: string; filters: ReadonlyMap<string, Filter> },
  event: string,
): { variable: string; filter: Filter } | undefined {
  for (const key of eventKeys(event)) {
    const filter = endpoint.filters.get(key);
    if (filter) return { variable: `${endpoint.prefix}MATCH_${key}`, filter };
  }
  return undefined;
}

/**
 * Why a delivery's hook must not run: the filter for its event, applied.
 *
 * @param endpoint the endpoint's prefix and filters
 * @param input the stored body, content type and headers
 * @returns `undefined` when no filter applies or it holds; else the
 *   variable and the failed condition, e.g. `HOOKD_GH_MATCH_PUSH: ref=refs/heads/main`
 */
export function filterMiss(
  endpoint: { prefix: string; filters: ReadonlyMap<string, Filter> },
  event: string,
  input: FilterInput,
): string | undefined {
  const picked = pickFilter(endpoint, event);
  if (!picked) return undefined;
  const failed = evaluateFilter(picked.filter, input);
  return failed === undefined ? undefined : `${picked.variable}: ${failed}`;
}

/**
 * Read an endpoint's `_MATCH_<EVENT>` variables.
 *
 * @param prefix the endpoint's prefix, e.g. `HOOKD_GH_`
 * @param problems where a malformed filter is reported, naming its variable
 * @param known the variables recognised so far; these are added
 * @returns the filters by event key
 */
export function readFilters(
  prefix: string,
  vars: Readonly<Record<string, string>>,
  problems: string[],
  known: Set<string>,
): Map<string, Filter> {
  const filters = new Map<string, Filter>();
  for (const [variable, value] of Object.entries(vars)) {
    if (!variable.startsWith(`${prefix}MATCH_`)) continue;
    known.add(variable);
    const key = variable.slice(`${prefix}MATCH_`.length);
    if (!/^[A-Z0-9_]+$/.test(key)) {
      problems.push(
        `${variable} is not a valid filter name: use A-Z, 0-9 and _ after ${prefix}MATCH_`,
      );
      continue;
    }
    try {
      filters.set(key, parseFilter(value));
    } catch (error) {
      problems.push(
        `${variable} is not a valid filter: ${
          (error as Error).message
        }; see README, e.g. ${variable}='ref=refs/heads/main'`,
      );
    }
  }
  return filters;
}
