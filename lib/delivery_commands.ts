/**
 * `hookd deliveries`, `hookd show` and `hookd replay`: thin commands over
 * the store, safe to run while the daemon runs (SQLite in WAL mode; the
 * daemon polls for re-queued work every second).
 *
 * @module
 */

import type { CommandLine } from "./cli.ts";
import type { Config } from "./config.ts";
import { storePath } from "./daemon.ts";
import {
  deliveryToJson,
  filterFromFlags,
  formatDeliveryDetail,
  formatDeliveryList,
  formatRequeueResult,
} from "./deliveries_cli.ts";
import { openStore } from "./store.ts";

/**
 * Run one of the delivery commands.
 *
 * @param cli the parsed command line (`deliveries`, `show` or `replay`)
 * @param config the configuration (for the state directory)
 * @returns the text to print and the exit code
 * @throws {RangeError} for a flag with a wrong value
 * @throws {StoreUnavailableError} when the store cannot be opened
 */
export function runDeliveryCommand(
  cli: CommandLine,
  config: Config,
): { output: string; code: number } {
  const readOnly = cli.command !== "replay";
  using store = openStore(storePath(config.stateDir), { readOnly });
  const filter = filterFromFlags(cli, Date.now());
  switch (cli.command) {
    case "deliveries": {
      const list = store.list(filter);
      return {
        output: cli.json ? list.map((d) => JSON.stringify(d)).join("\n") : formatDeliveryList(list),
        code: 0,
      };
    }
    case "show": {
      const detail = store.get(cli.args[0]);
      if (!detail) return { output: `hookd: no delivery ${cli.args[0]}`, code: 1 };
      return {
        output: cli.json
          ? JSON.stringify(deliveryToJson(detail), null, 2)
          : formatDeliveryDetail(detail),
        code: 0,
      };
    }
    case "replay": {
      if (cli.args.length === 0 && !cli.state && !cli.since && !cli.endpoint) {
        return {
          output: "hookd: replay needs delivery ids, or --state/--since/--endpoint to select them",
          code: 2,
        };
      }
      const result = cli.args.length > 0 ? store.requeue(cli.args) : store.requeueMatching(filter);
      return {
        output: formatRequeueResult(result),
        code: result.skipped.length > 0 && result.requeued.length === 0 ? 1 : 0,
      };
    }
    default:
      throw new RangeError(`Not a delivery command: ${cli.command}`);
  }
}
