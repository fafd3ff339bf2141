/**
 * Helpers for the log tests: a temporary directory disposed after the test,
 * and readers for the JSON-lines files written into it.
 *
 * @module
 */

import assert from "node:assert/strict";

export interface TempDir extends AsyncDisposable {
  path: string;
}

/** A fresh temporary directory, removed with its contents on dispose. */
export async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "hookd_log_test_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

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
