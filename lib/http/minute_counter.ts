/**
 * Counts of events per minute over the last hour, in memory: for what the
 * store does not keep, such as duplicate deliveries (answered, never
 * stored). Lost on restart, which the chart says.
 *
 * @module
 */

const MINUTE_MS = 60_000;

/** A ring of per-minute counts. */
export interface MinuteCounter {
  /** Count one event at `now` (default: the clock's time). */
  add(now?: number): void;
  /**
   * The counts of the minutes from `since` (rounded down to its minute) up to `until`.
   *
   * @param since epoch milliseconds
   * @param until epoch milliseconds
   * @returns one count per minute, oldest first; 0 for minutes older than the ring holds
   */
  perMinute(since: number, until: number): number[];
}

/** Options for {@linkcode createMinuteCounter}. */
export interface MinuteCounterOptions {
  /** Minutes kept; default 60. */
  minutes?: number;
  /** The clock, epoch milliseconds; for tests. */
  now?: () => number;
}

/**
 * Make a counter that keeps the last `minutes` minutes.
 *
 * @param options how many minutes, and the clock
 * @returns the counter
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMinuteCounter } from "./minute_counter.ts";
 * const counter = createMinuteCounter({ now: () => 120_000 });
 * counter.add();
 * counter.add();
 * assert.equal(counter.perMinute(60_000, 180_000).join(), "0,2");
 * ```
 */
export function createMinuteCounter(options: MinuteCounterOptions = {}): MinuteCounter {
  const size = options.minutes ?? 60;
  const clock = options.now ?? Date.now;
  const counts = new Array<number>(size).fill(0);
  /** The minute number each slot counts, so a slot left from an older lap reads as 0. */
  const slotMinute = new Array<number>(size).fill(-1);
  return {
    add(now = clock()) {
      const minute = Math.floor(now / MINUTE_MS);
      const slot = minute % size;
      if (slotMinute[slot] !== minute) {
        slotMinute[slot] = minute;
        counts[slot] = 0;
      }
      counts[slot]++;
    },
    perMinute(since, until) {
      const out: number[] = [];
      for (let minute = Math.floor(since / MINUTE_MS); minute * MINUTE_MS < until; minute++) {
        const slot = minute % size;
        out.push(slotMinute[slot] === minute ? counts[slot] : 0);
      }
      return out;
    },
  };
}
