/**
 * The admin pages' one stylesheet, served by the admin listener at
 * {@linkcode STYLE_PATH} (the pages' CSP allows no inline style). Chart
 * colours are classes here, so the SVG carries no style attributes.
 *
 * @module
 */

/** Where the stylesheet is served; the version in the name lets it be cached for good. */
export const STYLE_PATH = "/static/admin-2.css";

/** The stylesheet. */
export const STYLE = `
:root { color-scheme: light; --fg: #1c1f24; --muted: #5f6b7a; --line: #d9dee5; --bg: #fff;
  --done: #2f9e44; --failed: #e03131; --ignored: #adb5bd; --superseded: #845ef7;
  --filtered: #fab005;
  --pending: #f59f00; --duplicate: #74c0fc; --p50: #1c1f24; --p99: #c2255c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
header.top { display: flex; gap: 1.5em; align-items: baseline; padding: .6em 1.2em;
  border-bottom: 1px solid var(--line); }
header.top a { color: inherit; text-decoration: none; font-weight: 600; }
main { padding: 1em 1.2em 3em; max-width: 1200px; }
h1 { font-size: 1.3em; margin: .2em 0 .6em; }
h2 { font-size: 1.1em; margin: 1.6em 0 .5em; }
a { color: #1864ab; }
table { border-collapse: collapse; width: 100%; }
table.headers { width: auto; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em; }
tr:hover td { background: #f6f8fa; }
time { white-space: nowrap; }
.state { display: inline-block; padding: 0 .5em; border-radius: .8em; font-size: .85em;
  color: #fff; background: var(--muted); }
.state-done { background: var(--done); } .state-failed { background: var(--failed); }
.state-ignored { background: var(--ignored); color: var(--fg); }
.state-superseded { background: var(--superseded); }
.state-filtered { background: var(--filtered); color: var(--fg); }
.state-queued, .state-running { background: var(--pending); color: var(--fg); }
form.filters { display: flex; flex-wrap: wrap; gap: .8em; align-items: end; margin: 1em 0; }
form.filters label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); }
select, input, button { font: inherit; padding: .25em .5em; }
button { cursor: pointer; border: 1px solid #1864ab; background: #1864ab; color: #fff;
  border-radius: 4px; }
button[disabled] { background: var(--ignored); border-color: var(--ignored); cursor: default; }
.pager { display: flex; gap: 1.5em; margin: 1em 0; }
.notice { padding: .5em .8em; border-left: 4px solid var(--done); background: #ebfbee; }
.notice.warn { border-color: var(--pending); background: #fff9db; }
.error { padding: .5em .8em; border-left: 4px solid var(--failed); background: #fff5f5; }
.muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.2em; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: .6em .8em; overflow: auto;
  max-height: 32em; white-space: pre-wrap; word-break: break-word; margin: .3em 0 .8em; }
section.run { border-top: 1px solid var(--line); padding-top: .4em; }
figure.chart { margin: 0 0 1em; }
figure.chart svg { width: 100%; height: auto; max-width: 1000px; display: block; }
figure.chart figcaption { font-size: .85em; color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 1em; font-size: .85em; margin: .3em 0; padding: 0;
  list-style: none; }
.legend span.swatch { display: inline-block; width: .9em; height: .9em; margin-right: .3em;
  vertical-align: -.1em; border-radius: 2px; }
svg .axis { stroke: var(--line); } svg text { fill: var(--muted); font-size: 11px; }
${
  ["done", "failed", "ignored", "superseded", "filtered", "pending", "duplicate"]
    .map((k) => `svg .bar-${k}, .swatch.bar-${k} { fill: var(--${k}); background: var(--${k}); }`)
    .join("\n")
}
svg .line-p50 { fill: none; stroke: var(--p50); stroke-width: 1.5; }
svg .line-p99 { fill: none; stroke: var(--p99); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg .dot-p50, svg .dot-p99 { stroke: #fff; stroke-width: 1; }
svg .dot-p50 { fill: var(--p50); } svg .dot-p99 { fill: var(--p99); }
.swatch.line-p50 { background: var(--p50); } .swatch.line-p99 { background: var(--p99); }
`;
