/**
 * Checks of the whole numbers and durations the configuration holds, each
 * problem worded to follow its variable's name. Private to `lib/config/`.
 *
 * @module
 */

import { durationProblem, parseDuration } from "./duration.ts";
import { MAX_TIMER_MS } from "./limits.ts";

/** As {@linkcode durationProblem}, and above 0 and at most what a timer can wait (about 24 days). */
export function timeoutProblem(value: string): string | undefined {
  const problem = durationProblem(value);
  if (problem) return problem;
  const ms = parseDuration(value);
  return ms >= 1 && ms <= MAX_TIMER_MS
    ? undefined
    : `is "${value}": write a time limit above 0 and at most 24d`;
}

/** `is "…", not a whole number: …` unless the value is a whole number from 1 to 1,000,000. */
export function positiveProblem(value: string): string | undefined {
  return /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 1_000_000
    ? undefined
    : `is "${value}", not a whole number: write a number above 0`;
}

/** `is "…", not a whole number: …` unless the value is a whole number from 0 to 1000. */
export function countProblem(value: string): string | undefined {
  return /^\d+$/.test(value) && Number(value) <= 1_000
    ? undefined
    : `is "${value}", not a whole number: write a number from 0 to 1000`;
}

/** A global duration in milliseconds; 0, with the problem added, when it is not one. */
export function globalDuration(variable: string, value: string, problems: string[]): number {
  const problem = durationProblem(value);
  if (problem) {
    problems.push(`${variable} ${problem}`);
    return 0;
  }
  return parseDuration(value);
}

/** A global whole number above 0; 0, with the problem added, when it is not one. */
export function positiveInt(variable: string, value: string, problems: string[]): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    problems.push(`${variable} is "${value}", not a whole number: write a number above 0`);
    return 0;
  }
  return Number(value);
}
