/**
 * How deep JSON text nests, found by one bounded scan before any parse: a
 * body nested thousands deep costs V8's parser, and anything that walks or
 * indents it, far more than its size says (msgraph's unauthenticated body, the
 * deliveries page).
 *
 * @module
 */

const OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d, OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d;
const QUOTE = 0x22, BACKSLASH = 0x5c;

/**
 * Whether JSON text nests arrays and objects deeper than `max`, brackets
 * inside strings aside. One pass over the bytes that stops as soon as the
 * answer is yes; it does not check that the text is JSON (the parse does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nestedDeeperThan } from "./json_depth.ts";
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * assert.equal(nestedDeeperThan(bytes('{"a":[[1]]}'), 3), false);
 * assert.equal(nestedDeeperThan(bytes('{"a":[[[1]]]}'), 3), true);
 * assert.equal(nestedDeeperThan(bytes('{"a":"[[[["}'), 3), false);
 * ```
 */
export function nestedDeeperThan(body: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}
