/**
 * Read the env file (dotenv syntax, parsed by `node:util`'s `parseEnv`),
 * checked for its mode and merged over the process environment; then the
 * secret files it names, and the configuration parsed from it all.
 *
 * @module
 */

import { parseEnv } from "node:util";
import { checkEnvFileMode } from "./env_file_mode.ts";
import { ConfigError } from "./config_error.ts";
import { readSecretFiles } from "./secret_files.ts";
import { type Config, parseConfig } from "./parse_config.ts";

/**
 * The variables the daemon runs with: the process environment, with the
 * env file's variables on top when a path is given.
 *
 * @param path the env file, or `undefined` for the process environment only
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
  // parseEnv types its values as possibly undefined; every key it returns has a string.
  return { ...processEnv, ...parseEnv(text) as Record<string, string> };
}

/** What {@linkcode loadConfig} read: the configuration and the variables it came from. */
export interface LoadedConfig {
  /** The resolved configuration. */
  config: Config;
  /** The process environment with the env file on top (hooks may copy from it; no secret file is in it). */
  env: Record<string, string>;
}

/**
 * Read the configuration the way every command does, at start-up and on
 * SIGHUP: the env file (refused when others may read it or its group write
 * it) over the process environment, the secret files, then the pure parser.
 *
 * @param envFile the `--env-file` path, or `undefined` for the process environment only
 * @returns the configuration and the merged variables
 * @throws {ConfigError} naming each variable or file at fault and the fix
 * @throws {Error} naming the env file when it cannot be read
 */
export async function loadConfig(envFile: string | undefined): Promise<LoadedConfig> {
  const problem = envFile === undefined ? undefined : await checkEnvFileMode(envFile);
  if (problem) throw new ConfigError([problem]);
  const processEnv = Deno.env.toObject();
  const fromFile = envFile === undefined ? {} : await loadEnv(envFile, {});
  const env = { ...processEnv, ...fromFile };
  const secretFiles = await readSecretFiles(env, env.CREDENTIALS_DIRECTORY);
  const config = parseConfig(env, { secretFiles, envFileKeys: new Set(Object.keys(fromFile)) });
  return { config, env };
}
