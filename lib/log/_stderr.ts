/**
 * The log's stderr output: text is queued and written at the next timer turn,
 * or at once past 64 KiB, so a burst of records is one write to journald
 * rather than a blocking write each. Writing never throws: losing a log line
 * beats crashing. Private to `lib/log/`.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Past this many queued characters the text is written at once. */
const FLUSH_CHARS = 64 * 1024;

let stderrPending = "";
let stderrTimer: ReturnType<typeof setTimeout> | undefined;
let stderrFlushedOnUnload = false;

/**
 * Queues text for stderr, written in order within a timer turn.
 *
 * @param text one or more whole lines, newline-ended
 */
export function writeStderr(text: string): void {
  stderrPending += text;
  if (stderrPending.length >= FLUSH_CHARS) {
    flushStderr();
  } else {
    stderrTimer ??= setTimeout(flushStderr, 0);
  }
}

/** Writes the queued stderr text now; never throws. */
export function flushStderr(): void {
  clearTimeout(stderrTimer);
  stderrTimer = undefined;
  if (stderrPending === "") return;
  let bytes = encoder.encode(stderrPending);
  stderrPending = "";
  try {
    while (bytes.length > 0) {
      bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
    }
  } catch {
    // stderr is gone (closed pipe); there is nowhere left to report to.
  }
}

/**
 * Makes `unload` write the queued stderr text, once per process. `Deno.exit()`
 * and a normal end fire `unload`; a signal does not.
 */
export function flushStderrOnUnload(): void {
  if (!stderrFlushedOnUnload) {
    globalThis.addEventListener("unload", flushStderr);
    stderrFlushedOnUnload = true;
  }
}
