/**
 * Redaction for the log: the {@linkcode Cleaner} that walks a value
 * into plain JSON with properties named like secrets (the one rule of
 * `secret_name.ts`) written as `"[REDACTED]"`, raw bytes as their
 * size, long strings cut and deep or circular objects elided. Private to
 * `lib/log/`.
 *
 * @module
 */

import { isSecretName } from "./secret_name.ts";

/** What a redacted value is written as. */
export const REDACTED = "[REDACTED]";
/** Longer strings are cut, so a body logged by mistake under an innocent name stays a fragment. */
export const MAX_STRING = 2048;
/** Deeper objects are elided rather than walked. */
const MAX_DEPTH = 8;

/**
 * Cuts a string past `max` characters, saying how many were cut.
 *
 * @param max how many characters to keep
 * @returns `text` itself if short enough, else its first `max` characters and `…[N more chars]`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { truncate } from "./_redact.ts";
 * assert.equal(truncate("abcdef", 4), "abcd…[2 more chars]");
 * ```
 */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[${text.length - max} more chars]`;
}

/**
 * Walks a value into plain JSON, redacting as it goes. One cleaner serves one
 * record, so the values it redacted can be kept out of the message too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cleaner } from "./_redact.ts";
 * const cleaner = new Cleaner();
 * const headers = cleaner.property("headers", { "x-hub-signature-256": "sha256=abc" }, 0);
 * assert.equal(JSON.stringify(headers), '{"x-hub-signature-256":"[REDACTED]"}');
 * assert.ok(cleaner.redacted?.has("sha256=abc"));
 * ```
 */
export class Cleaner {
  /** Values found under sensitive names, to keep them out of the message too. */
  redacted: Set<unknown> | null = null;
  // Made on first use: most records hold only flat, innocent values.
  #ancestors: Set<object> | null = null;

  /**
   * The value as plain JSON: strings cut, objects walked (circular ones and
   * those too deep elided), properties under sensitive names redacted.
   *
   * @param depth how deep `value` sits in the record, 0 at the top
   */
  value(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case "string":
        return truncate(value, MAX_STRING);
      case "number":
        return Number.isFinite(value) ? value : String(value);
      case "boolean":
      case "undefined":
        return value;
      case "bigint":
      case "symbol":
        return value.toString();
      case "function":
        return `[Function ${value.name || "anonymous"}]`;
    }
    if (value === null) return null;
    const object = value as object;
    this.#ancestors ??= new Set();
    if (this.#ancestors.has(object)) return "[Circular]";
    if (depth >= MAX_DEPTH) return "[Object]";
    this.#ancestors.add(object);
    try {
      return this.#object(object, depth);
    } finally {
      this.#ancestors.delete(object);
    }
  }

  #entries(
    entries: Iterable<[string, unknown]>,
    depth: number,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of entries) out[key] = this.property(key, value, depth);
    return out;
  }

  /**
   * The value of a property at `depth`, redacted if its name is sensitive.
   *
   * @param depth how deep the object holding it sits
   */
  property(key: string, value: unknown, depth: number): unknown {
    if (value !== undefined && isSecretName(key)) {
      (this.redacted ??= new Set()).add(value);
      return REDACTED;
    }
    return this.value(value, depth + 1);
  }

  #object(object: object, depth: number): unknown {
    if (object instanceof Date) {
      return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
    }
    if (object instanceof Error) {
      const code = (object as { code?: unknown }).code;
      return this.#entries(
        [
          ["name", object.name],
          ["message", object.message],
          ["code", typeof code === "string" ? code : undefined],
          ["cause", object.cause],
        ],
        depth,
      );
    }
    if (object instanceof ArrayBuffer || ArrayBuffer.isView(object)) {
      return `[binary ${object.byteLength} bytes]`;
    }
    if (object instanceof Blob) return `[binary ${object.size} bytes]`;
    if (object instanceof ReadableStream) return "[stream]";
    if (object instanceof URL) return object.href;
    if (object instanceof Headers || object instanceof Map) {
      return this.#entries(
        [...object.entries()].map(([k, v]) => [String(k), v]),
        depth,
      );
    }
    if (object instanceof Set) object = [...object];
    if (Array.isArray(object)) {
      return object.map((item) => this.value(item, depth + 1) ?? null);
    }
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      try {
        return this.value(toJSON.call(object), depth + 1);
      } catch {
        return "[Unserializable]";
      }
    }
    return this.#entries(Object.entries(object), depth);
  }
}
