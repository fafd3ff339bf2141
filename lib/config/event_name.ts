/**
 * What an event name must be before hookd looks up its hook. The name often
 * comes from a header the sender does not sign, so these limits keep a
 * hostile name from costing more than a normal one, and keep it identical in
 * the lookup, the log, the store and `HOOKD_EVENT` (which cannot hold NUL).
 *
 * @module
 */

/** The longest event name looked up, in UTF-16 code units. */
export const MAX_EVENT_NAME_LENGTH = 200;

/** The most dot-separated segments an event name may have. */
export const MAX_EVENT_NAME_SEGMENTS = 8;

/** C0 controls, DEL and C1 controls. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why an event name must be refused, or `undefined` when it may be looked
 * up. A huge name costs one comparison: the length is checked first.
 *
 * @param event the event name a verifier returned
 * @returns `"event name too long"`, `"event name has control characters"`, or `undefined`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventNameProblem } from "./event_name.ts";
 * assert.equal(eventNameProblem("pull_request.opened"), undefined);
 * assert.equal(eventNameProblem("a.b.c.d.e.f.g.h.i"), "event name too long");
 * assert.equal(eventNameProblem("push.a\u0000b"), "event name has control characters");
 * ```
 */
export function eventNameProblem(event: string): string | undefined {
  if (event.length > MAX_EVENT_NAME_LENGTH) return "event name too long";
  let segments = 1;
  for (let at = event.indexOf("."); at !== -1; at = event.indexOf(".", at + 1)) {
    if (++segments > MAX_EVENT_NAME_SEGMENTS) return "event name too long";
  }
  if (CONTROL.test(event)) return "event name has control characters";
  return undefined;
}
