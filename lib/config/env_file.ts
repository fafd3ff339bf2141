/**
 * Read the env file: `KEY=value` lines parsed by dotenv (quotes, comments,
 * `export`), checked for its mode, merged over the process environment.
 *
 * @module
 */

import { parse } from "dotenv";
import { checkEnvFileMode } from "./env_file_mode.ts";
import { ConfigError } from "./config_error.ts";

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

/**
 * The variables `hookd` runs with: the env file (refused when its mode lets
 * others read it or its group write it) over the process environment.
 *
 * @param envFile the `--env-file` path, or `undefined` for the process environment only
 * @returns the merged variables
 * @throws {ConfigError} naming the file and the `chmod` that fixes its mode
 * @throws {Error} naming the file when it cannot be read
 */
export async function loadConfigEnv(
  envFile: string | undefined,
): Promise<Record<string, string>> {
  const problem = envFile === undefined ? undefined : await checkEnvFileMode(envFile);
  if (problem) throw new ConfigError([problem]);
  return await loadEnv(envFile, Deno.env.toObject());
}
