/**
 * `hookd check`'s warnings about hooks that cannot start: a command whose
 * first word is an absolute path that is missing or not executable fails
 * every run with exit 126 or 127, which is easy to miss until the first
 * delivery. Warnings, not errors: the file may be deployed later, and the
 * daemon runs as another user than whoever runs `check`.
 *
 * @module
 */

import type { Config } from "./parse_config.ts";

/**
 * One warning per hook whose command starts with an absolute path that does
 * not exist or is not executable; commands that start otherwise (`sh ./x.sh`,
 * `FOO=1 /x`, a quoted path) are the shell's business.
 *
 * @returns lines such as `warning: HOOKD_GH_HOOK_PUSH runs /opt/deploy.sh, which does not exist`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hookPathWarnings } from "./hook_paths.ts";
 * import { parseConfig } from "./mod.ts";
 * const config = parseConfig({
 *   HOOKD_ENDPOINTS: "gh",
 *   HOOKD_GH_PROVIDER: "github",
 *   HOOKD_GH_SECRET: "a-long-random-secret",
 *   HOOKD_GH_HOOK_PUSH: "/nonexistent/deploy.sh --now",
 * });
 * assert.equal((await hookPathWarnings(config))[0],
 *   "warning: HOOKD_GH_HOOK_PUSH runs /nonexistent/deploy.sh, which does not exist");
 * ```
 */
export async function hookPathWarnings(config: Pick<Config, "endpoints">): Promise<string[]> {
  const warnings: string[] = [];
  for (const endpoint of config.endpoints.values()) {
    for (const [key, command] of endpoint.hooks) {
      const path = absoluteProgram(command);
      if (path === undefined) continue;
      const problem = await programProblem(path);
      if (problem) {
        warnings.push(`warning: ${endpoint.prefix}HOOK_${key} runs ${path}, which ${problem}`);
      }
    }
  }
  return warnings;
}

/** The command's first word when it is a plain absolute path the shell runs as is. */
function absoluteProgram(command: string): string | undefined {
  const first = command.trim().split(/\s+/)[0];
  return /^\/[^\s'"`$\\;&|<>(){}*?[\]~=#]*$/.test(first) ? first : undefined;
}

async function programProblem(path: string): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return "does not exist";
    }
    // No permission to look: the daemon's user may have it.
    return undefined;
  }
  if (!info.isFile) return "is not executable";
  // Without Unix modes (Windows) there is nothing to tell.
  if (info.mode !== null && (info.mode & 0o111) === 0) return "is not executable";
  return undefined;
}
