/**
 * bench/results.md is written by more than one command (`deno task bench`,
 * `deno task bench --page`), each owning a section between HTML comment
 * markers: a command replaces its own section and leaves the rest of the
 * file (the introduction, other sections, the history of earlier runs) as
 * it is.
 *
 * @module
 */

/**
 * The markers of a named section.
 *
 * @param name e.g. `latest-run`
 * @returns the start and end comments
 */
export function markersOf(name: string): [string, string] {
  return [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
}

/**
 * Put a section into a results file: replace the one between its markers,
 * or, when the file has none, add it before `before` (a heading) or at the end.
 *
 * @param text the file's text
 * @param name the section's name
 * @param body the section's content, without markers
 * @param before where a new section goes, e.g. `## Runs of earlier sessions`
 * @returns the new text
 */
export function replaceSection(text: string, name: string, body: string, before?: string): string {
  const [startMarker, endMarker] = markersOf(name);
  const section = `${startMarker}\n\n${body.trim()}\n\n${endMarker}`;
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start !== -1 && end !== -1) {
    return text.slice(0, start) + section + text.slice(end + endMarker.length);
  }
  const at = before === undefined ? -1 : text.indexOf(before);
  if (at === -1) return `${text.trimEnd()}\n\n${section}\n`;
  return `${text.slice(0, at)}${section}\n\n${text.slice(at)}`;
}

/**
 * Write one section of a results file in place, then format the file as
 * `deno fmt` would (the repository's `deno fmt --check` covers markdown).
 *
 * @param path the results file; created with a title when missing
 * @param name the section's name, e.g. `latest-run`
 * @param body the section's content, without markers
 */
export async function writeSection(path: string, name: string, body: string): Promise<void> {
  const text = await Deno.readTextFile(path).catch(() => "# hookd benchmark results\n");
  await Deno.writeTextFile(path, replaceSection(text, name, body, "## Runs of earlier sessions"));
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", path],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => {});
}
