/**
 * A configuration mistake, reported the way `hookd check` and `hookd serve`
 * print it: one sentence per problem, each naming its variable and the fix.
 *
 * @module
 */

/** The configuration is wrong; `problems` holds one line per mistake. */
export class ConfigError extends Error {
  /** One sentence per problem, each naming its variable and the fix. */
  readonly problems: string[];

  /** @param problems one sentence per problem */
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * What to tell the admin about an error: each problem of a
 * {@linkcode ConfigError}, or the error's message.
 *
 * @returns one line per problem
 */
export function problemsOf(error: unknown): string[] {
  return error instanceof ConfigError
    ? error.problems
    : [error instanceof Error ? error.message : String(error)];
}
