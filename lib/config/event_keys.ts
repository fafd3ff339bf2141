/**
 * How an event name becomes the keys of the variables that configure it:
 * `pull_request.opened` is looked up as `PULL_REQUEST_OPENED`, then
 * `PULL_REQUEST`, then `DEFAULT`. Hooks (`_HOOK_<EVENT>`) and filters
 * (`_MATCH_<EVENT>`) share this one fallback, so an admin learns it once.
 *
 * @module
 */

/**
 * The variable key for an event: upper case, every character outside
 * `A-Z0-9` turned into `_`.
 *
 * @param event an event name such as `pull_request.opened`
 * @returns e.g. `PULL_REQUEST_OPENED`
 */
export function eventKey(event: string): string {
  return event.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * The keys to try for an event, most specific first, `DEFAULT` last.
 *
 * @returns e.g. `["PULL_REQUEST_OPENED", "PULL_REQUEST", "DEFAULT"]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventKeys } from "./event_keys.ts";
 * assert.equal(eventKeys("pull_request.opened").join(), "PULL_REQUEST_OPENED,PULL_REQUEST,DEFAULT");
 * ```
 */
export function eventKeys(event: string): string[] {
  // One key for the whole name, then its cuts at each "." from the right:
  // linear in the name, never a key per prefix built from scratch. Cut where
  // the upper-cased name has its dots ("ß" becomes "SS"): eventKey keeps
  // every position of it.
  const upper = event.toUpperCase();
  const full = eventKey(event);
  const keys: string[] = [];
  for (let end = upper.length; end !== -1; end = upper.lastIndexOf(".", end - 1)) {
    keys.push(full.slice(0, end));
    if (end === 0) break;
  }
  keys.push("DEFAULT");
  return keys;
}
