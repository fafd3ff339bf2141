/**
 * `hookd check`'s report: the resolved endpoints and hooks, every secret
 * shown as `***` with where it came from (`env file`, `file /path`,
 * `credential github`).
 *
 * @module
 */

import { maskStoreUrl } from "./store_setting.ts";
import type { Config, EndpointConfig } from "./parse_config.ts";
import { formatDuration } from "./duration.ts";
import { credentialSuffixes } from "./secret_files.ts";
import { formatFilter } from "./filter.ts";
import { fieldVariable } from "./payload_field.ts";

/**
 * Describe a configuration for a person, hiding every secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./mod.ts";
 * import { describeConfig } from "./describe.ts";
 * const text = describeConfig(parseConfig({
 *   HOOKD_ENDPOINTS: "gh",
 *   HOOKD_GH_PROVIDER: "github",
 *   HOOKD_GH_SECRET: "do-not-print-me",
 * }));
 * assert.ok(!text.includes("do-not-print-me"));
 * ```
 */
export function describeConfig(config: Config): string {
  const lines = [
    `listen     ${describeListen(config.listen)}`,
    `max body   ${config.maxBodyBytes} bytes`,
    `log        ${config.log.file} (rotated at ${config.log.maxBytes} bytes, ${config.log.maxFiles} files)`,
    `state      ${config.stateDir}`,
    `store      ${
      config.store.kind === "postgres" ? maskStoreUrl(config.store.url) : "sqlite"
    } (instance ${config.instanceId}${config.runHooks ? "" : "; accepts only, runs no hook"})`,
    `sync       ${
      config.sync === "full"
        ? "full: a 2xx means fsync'd, it survives a power cut"
        : "normal: a 2xx survives a crash of hookd, not of the machine"
    }`,
    `hooks      at most ${config.maxConcurrentHooks} at once`,
    `queue      at most ${config.maxQueue} waiting; deliveries kept ${
      formatDuration(config.retentionMs)
    }`,
  ];
  if (config.adminToken !== undefined) {
    lines.push(`token      admin listener: ${shownSecret(config, "HOOKD_ADMIN_TOKEN")}`);
  }
  if (config.store.kind === "postgres" && config.store.password) {
    lines.push(`password   store: ${shownSecret(config, "PGPASSWORD")}`);
  }
  for (const endpoint of config.endpoints.values()) {
    lines.push(
      "",
      `endpoint ${endpoint.name}: POST /hooks/${endpoint.name}`,
      `  provider  ${endpoint.provider}`,
      `  secret    ${
        endpoint.secrets.length === 0
          ? "(none)"
          : endpoint.secrets.map((_, i) =>
            shownSecret(config, `${endpoint.prefix}${i === 0 ? "SECRET" : "SECRET_PREVIOUS"}`)
          ).join(" + previous ")
      }`,
    );
    for (const [key, value] of Object.entries(endpoint.settings)) {
      const shown = secretSettings(endpoint).includes(key)
        ? shownSecret(config, `${endpoint.prefix}${key}`)
        : value;
      if (value !== "") lines.push(`  ${key.toLowerCase().padEnd(9)} ${shown}`);
    }
    lines.push(`  timeout   ${formatDuration(endpoint.timeoutMs)}`);
    const retries = endpoint.retries === 0
      ? "no retries"
      : `${endpoint.retries} retries, the first after ${formatDuration(endpoint.retryBackoffMs)}`;
    lines.push(
      `  runs      ${endpoint.concurrency} at once, ${retries}, on busy: ${endpoint.onBusy}, respond: ${endpoint.respond}`,
    );
    if (!endpoint.dedupeBody) {
      lines.push("  dedupe    by delivery id only: a repeated signed body runs again");
    }
    if (endpoint.hookEnv.length > 0) lines.push(`  hook env  ${endpoint.hookEnv.join(", ")}`);
    if (endpoint.hookFields.length > 0) {
      lines.push(
        `  fields    ${
          endpoint.hookFields.map((f) => `${f.text} as ${fieldVariable(f)}`).join(", ")
        }`,
      );
    }
    lines.push(`  answers   ${endpoint.successStatus} when accepted, 200 for a duplicate`);
    if (endpoint.hooks.size === 0) {
      lines.push("  hooks     (none: every delivery is logged as ignored)");
    }
    for (const [key, command] of endpoint.hooks) {
      lines.push(`  ${`${endpoint.prefix}HOOK_${key}`} = ${command}`);
    }
    for (const [key, filter] of endpoint.filters) {
      lines.push(`  ${endpoint.prefix}MATCH_${key} = ${formatFilter(filter)}`);
    }
  }
  return maskSecrets(lines.join("\n"), config);
}

/** `***` and where the secret came from, never its value. */
function shownSecret(config: Config, variable: string): string {
  const origin = config.secretOrigins.get(variable);
  return origin === undefined ? "***" : `*** from ${origin}`;
}

/**
 * A secret can still turn up where a value is shown (a hook command that
 * spells it out, or a variable read by two overlapping endpoints): mask
 * every occurrence. Very short secrets are left alone, or every letter
 * they share with the text would be masked.
 */
function maskSecrets(text: string, config: Config): string {
  const secrets = [...config.endpoints.values()]
    .flatMap((endpoint) => [
      ...endpoint.secrets,
      ...secretSettings(endpoint).map((key) => endpoint.settings[key]),
    ])
    .concat(
      config.adminToken ?? [],
      config.store.kind === "postgres" ? config.store.password ?? [] : [],
    )
    .filter((secret) => secret.length >= 4)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((masked, secret) => masked.replaceAll(secret, "***"), text);
}

/** The provider settings of an endpoint that hold credentials (a verify token). */
function secretSettings(endpoint: EndpointConfig): string[] {
  return credentialSuffixes(endpoint.provider).filter((key) => key in endpoint.settings);
}

function describeListen(listen: Config["listen"]): string {
  if ("path" in listen) {
    const mode = listen.mode.toString(8).padStart(4, "0");
    return `unix:${listen.path} (mode ${mode}${listen.group ? `, group ${listen.group}` : ""})`;
  }
  const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
  return `http://${host}:${listen.port}`;
}
