/**
 * Helpers for the log tests: readers for the JSON-lines files they write.
 *
 * @module
 */

import assert from "node:assert/strict";

/** The JSON objects of a JSON-lines file, after checking it ends with a newline. */
export async function readLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(file);
  assert.ok(text === "" || text.endsWith("\n"), "file ends with a newline");
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** The names in a directory, sorted. */
export async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}
