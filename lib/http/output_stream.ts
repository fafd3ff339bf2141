/**
 * Watching a hook run: `GET /deliveries/:id/output` on the admin listener as
 * `text/event-stream`, and the plain-text body of `_RESPOND=stream`. A run in
 * progress is read from the daemon's shared live buffer (woken by the hook's
 * writes, never polling), a finished one from the store; positions count in
 * the bounded excerpt, so an event's `id:` resumes the same way from either.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { stream } from "hono/streaming";
import type { DeliveryDetail, OutputEnd, OutputSnapshot, Store } from "../store/mod.ts";

/** Where the output comes from: the daemon wires its live hub and its store. */
export interface OutputSource {
  /** The store, for deliveries that are not running here. */
  store: Pick<Store, "get">;
  /** The run of `id` in progress in this process, if any. */
  live(id: string): {
    snapshot(): OutputSnapshot;
    changed(signal: AbortSignal): Promise<void>;
  } | undefined;
  /** Resolves when a run of `id` starts in this process (or `signal` fires). */
  started(id: string, signal: AbortSignal): Promise<void>;
  /** Resolves when `id`'s run ends on any instance (or `signal` fires); shared by watchers. */
  finished(id: string, signal: AbortSignal): Promise<void>;
  /** Time between keep-alives, default 15000 ms. */
  keepAliveMs?: number;
}

/** One piece of a watched run. */
type OutputPiece =
  | { type: "stdout" | "stderr"; data: string; id: string }
  | { type: "truncated"; data: "stdout" | "stderr"; id: string }
  | { type: "end"; end: OutputEnd; id: string }
  | { type: "waiting" }
  | { type: "running" };

/**
 * Where a watcher is: the run's attempt, the UTF-16 units of each excerpt
 * already sent, and which `truncated` events were (bit 1 stdout, bit 2 stderr).
 */
interface OutputCursor {
  attempt: number;
  stdout: number;
  stderr: number;
  truncated: number;
}

/**
 * Read an event id (`Last-Event-ID`) back into a cursor.
 *
 * @param id e.g. `1-120-0-0`, or `1-end`
 * @returns the cursor, `"end"` when the run's end was seen, or undefined when it is malformed
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEventId } from "./output_stream.ts";
 * assert.deepEqual(parseEventId("2-10-3-1"), { attempt: 2, stdout: 10, stderr: 3, truncated: 1 });
 * assert.equal(parseEventId("2-end"), "end");
 * assert.equal(parseEventId("nonsense"), undefined);
 * ```
 */
export function parseEventId(id: string): OutputCursor | "end" | undefined {
  if (/^\d{1,9}-end$/.test(id)) return "end";
  const match = /^(\d{1,9})-(\d{1,9})-(\d{1,9})-([0-3])$/.exec(id);
  if (!match) return undefined;
  const [attempt, stdout, stderr, truncated] = match.slice(1).map(Number);
  return { attempt, stdout, stderr, truncated };
}

function eventId(cursor: OutputCursor): string {
  return `${cursor.attempt}-${cursor.stdout}-${cursor.stderr}-${cursor.truncated}`;
}

/** What follows `cursor` in `snap`; moves `cursor` along. */
function piecesSince(snap: OutputSnapshot, cursor: OutputCursor): OutputPiece[] {
  const pieces: OutputPiece[] = [];
  for (const stream of ["stdout", "stderr"] as const) {
    const text = snap[stream];
    if (text.length > cursor[stream]) {
      const data = text.slice(cursor[stream]);
      cursor[stream] = text.length;
      pieces.push({ type: stream, data, id: eventId(cursor) });
    }
  }
  for (const [stream, bit] of [["stdout", 1], ["stderr", 2]] as const) {
    if (snap[`${stream}Truncated`] && !(cursor.truncated & bit)) {
      cursor.truncated |= bit;
      pieces.push({ type: "truncated", data: stream, id: eventId(cursor) });
    }
  }
  if (snap.end) pieces.push({ type: "end", end: snap.end, id: `${snap.attempt}-end` });
  return pieces;
}

function storedSnapshot(delivery: DeliveryDetail): OutputSnapshot {
  const run = delivery.runs.at(-1);
  return {
    attempt: run?.attempt ?? 0,
    stdout: run?.stdout ?? "",
    stderr: run?.stderr ?? "",
    stdoutTruncated: run?.stdoutTruncated ?? false,
    stderrTruncated: run?.stderrTruncated ?? false,
    end: {
      outcome: run?.outcome ?? null,
      exitCode: run?.exitCode ?? null,
      signal: run?.signal ?? null,
      timedOut: run?.outcome === "timed_out",
      durationMs: run?.durationMs ?? null,
      state: delivery.state,
    },
  };
}

/**
 * Follow one delivery's output: what its run has written so far, each new
 * piece as it is written, then `end`. A queued delivery, or one running on
 * another instance, yields `waiting` until its run starts here or ends
 * anywhere. One run only: a retry's output is not followed.
 */
async function* followOutput(
  source: OutputSource,
  id: string,
  options: { after?: OutputCursor; signal: AbortSignal },
): AsyncGenerator<OutputPiece> {
  const { signal } = options;
  let cursor = options.after;
  const at = (attempt: number) =>
    cursor?.attempt === attempt
      ? cursor
      : (cursor = { attempt, stdout: 0, stderr: 0, truncated: 0 });
  while (!signal.aborted) {
    const live = source.live(id);
    if (live) {
      yield { type: "running" };
      for (;;) {
        const snap = live.snapshot();
        yield* piecesSince(snap, at(snap.attempt));
        if (snap.end || signal.aborted) return;
        await live.changed(signal);
      }
    }
    const delivery = await source.store.get(id);
    if (!delivery) return;
    if (delivery.state !== "queued" && delivery.state !== "running") {
      const snap = storedSnapshot(delivery);
      yield* piecesSince(snap, at(snap.attempt));
      return;
    }
    yield { type: "waiting" };
    const stop = new AbortController();
    const either = AbortSignal.any([signal, stop.signal]);
    await Promise.race([source.started(id, either), source.finished(id, either)]);
    stop.abort();
  }
}

/** One Server-Sent Event; each line of `data` its own `data:` line (CR, LF and CRLF end lines). */
function sseEvent(type: string, id: string, data: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`).join("\n");
  return `id: ${id}\nevent: ${type}\n${lines}\n\n`;
}

const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * Add `GET /deliveries/:id/output` to the admin app (whose Host, token and
 * loopback rules run first).
 */
export function mountOutputStream(app: Hono, source: OutputSource): void {
  app.get("/deliveries/:id/output", async function outputStream(c) {
    const id = c.req.param("id");
    c.header("Cache-Control", "no-store");
    if (!ID.test(id) || !(await source.store.get(id))) {
      return c.text(`No such delivery: ${id.slice(0, 40)}\n`, 404);
    }
    const last = c.req.header("Last-Event-ID");
    const after = last ? parseEventId(last) : undefined;
    if (last && after === undefined) {
      return c.text(
        "Malformed Last-Event-ID: send back an id this stream gave, or none to start over\n",
        400,
      );
    }
    // The end was seen: 204 tells EventSource not to reconnect.
    if (after === "end") return c.body(null, 204);
    return pieceResponse(c, source, id, after, {
      contentType: "text/event-stream; charset=utf-8",
      first: "retry: 2000\n\n",
      // A comment: ignored by EventSource, keeps proxies and idle timers from closing the stream.
      keepAlive: () => ": keep-alive\n\n",
      render: (piece) =>
        piece.type === "end"
          ? sseEvent("end", piece.id, JSON.stringify(piece.end))
          : sseEvent(piece.type, piece.id, piece.data),
      failed: (message) => sseEvent("error", "0-end", message),
    });
  });
}

/**
 * How {@linkcode pieceResponse} writes a run: `first` at once, `keepAlive()` each period
 * (undefined: nothing), `render` each output and end piece, `failed` last when following
 * broke; `seen` sees every piece, `waiting` and `running` too.
 */
interface PieceFormat {
  contentType: string;
  first: string;
  keepAlive(): string | undefined;
  render(piece: Exclude<OutputPiece, { type: "waiting" | "running" }>): string;
  failed(message: string): string;
  seen?(piece: OutputPiece): void;
}

/** {@linkcode followOutput} as a streamed body; the reader going away stops only this stream. */
function pieceResponse(
  c: Context,
  source: OutputSource,
  id: string,
  after: OutputCursor | undefined,
  format: PieceFormat,
): Response {
  c.header("Content-Type", format.contentType);
  c.header("Cache-Control", "no-store");
  c.header("X-Accel-Buffering", "no");
  return stream(c, async (out) => {
    const stop = new AbortController();
    // The watcher went away: stop waiting; the run is not touched.
    out.onAbort(() => stop.abort());
    const keepAlive = setInterval(() => {
      const text = format.keepAlive();
      if (text !== undefined) out.write(text);
    }, source.keepAliveMs ?? 15_000);
    try {
      await out.write(format.first);
      for await (const piece of followOutput(source, id, { after, signal: stop.signal })) {
        format.seen?.(piece);
        if (piece.type !== "waiting" && piece.type !== "running") {
          await out.write(format.render(piece));
        }
      }
    } catch (error) {
      await out.write(format.failed(error instanceof Error ? error.message : String(error)));
    } finally {
      clearInterval(keepAlive);
    }
  });
}

/**
 * The last line of a `_RESPOND=stream` body: `hookd: exit N`, or how the run ended otherwise.
 *
 * @param end how the run ended
 * @returns the line, without its newline
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endLine } from "./output_stream.ts";
 * const end = { outcome: "failed", exitCode: 3, signal: null, timedOut: false, durationMs: 5, state: "failed" };
 * assert.equal(endLine(end), "hookd: exit 3");
 * ```
 */
export function endLine(end: OutputEnd): string {
  const retry = end.state === "queued" ? " (a retry is due)" : "";
  if (end.timedOut) {
    return `hookd: timed out${end.signal ? `, ended by ${end.signal}` : ""}${retry}`;
  }
  if (end.exitCode !== null) return `hookd: exit ${end.exitCode}${retry}`;
  if (end.signal !== null) return `hookd: killed by ${end.signal}${retry}`;
  return `hookd: ${end.outcome ?? `not run (${end.state})`}${retry}`;
}

/**
 * The answer to a `_RESPOND=stream` delivery: `firstLine` (it is stored), the
 * hook's output as it is written, a keep-alive line while the run waits to
 * start, and {@linkcode endLine}. The caller going away stops only this body.
 */
export function plainOutputResponse(
  c: Context,
  source: OutputSource,
  id: string,
  firstLine: string,
): Response {
  let waiting = false;
  let lineStart = true;
  // hookd's own lines start a line of their own, whatever the hook left unfinished.
  const own = (line: string) => `${lineStart ? "" : "\n"}${line}\n`;
  return pieceResponse(c, source, id, undefined, {
    contentType: "text/plain; charset=utf-8",
    first: `${firstLine}\n`,
    keepAlive: () => waiting ? "hookd: waiting for a free slot\n" : undefined,
    seen: (piece) => waiting = piece.type === "waiting",
    render(piece) {
      const text = piece.type === "end"
        ? own(endLine(piece.end))
        : piece.type === "truncated"
        ? own(`hookd: ${piece.data} went past the output limit; the rest is not shown`)
        : piece.data;
      lineStart = text.endsWith("\n");
      return text;
    },
    failed: (message) => `\nhookd: cannot follow the run: ${message}\n`,
  });
}
