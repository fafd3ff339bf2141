/**
 * The deliveries page's chart: deliveries per minute over the last hour,
 * stacked by outcome, with the hook durations' p50 and p99 on a second axis.
 * Plain SVG coloured by the stylesheet's classes (the CSP allows no inline
 * style), with a `<title>` per minute and a caption in words: readable
 * without JavaScript.
 *
 * @module
 */

import type { MinuteActivity } from "../store/mod.ts";

/** The outcomes a bar is stacked from, bottom up. */
const OUTCOMES = [
  { key: "done", label: "done" },
  { key: "failed", label: "failed" },
  { key: "pending", label: "queued or running" },
  { key: "superseded", label: "superseded" },
  { key: "ignored", label: "ignored (no hook)" },
  { key: "filtered", label: "filtered (a filter failed)" },
  { key: "duplicate", label: "duplicate (answered, not stored)" },
] as const;

type Outcome = (typeof OUTCOMES)[number]["key"];

/** What the chart shows. */
export interface ChartProps {
  /** The store's activity, one entry per minute, oldest first. */
  minutes: readonly MinuteActivity[];
  /** Duplicates answered per minute, aligned with `minutes`; undefined when not counted. */
  duplicates?: readonly number[];
}

const WIDTH = 960;
const HEIGHT = 220;
const LEFT = 40;
const RIGHT = 56;
const TOP = 12;
const BOTTOM = 22;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PLOT_H = HEIGHT - TOP - BOTTOM;

/** The chart as a `<figure>` holding the SVG, a legend and a caption. */
export function ActivityChart(props: ChartProps) {
  const rows = props.minutes.map((m, i) => ({
    minute: m.minute,
    counts: outcomeCounts(m, props.duplicates?.[i] ?? 0),
    durationMs: m.durationMs,
  }));
  const totals = Object.fromEntries(OUTCOMES.map((o) => [o.key, 0])) as Record<Outcome, number>;
  for (const row of rows) for (const o of OUTCOMES) totals[o.key] += row.counts[o.key];
  const maxCount = niceCeil(Math.max(1, ...rows.map((r) => sum(r.counts))));
  const maxMs = niceCeil(Math.max(1, ...rows.map((r) => r.durationMs?.p99 ?? 0)));
  const slot = PLOT_W / Math.max(1, rows.length);
  const barW = Math.max(1, slot - 2);
  const y = (count: number) => TOP + PLOT_H - (count / maxCount) * PLOT_H;
  const yMs = (ms: number) => TOP + PLOT_H - (ms / maxMs) * PLOT_H;
  const xMid = (i: number) => LEFT + i * slot + slot / 2;
  const delivered = sum(totals) - totals.duplicate;
  const runs = props.minutes.reduce((n, m) => n + m.runs, 0);
  const summary = `Last hour: ${delivered} deliveries stored (${
    OUTCOMES.filter((o) => o.key !== "duplicate").map((o) => `${totals[o.key]} ${o.label}`)
      .join(", ")
  })${
    props.duplicates === undefined
      ? "; duplicates are answered, not stored, and are not counted here"
      : `; ${totals.duplicate} duplicates answered (counted in memory since hookd started)`
  }; ${runs} hook runs ended.`;
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby="chart-title chart-desc"
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id="chart-title">Deliveries per minute and hook durations, last hour</title>
        <desc id="chart-desc">{summary}</desc>
        <line class="axis" x1={LEFT} y1={TOP + PLOT_H} x2={LEFT + PLOT_W} y2={TOP + PLOT_H} />
        <line class="axis" x1={LEFT} y1={TOP} x2={LEFT + PLOT_W} y2={TOP} />
        <text x={LEFT - 6} y={TOP + 4} text-anchor="end">{maxCount}</text>
        <text x={LEFT - 6} y={TOP + PLOT_H + 4} text-anchor="end">0</text>
        <text x={LEFT + PLOT_W + 6} y={TOP + 4}>{formatMs(maxMs)}</text>
        <text x={LEFT + PLOT_W + 6} y={TOP + PLOT_H + 4}>0 ms</text>
        {rows.map((_row, i) => {
          const minutesAgo = rows.length - 1 - i;
          if (minutesAgo % 10 !== 0) return null;
          return (
            <text x={xMid(i)} y={HEIGHT - 6} text-anchor="middle">
              {minutesAgo === 0 ? "now" : `−${minutesAgo} min`}
            </text>
          );
        })}
        {rows.map((row, i) => {
          let base = 0;
          const x = LEFT + i * slot + (slot - barW) / 2;
          return (
            <g class="minute">
              <title>{minuteTitle(row.minute, row.counts, row.durationMs)}</title>
              {/* Transparent full-height target, so hovering an empty minute still shows it. */}
              <rect x={LEFT + i * slot} y={TOP} width={slot} height={PLOT_H} fill="transparent" />
              {OUTCOMES.map((o) => {
                const count = row.counts[o.key];
                if (count === 0) return null;
                const top = y(base + count);
                const height = y(base) - top;
                base += count;
                return <rect class={`bar-${o.key}`} x={x} y={top} width={barW} height={height} />;
              })}
            </g>
          );
        })}
        {(["p50", "p99"] as const).map((p) =>
          segments(rows.map((r) => r.durationMs?.[p])).map((points) => (
            <polyline
              class={`line-${p}`}
              points={points.map(([i, ms]) => `${xMid(i).toFixed(1)},${yMs(ms).toFixed(1)}`)
                .join(" ")}
            />
          ))
        )}
        {rows.map((r, i) =>
          (["p50", "p99"] as const).map((p) =>
            r.durationMs
              ? <circle class={`dot-${p}`} cx={xMid(i)} cy={yMs(r.durationMs[p])} r="2.5" />
              : null
          )
        )}
      </svg>
      <ul class="legend">
        {OUTCOMES.map((o) => (
          <li>
            <span class={`swatch bar-${o.key}`}></span>
            {o.label}:{" "}
            {props.duplicates === undefined && o.key === "duplicate"
              ? "not counted"
              : totals[o.key]}
          </li>
        ))}
        {[["p50", " (right axis)"], ["p99", ""]].map(([p, axis]) => (
          <li>
            <span class={`swatch line-${p}`}></span>
            {`hook duration ${p}${axis}`}
          </li>
        ))}
      </ul>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}

function outcomeCounts(m: MinuteActivity, duplicates: number): Record<Outcome, number> {
  const r = m.received;
  return {
    done: r.done ?? 0,
    failed: r.failed ?? 0,
    pending: (r.queued ?? 0) + (r.running ?? 0),
    superseded: r.superseded ?? 0,
    ignored: r.ignored ?? 0,
    filtered: r.filtered ?? 0,
    duplicate: duplicates,
  };
}

function minuteTitle(
  minute: number,
  counts: Record<Outcome, number>,
  durationMs: MinuteActivity["durationMs"],
): string {
  const time = new Date(minute).toISOString().slice(11, 16);
  const parts = OUTCOMES.filter((o) => counts[o.key] > 0).map((o) => `${counts[o.key]} ${o.label}`);
  const durations = durationMs
    ? `; hook duration p50 ≤ ${formatMs(durationMs.p50)}, p95 ≤ ${
      formatMs(durationMs.p95)
    }, p99 ≤ ${formatMs(durationMs.p99)}`
    : "";
  return `${time} UTC: ${parts.length > 0 ? parts.join(", ") : "no deliveries"}${durations}`;
}

/** Runs of consecutive defined values, as [index, value] points. */
function segments(values: readonly (number | undefined)[]): [number, number][][] {
  const out: [number, number][][] = [[]];
  values.forEach((value, i) => value === undefined ? out.push([]) : out.at(-1)!.push([i, value]));
  // A lone point is a dot only (drawn with the others).
  return out.filter((points) => points.length > 1);
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** 1, 2, 5 × 10^n at or above `value`. */
function niceCeil(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** A duration in milliseconds for a person: `850 ms`, `1.2 s`, `3 min`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${(ms / 60_000).toFixed(ms < 600_000 ? 1 : 0)} min`;
}
