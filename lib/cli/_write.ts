/**
 * Writing to the admin's terminal: each piece whole, before the next, and
 * text from outside made harmless. Private to `lib/cli/`.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * A writer for `Deno.stdout` or `Deno.stderr`.
 *
 * @returns a function that writes all of a text and resolves once it is written
 */
export function writeTo(stream: typeof Deno.stdout): (text: string) => Promise<void> {
  return async (text) => {
    const bytes = encoder.encode(text);
    for (let at = 0; at < bytes.length;) at += await stream.write(bytes.subarray(at));
  };
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// deno-lint-ignore no-control-regex
const CONTROL_AND_LINES = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Bodies, headers, hook output and event names come from outside: control
 * characters become `\xNN` escapes so that none can drive the terminal.
 *
 * @param options `lines: false` escapes tabs and newlines too (one-line output)
 * @returns the text, safe to print
 */
export function printable(text: string, options: { lines?: boolean } = {}): string {
  return text.replace(
    options.lines === false ? CONTROL_AND_LINES : CONTROL,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
