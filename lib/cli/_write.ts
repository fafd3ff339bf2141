/**
 * Writing to a standard stream from a command that streams (`tail`,
 * `show --follow`): each piece whole, before the next. Private to `lib/cli/`.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * A writer for `Deno.stdout` or `Deno.stderr`.
 *
 * @param stream the stream
 * @returns a function that writes all of a text and resolves once it is written
 */
export function writeTo(stream: typeof Deno.stdout): (text: string) => Promise<void> {
  return async (text) => {
    const bytes = encoder.encode(text);
    for (let at = 0; at < bytes.length;) at += await stream.write(bytes.subarray(at));
  };
}
