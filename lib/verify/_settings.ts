/**
 * Provider settings read when an endpoint is built: a bad value fails
 * start-up with the variable named, never a request.
 *
 * @module
 */

import type { EndpointSettings } from "./types.ts";
import { parseDuration } from "../config/duration.ts";
import { eventSettingsProblem } from "./_event.ts";

/**
 * Read a duration setting such as `TOLERANCE`.
 *
 * @param endpoint the endpoint's resolved settings
 * @param suffix the setting's suffix, e.g. `TOLERANCE`
 * @param fallback the value used when the setting is absent
 * @returns the duration in milliseconds
 * @throws {Error} naming the variable when the value is not a duration
 */
export function readDuration(
  endpoint: EndpointSettings,
  suffix: string,
  fallback: string,
): number {
  const value = endpoint.settings[suffix] ?? fallback;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new Error(
      `${endpoint.prefix}${suffix} is not a valid duration: ${(error as Error).message}`,
    );
  }
}

/**
 * Read a `true|false` setting such as `ALLOW_SHA1`.
 *
 * @param endpoint the endpoint's resolved settings
 * @param suffix the setting's suffix
 * @returns whether it is `true`; absent means `false`
 * @throws {Error} naming the variable when the value is neither
 */
export function readFlag(endpoint: EndpointSettings, suffix: string): boolean {
  const value = endpoint.settings[suffix] ?? "false";
  if (value !== "true" && value !== "false") {
    throw new Error(`${endpoint.prefix}${suffix} must be true or false: got ${value}`);
  }
  return value === "true";
}

/**
 * The variable holding the secret at an index of `endpoint.secrets`.
 *
 * @param endpoint the endpoint's resolved settings
 * @param index 0 for the current secret, 1 for the previous one
 * @returns e.g. `HOOKD_GITLAB_SECRET_PREVIOUS`
 */
export function secretVariable(endpoint: EndpointSettings, index: number): string {
  return `${endpoint.prefix}${index === 0 ? "SECRET" : "SECRET_PREVIOUS"}`;
}

/**
 * Refuse event settings that contradict each other (`EVENT_HEADER` and
 * `EVENT_FIELD` both set) on a generic provider.
 *
 * @param endpoint the endpoint's resolved settings
 * @throws {Error} naming the variables when both are set
 */
export function checkEventSettings(endpoint: EndpointSettings): void {
  const problem = eventSettingsProblem(endpoint.settings);
  if (problem) throw new Error(`${endpoint.prefix}${problem}`);
}
