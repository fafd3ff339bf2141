/**
 * The bench's two number helpers, shared by its sections: the median it
 * quotes and the way it prints a figure.
 *
 * @module
 */

/**
 * The median of `values`.
 *
 * @param values the measurements
 * @returns their median, NaN when there are none
 */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * A figure with `digits` decimals and thousands separators, or "–".
 *
 * @param n the figure
 * @param digits decimals to show
 * @returns the text
 */
export function fmt(n: number, digits: number): string {
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
