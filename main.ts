/**
 * hookd's entry point: parse the command line, load the configuration and
 * hand it to the command. Only wiring: serving, reloading and stopping live
 * in `lib/daemon.ts`, everything else in `lib/`. Each command imports what it
 * uses when it runs (`hookd check` never loads the daemon, `hookd serve`
 * never the command line's store reports), which keeps start-up short.
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { parseCommandLine, runCommand, USAGE } from "./lib/cli/mod.ts";
import { describeConfig, hookPathWarnings, loadConfig, problemsOf } from "./lib/config/mod.ts";

/**
 * Run hookd with the given arguments.
 *
 * @param args the arguments after the program name
 * @returns the exit code
 */
export async function main(args: string[]): Promise<number> {
  try {
    const cli = parseCommandLine(args);
    if (cli.command === "help") {
      console.log(USAGE);
      return 0;
    }
    if (cli.command === "version") {
      console.log(`hookd ${denoJson.version}`);
      return 0;
    }
    const { config, env } = await loadConfig(cli.envFile);
    switch (cli.command) {
      case "check": {
        const [{ buildEndpoints }, { spawnProblem }] = await Promise.all([
          import("./lib/endpoints.ts"),
          import("./lib/dispatch/mod.ts"),
        ]);
        await buildEndpoints(config);
        console.log(describeConfig(config));
        for (const warning of await hookPathWarnings(config)) console.error(warning);
        if (spawnProblem() !== null) {
          console.error(`hookd: ${spawnProblem()}`);
          return 1;
        }
        return 0;
      }
      case "serve": {
        const { serve } = await import("./lib/daemon.ts");
        return await serve(config, { env, envFile: cli.envFile, version: denoJson.version });
      }
      default: {
        // show --follow words the run's last line as the daemon does: one endLine for stream and CLI.
        const follow = cli.command === "show" && cli.follow;
        const endLine = follow ? (await import("./lib/http/mod.ts")).endLine : undefined;
        return await runCommand(cli, config, { endLine });
      }
    }
  } catch (error) {
    for (const problem of problemsOf(error)) console.error(`hookd: ${problem}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
