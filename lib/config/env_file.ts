/**
 * Read the env file: `KEY=value` lines parsed by dotenv (quotes, comments,
 * `export`), merged over the process environment.
 *
 * @module
 */

import { parse } from "dotenv";

/**
 * The variables the daemon runs with: the process environment, with the
 * env file's variables on top when a path is given.
 *
 * @param path the env file, or `undefined` for the process environment only
 * @param processEnv the process environment
 * @returns the merged variables
 * @throws {Error} naming the file when it cannot be read
 */
export async function loadEnv(
  path: string | undefined,
  processEnv: Record<string, string>,
): Promise<Record<string, string>> {
  if (path === undefined) return { ...processEnv };
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `Cannot read the env file ${path}: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  return { ...processEnv, ...parse(text) };
}
