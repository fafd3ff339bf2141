/**
 * The admin pages' markup: the layout, the deliveries list, one delivery,
 * and the error page. Pure functions of their props; hono/jsx escapes every
 * text and attribute, so bodies, headers and hook output from outside are
 * shown as text and never become markup.
 *
 * @module
 */

import type { Child } from "hono/jsx";
import type { DeliveryDetail, DeliveryState, DeliverySummary, RunRecord } from "../store/mod.ts";
import { DELIVERY_STATES, escapeControls } from "../store/mod.ts";
import { ActivityChart, type ChartProps, formatMs } from "./_chart.tsx";
import { CSRF_FIELD } from "./_csrf.ts";
import { STYLE_PATH } from "./_style.ts";
import { SCRIPT_PATH } from "./_live_script.ts";
import { isSecretName } from "../log/mod.ts";
import { nestedDeeperThan } from "../verify/mod.ts";

/** The list's filters, from the query string (checked); `before`: the id the page starts after. */
export interface ListQuery {
  endpoint?: string;
  state?: DeliveryState;
  since?: string;
  before?: string;
}

/**
 * What a replay did, as the page shows it after the redirect: whether the
 * delivery was queued again, and what `hookd replay ID` prints for it.
 */
export interface ReplayNotice {
  requeued: boolean;
  text: string;
}

/** The `since` choices the filter form offers (any other duration also works in the URL). */
const SINCE = ["15m", "1h", "6h", "24h", "7d"] as const;

/**
 * The page frame: stylesheet, header, content. An empty data: icon keeps
 * the browser from asking for /favicon.ico.
 */
function Layout(props: { title: string; children: Child; live?: boolean; unfinished?: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* With the script the page updates itself; without it, it reloads while work is under way. */}
        {props.unfinished
          ? (
            <noscript>
              <meta http-equiv="refresh" content="2" />
            </noscript>
          )
          : null}
        {props.live ? <script src={SCRIPT_PATH} defer></script> : null}
        <title>{props.title} · hookd</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={STYLE_PATH} />
      </head>
      <body>
        <header class="top">
          <a href="/">hookd</a>
          <span class="muted">deliveries</span>
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/**
 * `/`: the chart, the filters and this page's deliveries (newest first); a
 * mistake in the query is shown instead of the table. `nextBefore` is the id
 * the next page starts after, `now` the clock for relative times.
 */
export function ListPage(props: {
  query: ListQuery;
  endpoints: readonly string[];
  deliveries: readonly DeliverySummary[];
  nextBefore?: string;
  chart: ChartProps;
  error?: string;
  now: number;
}) {
  const { query } = props;
  return (
    <Layout title="Deliveries">
      <h1>Deliveries</h1>
      <ActivityChart {...props.chart} />
      <form class="filters" method="get" action="/">
        <Select label="Endpoint" name="endpoint" values={props.endpoints} query={query} />
        <Select label="State" name="state" values={DELIVERY_STATES} query={query} />
        <Select label="Received within" name="since" any="any time" values={SINCE} query={query} />
        <button type="submit">Filter</button>
        <a href="/">clear</a>
      </form>
      {props.error
        ? <p class="error" role="alert">{props.error}</p>
        : <DeliveryTable deliveries={props.deliveries} now={props.now} />}
      <nav class="pager">
        {query.before ? <a href={listHref({ ...query, before: undefined })}>« newest</a> : null}
        {props.nextBefore
          ? <a rel="next" href={listHref({ ...query, before: props.nextBefore })}>older »</a>
          : null}
      </nav>
    </Layout>
  );
}

/**
 * One filter of the list: `any` first, then `values` and the value in force
 * (a URL may name one the form does not offer), which is selected.
 */
function Select(
  props: {
    label: string;
    name: "endpoint" | "state" | "since";
    any?: string;
    values: readonly string[];
    query: ListQuery;
  },
) {
  const now = props.query[props.name];
  const values = [...new Set([...props.values, ...(now ? [now] : [])])];
  return (
    <label>
      {props.label}
      <select name={props.name}>
        <option value="">{props.any ?? "any"}</option>
        {values.map((v) => <option value={v} selected={v === now}>{v}</option>)}
      </select>
    </label>
  );
}

function DeliveryTable(props: { deliveries: readonly DeliverySummary[]; now: number }) {
  if (props.deliveries.length === 0) return <p class="muted">No deliveries match.</p>;
  return (
    <table class="deliveries">
      <thead>
        <tr>
          {["Received", "Endpoint", "Event", "State"].map((name) => <th>{name}</th>)}
          <th class="num">Exit</th>
          <th class="num">Duration</th>
          <th>Sender's id</th>
        </tr>
      </thead>
      <tbody>
        {props.deliveries.map((d) => (
          <tr data-id={d.id} data-state={d.state}>
            <td>
              <a href={`/deliveries/${d.id}`}>
                <Time ms={d.receivedAt} now={props.now} />
              </a>
            </td>
            <td>{d.endpoint}</td>
            <td class="mono">{d.event}</td>
            <td>
              <State state={d.state} />
            </td>
            <td class="num">{d.lastRun ? exitText(d.lastRun) : "–"}</td>
            <td class="num">
              {d.lastRun?.endedAt ? formatMs(d.lastRun.endedAt - d.lastRun.startedAt) : "–"}
            </td>
            <td class="mono">{d.sourceId ?? "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * `/deliveries/:id`: the delivery, its headers and body, the replay form
 * (with its CSRF token) and every run; `replayed` says what a replay just did.
 */
export function DetailPage(
  props: { delivery: DeliveryDetail; csrf: string; replayed?: ReplayNotice; now: number },
) {
  const d = props.delivery;
  const latest = latestShown(d);
  const earlier = d.runs.filter((run) => run !== latest);
  return (
    <Layout title={`Delivery ${d.id}`} unfinished={unfinished(d)} live>
      <h1>
        Delivery <span class="mono">{d.id}</span> <State state={d.state} />
      </h1>
      {props.replayed
        ? (
          <p class={props.replayed.requeued ? "notice" : "notice warn"} role="status">
            {props.replayed.text}
          </p>
        )
        : null}
      <dl class="facts">
        <Fact term="Endpoint">{d.endpoint}</Fact>
        <Fact term="Event" class="mono">{d.event}</Fact>
        <Fact term="Sender's id" class="mono">{d.sourceId ?? "–"}</Fact>
        <Fact term="Received">
          <Time ms={d.receivedAt} now={props.now} />
        </Fact>
        <Fact term="Verified by">{d.verifiedBy ?? "–"}</Fact>
        {/* What was configured when it arrived; a run uses the hook configured when it starts. */}
        <Fact term="Hook when accepted" class="mono">{d.hook ?? "(none: ignored)"}</Fact>
        {d.supersededBy
          ? (
            <Fact term="Superseded by">
              <a class="mono" href={`/deliveries/${d.supersededBy}`}>{d.supersededBy}</a>
            </Fact>
          )
          : null}
        {d.state === "queued" && d.notBefore > 0
          ? (
            <Fact term="Retry at">
              <Time ms={d.notBefore} now={props.now} />
            </Fact>
          )
          : null}
      </dl>
      <ReplayForm delivery={d} csrf={props.csrf} />
      <LatestRun delivery={d} now={props.now} />
      <h2>Headers</h2>
      <table class="headers">
        <tbody>
          {Object.entries(d.headers).map(([name, value]) => (
            <tr>
              <th class="mono">{name}</th>
              {/* Rows stored before the one rule held may keep such a value: never show it. */}
              <td class="mono">{isSecretName(name) ? "[redacted]" : value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>
        Body <span class="muted">({d.contentType || "no type"}, {d.bodySize} bytes)</span>
      </h2>
      {d.body.byteLength > BODY_EXCERPT_BYTES
        ? (
          <p class="muted">
            Showing the first 256 KiB of {d.body.byteLength.toLocaleString("en")} bytes; all of it:
            {" "}
            <code>hookd show {d.id} --json</code>
          </p>
        )
        : null}
      <pre class="body">{bodyText(d.body)}</pre>
      {earlier.length > 0
        ? (
          <>
            <h2>Earlier runs ({earlier.length})</h2>
            {earlier.map((run) => <Run run={run} now={props.now} />)}
          </>
        )
        : null}
    </Layout>
  );
}

function ReplayForm(props: { delivery: DeliveryDetail; csrf: string }) {
  const d = props.delivery;
  const why = d.hook === null ? "no hook to run" : unfinished(d) ? `already ${d.state}` : undefined;
  return (
    <form class="replay" method="post" action={`/deliveries/${d.id}/replay`}>
      <input type="hidden" name={CSRF_FIELD} value={props.csrf} />
      <p>
        <button type="submit" disabled={why !== undefined}>Replay</button>{" "}
        <span class="muted">
          {why
            ? `Cannot replay: ${why}.`
            : "Queues the delivery to run its hook again, like hookd replay ID."}
        </span>
      </p>
    </form>
  );
}

function unfinished(d: DeliveryDetail): boolean {
  return d.state === "queued" || d.state === "running";
}

/** The run shown first: the last one, unless the delivery waits for another (a retry). */
function latestShown(d: DeliveryDetail): RunRecord | undefined {
  const last = d.runs.at(-1);
  return unfinished(d) && last?.outcome !== "running" ? undefined : last;
}

/**
 * The latest run first, above headers and body: state, exit, duration and
 * output. While the delivery is queued or running it carries the output
 * stream's address, which the page's script follows (lib/http/_live_script.ts).
 */
function LatestRun(props: { delivery: DeliveryDetail; now: number }) {
  const d = props.delivery;
  const run = latestShown(d);
  if (!run && !unfinished(d)) return null;
  const live = unfinished(d) && d.hook !== null ? `/deliveries/${d.id}/output` : undefined;
  return (
    <>
      <h2>Latest run</h2>
      {run ? <Run run={run} now={props.now} live={live} /> : (
        <section class="run" data-live={live}>
          <h3 data-field="outcome">Not run yet: {d.state}</h3>
          <dl class="facts">
            <Fact term="Exit" field="exit">–</Fact>
            <Fact term="Duration" field="duration">–</Fact>
          </dl>
          <LiveOutput />
        </section>
      )}
    </>
  );
}

function Run(props: { run: RunRecord; now: number; live?: string }) {
  const { run, live } = props;
  return (
    <section class="run" data-attempt={run.attempt} data-live={live}>
      <h3 data-field="outcome">
        Run {run.attempt}: {run.outcome}
      </h3>
      <dl class="facts">
        <Fact term="Started">
          <Time ms={run.startedAt} now={props.now} />
        </Fact>
        <Fact term="Exit" field="exit">{exitText(run)}</Fact>
        <Fact term="Duration" field="duration">
          {run.durationMs === null ? "–" : formatMs(run.durationMs)}
        </Fact>
        {run.error ? <Fact term="Error">{run.error}</Fact> : null}
      </dl>
      {live ? <LiveOutput /> : (
        <>
          <Output name="stdout" text={run.stdout} truncated={run.stdoutTruncated} />
          <Output name="stderr" text={run.stderr} truncated={run.stderrTruncated} />
        </>
      )}
    </section>
  );
}

/** Where the page's script appends the output stream's lines. */
function LiveOutput() {
  return (
    <>
      <pre class="stdout" data-field="stdout" hidden></pre>
      <pre class="stderr" data-field="stderr" hidden></pre>
    </>
  );
}

function Output(props: { name: string; text: string; truncated: boolean }) {
  if (props.text === "") return <p class="muted">{props.name}: empty</p>;
  return (
    <>
      <p class="muted">
        {props.name}
        {props.truncated ? " (the start only)" : ""}:
      </p>
      <pre class={props.name}>{escapeControls(props.text, { keepLines: true })}</pre>
    </>
  );
}

/** An error page: the message and a way back. */
export function ErrorPage(props: { title: string; message: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p class="error" role="alert">{props.message}</p>
      <p>
        <a href="/">All deliveries</a>
      </p>
    </Layout>
  );
}

/** One term of a `dl.facts`; `field` names it for the page's script. */
function Fact(props: { term: string; class?: string; field?: string; children: Child }) {
  return (
    <>
      <dt>{props.term}</dt>
      {/* Spread, so that an attribute left undefined leaves no space behind in the tag. */}
      <dd {...{ class: props.class, "data-field": props.field }}>{props.children}</dd>
    </>
  );
}

function State(props: { state: DeliveryState }) {
  return <span class={`state state-${props.state}`}>{props.state}</span>;
}

function Time(props: { ms: number; now: number }) {
  const exact = new Date(props.ms).toISOString();
  return <time datetime={exact} title={exact}>{relativeTime(props.ms, props.now)}</time>;
}

const TIME_UNITS = [[86_400, "d"], [3600, "h"], [60, "min"], [1, "s"]] as const;

/** How long ago, for a person: `just now`, `42 s ago`, … `2 d ago` (or `in …` for a time ahead). */
function relativeTime(ms: number, now: number): string {
  const seconds = Math.round((now - ms) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return "just now";
  const [size, unit] = TIME_UNITS.find(([size]) => abs >= size)!;
  const text = `${Math.floor(abs / size)} ${unit}`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

function exitText(run: { exitCode: number | null; signal: string | null; outcome: string }) {
  if (run.exitCode !== null) return String(run.exitCode);
  if (run.signal !== null) return run.signal;
  return run.outcome === "running" ? "running" : "–";
}

/** The most of a body the page shows: the rest is for `hookd show`. */
const BODY_EXCERPT_BYTES = 256 * 1024;
/** Pretty-printing is tried only on bodies this small and this shallow: indenting is quadratic in depth. */
const PRETTY_MAX_BYTES = 64 * 1024;
const PRETTY_MAX_DEPTH = 16;

/**
 * The body as the page shows it, bounded whatever the sender sent: at most
 * {@linkcode BODY_EXCERPT_BYTES} of it, pretty-printed only when it is
 * small, shallow JSON whose indented form still fits (else the raw text),
 * base64 when it is not UTF-8. Every step is linear in the excerpt.
 */
function bodyText(body: Uint8Array): string {
  if (body.byteLength === 0) return "(empty)";
  const whole = body.byteLength <= BODY_EXCERPT_BYTES;
  const bytes = whole ? body : body.subarray(0, BODY_EXCERPT_BYTES);
  const text = utf8Prefix(bytes, whole);
  if (text === undefined) return `(binary; base64)\n${bytes.toBase64()}`;
  if (!whole || bytes.byteLength > PRETTY_MAX_BYTES || nestedDeeperThan(bytes, PRETTY_MAX_DEPTH)) {
    return text;
  }
  try {
    const pretty = JSON.stringify(JSON.parse(text), null, 2);
    return pretty.length <= BODY_EXCERPT_BYTES ? pretty : text;
  } catch {
    return text;
  }
}

/** The bytes as UTF-8; a cut excerpt may end inside a character, which is dropped. */
function utf8Prefix(bytes: Uint8Array, whole: boolean): string | undefined {
  for (let drop = 0; drop <= (whole ? 0 : 3); drop++) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(0, bytes.byteLength - drop),
      );
    } catch {
      // Try one byte shorter: the cut may have split a character.
    }
  }
  return undefined;
}

/** The list's URL for a query: only the filters that are set, so links stay short and bookmarkable. */
function listHref({ endpoint, state, since, before }: ListQuery): string {
  const set = Object.entries({ endpoint, state, since, before }).filter(([, value]) => value);
  const search = new URLSearchParams(set as [string, string][]).toString();
  return search ? `/?${search}` : "/";
}
