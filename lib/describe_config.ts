/**
 * `hookd check`'s report: the resolved endpoints and hooks, every secret
 * shown as `***`.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { formatDuration } from "./duration.ts";

/**
 * Describe a configuration for a person, hiding every secret.
 *
 * @param config the resolved configuration
 * @returns lines of text
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { describeConfig } from "./describe_config.ts";
 * const text = describeConfig(parseConfig({
 *   HOOKD_ENDPOINTS: "gh",
 *   HOOKD_GH_PROVIDER: "github",
 *   HOOKD_GH_SECRET: "do-not-print-me",
 * }));
 * console.assert(!text.includes("do-not-print-me"));
 * ```
 */
export function describeConfig(config: Config): string {
  const lines = [
    `listen     http://${config.listen.hostname}:${config.listen.port}`,
    `max body   ${config.maxBodyBytes} bytes`,
    `log        ${config.log.file} (rotated at ${config.log.maxBytes} bytes, ${config.log.maxFiles} files)`,
    `state      ${config.stateDir}`,
    `hooks      at most ${config.maxConcurrentHooks} at once`,
  ];
  for (const endpoint of config.endpoints.values()) {
    lines.push(
      "",
      `endpoint ${endpoint.name}: POST /hooks/${endpoint.name}`,
      `  provider  ${endpoint.provider}`,
      `  secret    ${
        endpoint.secrets.length === 0
          ? "(none)"
          : endpoint.secrets.map(() => "***").join(" + previous ")
      }`,
    );
    for (const [key, value] of Object.entries(endpoint.settings)) {
      if (value !== "") lines.push(`  ${key.toLowerCase().padEnd(9)} ${value}`);
    }
    lines.push(`  timeout   ${formatDuration(endpoint.timeoutMs)}`);
    if (endpoint.hookEnv.length > 0) lines.push(`  hook env  ${endpoint.hookEnv.join(", ")}`);
    if (endpoint.hooks.size === 0) {
      lines.push("  hooks     (none: every delivery is logged as ignored)");
    }
    for (const [key, command] of endpoint.hooks) {
      lines.push(`  ${`${endpoint.prefix}HOOK_${key}`} = ${command}`);
    }
  }
  return lines.join("\n");
}
