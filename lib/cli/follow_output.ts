/**
 * `hookd show ID --follow`: a delivery's hook output as it is written, read
 * from the admin listener's event stream (only the daemon holds the live
 * output). A delivery already finished is answered from the store, so that
 * works with the daemon stopped.
 *
 * @module
 */

import { constants } from "node:os";
import { EventSourceParserStream } from "eventsource-parser/stream";
import type { Config } from "../config/mod.ts";
import { writeTo } from "./_write.ts";
import {
  openConfiguredStore,
  type OutputEnd,
  type RunRecord,
  StoreMissingError,
} from "../store/mod.ts";

type Resolved = Required<Omit<FollowOutputOptions, "signal">> & Pick<FollowOutputOptions, "signal">;

/** Where the output goes, and the last line's words. */
export interface FollowOutputOptions {
  /** The line that says how the run ended (the daemon's `endLine`, so both say it alike). */
  endLine(end: OutputEnd): string;
  /** Receives the hook's stdout; default stdout. */
  stdout?(text: string): Promise<void>;
  /** Receives the hook's stderr and hookd's own lines; default stderr. */
  stderr?(text: string): Promise<void>;
  /** Stop following. */
  signal?: AbortSignal;
}

/**
 * The exit code for how a run ended: the hook's own; 124 after its time
 * limit (as `timeout(1)`); 128 + N after signal N (as a shell); 1 otherwise
 * (it never ran, or was stopped by hookd's shutdown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitCodeOf } from "./follow_output.ts";
 * const end = { outcome: "failed", exitCode: null, signal: "SIGKILL", timedOut: false, durationMs: 5, state: "failed" };
 * assert.equal(exitCodeOf(end), 137);
 * assert.equal(exitCodeOf({ ...end, timedOut: true }), 124);
 * ```
 */
export function exitCodeOf(end: OutputEnd): number {
  if (end.timedOut) return 124;
  if (end.exitCode !== null) return end.exitCode;
  if (end.signal !== null) {
    return 128 + (constants.signals[end.signal as keyof typeof constants.signals] ?? 0);
  }
  return 1;
}

function storedEnd(run: RunRecord | undefined, state: string): OutputEnd {
  return {
    outcome: run?.outcome ?? null,
    exitCode: run?.exitCode ?? null,
    signal: run?.signal ?? null,
    timedOut: run?.outcome === "timed_out",
    durationMs: run?.durationMs ?? null,
    state,
  };
}

/** `http://host:port` of the admin listener, for a client on this machine. */
function adminBase(listen: { hostname: string; port: number }): string {
  let host = listen.hostname;
  if (host === "" || host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::") host = "::1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${listen.port}`;
}

/**
 * Run `hookd show ID --follow`.
 *
 * @param config the configuration: the store, the admin listener and its token
 * @param options where output goes, and the end line
 * @returns the exit code: the hook's (see {@linkcode exitCodeOf}), or 1 with
 *   a sentence on stderr when the delivery, the store or the listener is missing
 * @throws {StoreUnavailableError} when the store cannot be opened
 */
export async function followDelivery(
  id: string,
  config: Config,
  given: FollowOutputOptions,
): Promise<number> {
  const options: Resolved = {
    stdout: writeTo(Deno.stdout),
    stderr: writeTo(Deno.stderr),
    ...given,
  };
  let store;
  try {
    store = await openConfiguredStore(config, { readOnly: true, create: false });
  } catch (error) {
    if (!(error instanceof StoreMissingError)) throw error;
    await options.stderr(
      `hookd: no delivery store at ${error.path}: set HOOKD_STATE_DIR to the daemon's state directory\n`,
    );
    return 1;
  }
  let delivery;
  try {
    delivery = await store.get(id);
  } finally {
    await store[Symbol.asyncDispose]();
  }
  if (!delivery) {
    await options.stderr(`hookd: no delivery ${id}\n`);
    return 1;
  }
  if (delivery.state !== "queued" && delivery.state !== "running") {
    const run = delivery.runs.at(-1);
    if (run?.stdout) await options.stdout(run.stdout);
    if (run?.stderr) await options.stderr(run.stderr);
    const end = storedEnd(run, delivery.state);
    const cut = [run?.stdoutTruncated && "stdout", run?.stderrTruncated && "stderr"].filter(
      Boolean,
    );
    for (const stream of cut) {
      await options.stderr(`hookd: ${stream} went past the output limit; the rest is not shown\n`);
    }
    const newline = run?.stderr && !run.stderr.endsWith("\n") ? "\n" : "";
    await options.stderr(`${newline}${options.endLine(end)}\n`);
    return exitCodeOf(end);
  }
  if (!config.adminListen) {
    await options.stderr(
      "hookd: the admin listener is off (HOOKD_ADMIN_LISTEN=off), and show --follow reads a " +
        "running hook's output through it: set HOOKD_ADMIN_LISTEN=127.0.0.1:9001 and restart " +
        "the daemon, or wait and run hookd show ID for the stored output\n",
    );
    return 1;
  }
  if (config.adminListen.port === 0) {
    await options.stderr(
      "hookd: HOOKD_ADMIN_LISTEN has port 0, so the daemon's admin port is not known here: " +
        "set a fixed port\n",
    );
    return 1;
  }
  return await followStream(
    `${adminBase(config.adminListen)}/deliveries/${encodeURIComponent(id)}/output`,
    config.adminToken,
    options,
  );
}

async function followStream(
  url: string,
  token: string | undefined,
  options: Resolved,
): Promise<number> {
  const headers: Record<string, string> = { Accept: "text/event-stream" };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) return 130;
    await options.stderr(
      `hookd: cannot reach the admin listener at ${new URL(url).origin} (${
        error instanceof Error ? error.message : error
      }): is the daemon running, with this env file's HOOKD_ADMIN_LISTEN?\n`,
    );
    return 1;
  }
  if (response.status !== 200 || !response.body) {
    const body = (await response.text()).trim().split("\n")[0].slice(0, 200);
    const hint = response.status === 401
      ? ": set HOOKD_ADMIN_TOKEN (or HOOKD_ADMIN_TOKEN_FILE) in the env file as the daemon has it"
      : "";
    await options.stderr(
      `hookd: the admin listener answered ${response.status}${body ? ` (${body})` : ""}${hint}\n`,
    );
    return 1;
  }
  // Whether the last text written to stderr ended its line: hookd's own lines start their own.
  let stderrAtLineStart = true;
  const own = async (line: string) => {
    await options.stderr(`${stderrAtLineStart ? "" : "\n"}${line}\n`);
    stderrAtLineStart = true;
  };
  const events = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  try {
    for await (const message of events) {
      switch (message.event) {
        case "stdout":
          await options.stdout(message.data);
          break;
        case "stderr":
          await options.stderr(message.data);
          stderrAtLineStart = message.data === "" || message.data.endsWith("\n");
          break;
        case "truncated":
          await own(`hookd: ${message.data} went past the output limit; the rest is not shown`);
          break;
        case "error":
          await own(`hookd: the daemon could not follow the run: ${message.data}`);
          return 1;
        case "end": {
          const end = JSON.parse(message.data) as OutputEnd;
          await own(options.endLine(end));
          return exitCodeOf(end);
        }
      }
    }
  } catch (error) {
    if (options.signal?.aborted) return 130;
    await own(
      `hookd: the stream broke before the run ended (${
        error instanceof Error ? error.message : error
      })`,
    );
    return 1;
  }
  if (options.signal?.aborted) return 130;
  await own("hookd: the stream ended before the run did (was the daemon stopped?)");
  return 1;
}
