/**
 * The configuration contract: every `HOOKD_*` variable, parsed and checked
 * in one pure function so that `hookd check` and `hookd serve` agree and
 * every problem is reported at once, each naming its variable and the fix.
 *
 * @module
 */

// Its ES module build: the package's main file is CommonJS, whose loader costs start-up time and memory.
import { closest, distance } from "fastest-levenshtein/esm/mod.js";
import { ConfigError } from "./config_error.ts";
import { type Listen, parseHostNames, parseListen, parsePublicListen } from "./listen.ts";
import { type AddressList, parseAddressList } from "./address_list.ts";
import { durationProblem, formatDuration, parseDuration } from "./duration.ts";
import { DEFAULT_RETENTION_MS } from "./limits.ts";
import {
  countProblem,
  globalDuration,
  positiveInt,
  positiveProblem,
  timeoutProblem,
} from "./_numbers.ts";
import { eventKey, eventKeys } from "./event_keys.ts";
import { type Filter, readFilters } from "./filter.ts";
import { type FieldPath, parseFieldList } from "./payload_field.ts";
import { parseRateLimit, type RateLimitSpec } from "./rate_limit_spec.ts";
import { parseStoreSettings, STORE_SETTINGS, type StoreSettings } from "./store_setting.ts";
import { adminAccessProblems, weakSecretProblems } from "./secret_strength.ts";
import * as secretFiles from "./secret_files.ts";
import { type EndpointSettings, PROVIDERS, type SettingSpec } from "../verify/mod.ts";

type ConfigSources = secretFiles.ConfigSources;

/** One endpoint, resolved. */
export interface EndpointConfig extends EndpointSettings {
  /** Hook commands by key (`PUSH`, `PULL_REQUEST_OPENED`, `DEFAULT`). */
  hooks: Map<string, string>;
  /** A hook's time limit in milliseconds. */
  timeoutMs: number;
  /** Extra variables passed to this endpoint's hooks. */
  hookEnv: string[];
  /** Hooks of this endpoint running at once, at most. */
  concurrency: number;
  /** Extra attempts after a failed or timed-out run. */
  retries: number;
  /** The first retry's delay; each further one doubles. */
  retryBackoffMs: number;
  /** `queue`: every delivery runs; `latest`: only the newest waiting one. */
  onBusy: "queue" | "latest";
  /** `accepted`: answer 202 at once; `output`: wait for the hook. */
  respond: "accepted" | "output" | "stream";
  /** Only these client addresses may deliver; `undefined`: anyone. */
  allowFrom?: AddressList;
  /**
   * A signed body accepted once is a duplicate when it comes again, for
   * senders that sign neither a timestamp nor the event (see `replayKey`).
   */
  dedupeBody: boolean;
  /** Filters by event key (`PUSH`, `DEFAULT`), from `_MATCH_<EVENT>`. */
  filters: Map<string, Filter>;
  /** Payload fields handed to hooks as `HOOKD_FIELD_*`, from `_HOOK_FIELDS`. */
  hookFields: FieldPath[];
  /** The status of an accepted delivery's answer (duplicates get 200). */
  successStatus: 200 | 202 | 204;
}

/** The whole resolved configuration (with where deliveries are stored, see `store_setting.ts`). */
export interface Config extends StoreSettings {
  /** Where the public listener binds. */
  listen: Listen;
  /** The largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** The JSON-lines log file and its rotation. */
  log: { file: string; maxBytes: number; maxFiles: number };
  /** Where state (payload files, later the store) lives. */
  stateDir: string;
  /** How many hooks may run at once. */
  maxConcurrentHooks: number;
  /** Deliveries waiting before new ones get 429. */
  maxQueue: number;
  /** How long finished deliveries are kept, in milliseconds. */
  retentionMs: number;
  /** What a 2xx survives: `full` a power cut (fsync'd), `normal` a crash of hookd only. */
  sync: "full" | "normal";
  /** How long running hooks may go on after SIGTERM, in milliseconds. */
  shutdownTimeoutMs: number;
  /** Certificate and key files (PEM) for HTTPS on the public listener. */
  tls?: { certFile: string; keyFile: string };
  /** The admin listener (`/healthz`, `/metrics`, the deliveries page); `undefined`: off. */
  adminListen?: { hostname: string; port: number };
  /** The admin listener's token (`HOOKD_ADMIN_TOKEN`); required when it is not on loopback. */
  adminToken?: string;
  /** More `Host` names the admin listener answers to (`HOOKD_ADMIN_HOSTS`), lower-case. */
  adminHosts: readonly string[];
  /** Proxies whose `X-Forwarded-For` is believed. */
  trustedProxies?: AddressList;
  /** Requests per client address; `undefined`: no limit. */
  rateLimit?: RateLimitSpec;
  /** Endpoints by name, in the order `HOOKD_ENDPOINTS` lists them. */
  endpoints: Map<string, EndpointConfig>;
  /**
   * Where each secret that is set came from, by its variable
   * (`HOOKD_GITHUB_SECRET`, `HOOKD_ADMIN_TOKEN`, `PGPASSWORD`): `env file`,
   * `environment`, `file /etc/hookd/github.secret` or `credential github`.
   * Never the value.
   */
  secretOrigins: Map<string, string>;
}

interface GlobalSpec {
  help: string;
  /** Unset: empty. A function for a default that depends on systemd's directories. */
  default?: string | ((env: Record<string, string>) => string);
}

/** The global variables, with their defaults, for `hookd check` and README. */
export const GLOBAL_SETTINGS: Record<string, GlobalSpec> = {
  HOOKD_ENDPOINTS: { help: "comma-separated endpoint names" },
  HOOKD_LISTEN: {
    help: "address:port of the public listener, or unix:/path/to.sock behind a reverse proxy",
    default: "127.0.0.1:9000",
  },
  HOOKD_LISTEN_MODE: { help: "the unix socket's permission bits", default: "0660" },
  HOOKD_LISTEN_GROUP: { help: "the group the unix socket is given" },
  HOOKD_MAX_BODY_BYTES: { help: "largest body accepted", default: "1048576" },
  HOOKD_LOG_FILE: {
    help: "JSON-lines log file",
    default: (env) => `${env.LOGS_DIRECTORY || ".hookd"}/hookd.log`,
  },
  HOOKD_LOG_MAX_BYTES: { help: "rotate the log at this size", default: "10485760" },
  HOOKD_LOG_MAX_FILES: { help: "log files kept, current included", default: "5" },
  HOOKD_STATE_DIR: {
    help: "state directory",
    default: (env) => env.STATE_DIRECTORY || ".hookd/state",
  },
  HOOKD_MAX_CONCURRENT_HOOKS: { help: "hooks running at once", default: "4" },
  HOOKD_HOOK_ENV: { help: "extra variables passed to every hook" },
  HOOKD_MAX_QUEUE: { help: "deliveries waiting before 429", default: "10000" },
  HOOKD_RETENTION: {
    help: "how long deliveries are kept",
    default: formatDuration(DEFAULT_RETENTION_MS),
  },
  HOOKD_SYNC: {
    help: "full: a 2xx survives a power cut (fsync); normal: a crash of hookd only",
    default: "full",
  },
  HOOKD_SHUTDOWN_TIMEOUT: {
    help: "how long running hooks may finish after SIGTERM",
    default: "300s",
  },
  HOOKD_TLS_CERT: { help: "PEM certificate file for HTTPS" },
  HOOKD_TLS_KEY: { help: "PEM private key file for HTTPS" },
  HOOKD_ADMIN_LISTEN: {
    help: "address:port of /healthz and /metrics, or off",
    default: "127.0.0.1:9001",
  },
  HOOKD_ADMIN_TOKEN: {
    help: "token for the admin listener (basic or bearer); required off loopback",
  },
  HOOKD_ADMIN_HOSTS: { help: "more Host names the admin listener answers to" },
  HOOKD_TRUSTED_PROXIES: {
    help: "addresses/CIDRs whose X-Forwarded-For is believed",
  },
  HOOKD_RATE_LIMIT: {
    help: "requests per client address, e.g. 60/m or 10/s burst=20; off",
    default: "off",
  },
  ...Object.fromEntries(
    // Their defaults are words for README (parseStoreSettings applies them).
    Object.entries(STORE_SETTINGS).map(([name, { help }]) => [name, { help }]),
  ),
  ...secretFiles.SECRET_FILE_SETTINGS,
};

/** Settings every endpoint reads besides its provider's own. */
const ENDPOINT_SETTINGS: Record<string, SettingSpec> = {
  PROVIDER: { help: `one of ${[...PROVIDERS.keys()].join(", ")}`, required: true },
  SECRET: { help: "the shared secret" },
  SECRET_PREVIOUS: { help: "the previous secret, accepted while rotating" },
  SECRET_FILE: { help: "a file (or a credential's name) holding SECRET, instead of the env file" },
  SECRET_PREVIOUS_FILE: { help: "a file (or a credential's name) holding SECRET_PREVIOUS" },
  TIMEOUT: { help: "a hook's time limit", default: "300s", validate: timeoutProblem },
  HOOK_ENV: { help: "extra variables passed to this endpoint's hooks" },
  CONCURRENCY: { help: "this endpoint's hooks running at once", validate: positiveProblem },
  RETRIES: { help: "extra attempts after a failure", default: "0", validate: countProblem },
  RETRY_BACKOFF: { help: "the first retry's delay", default: "10s", validate: durationProblem },
  ON_BUSY: { help: "what waits while a hook runs", default: "queue", choices: ["queue", "latest"] },
  RESPOND: {
    help: "answer at once, wait for the hook (output), or stream its output as it runs (stream)",
    default: "accepted",
    choices: ["accepted", "output", "stream"],
  },
  ALLOW_FROM: { help: "addresses/CIDRs allowed to deliver, comma-separated" },
  DEDUPE_BODY: {
    help:
      "a signed body seen before is a duplicate (false: identical bodies are separate deliveries, and a captured one replays)",
    default: "true",
    choices: ["true", "false"],
  },
  HOOK_FIELDS: { help: "payload fields passed to hooks as HOOKD_FIELD_*, comma-separated" },
  SUCCESS_STATUS: {
    help: "the status of an accepted delivery",
    default: "202",
    choices: ["200", "202", "204"],
  },
};

/** Endpoint names that would own a global variable's prefix. */
const RESERVED = new Set(["endpoints", "listen", "max", "log", "state", "hook"]);

/**
 * The variable prefix of an endpoint.
 *
 * @param name an endpoint name such as `my-gitea`
 * @returns e.g. `HOOKD_MY_GITEA_`
 */
export function endpointPrefix(name: string): string {
  return `HOOKD_${eventKey(name)}_`;
}

/**
 * Parse and check the configuration from environment variables: `HOOKD_*`,
 * plus systemd's `STATE_DIRECTORY` and `LOGS_DIRECTORY` for defaults and
 * `PGPASSWORD`. A `_FILE` variable's secret comes from `sources.secretFiles`.
 *
 * @param env the variables (process environment merged with the env file)
 * @param sources the secret files read and which variables the env file set
 * @throws {ConfigError} listing every problem found
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./mod.ts";
 * const config = parseConfig({
 *   HOOKD_ENDPOINTS: "github",
 *   HOOKD_GITHUB_PROVIDER: "github",
 *   HOOKD_GITHUB_SECRET: "a-long-random-secret",
 *   HOOKD_GITHUB_HOOK_PUSH: "/usr/local/bin/deploy",
 * });
 * assert.equal(config.endpoints.get("github")?.hooks.get("PUSH"), "/usr/local/bin/deploy");
 * ```
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  sources: ConfigSources = {},
): Config {
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) vars[key] = value;
  }
  const problems: string[] = [];
  const fileVariables = secretFiles.secretFileVariables(vars);
  const fromFiles = secretFiles.applySecretFiles(vars, fileVariables, sources, problems);
  const known = new Set<string>(Object.keys(GLOBAL_SETTINGS));
  const get = (name: string) => {
    const fallback = GLOBAL_SETTINGS[name].default ?? "";
    return vars[name] ?? (typeof fallback === "string" ? fallback : fallback(vars));
  };

  const names = splitList(get("HOOKD_ENDPOINTS"));
  if (names.length === 0) {
    problems.push(
      "HOOKD_ENDPOINTS is not set: list the endpoint names, e.g. HOOKD_ENDPOINTS=github",
    );
  }
  const endpoints = new Map<string, EndpointConfig>();
  const seen = new Set<string>();
  for (const name of names) {
    if (!/^[a-z0-9-]+$/.test(name)) {
      problems.push(
        `HOOKD_ENDPOINTS has an invalid name "${name}": use lower-case letters, digits and -`,
      );
      continue;
    }
    if (RESERVED.has(name)) {
      problems.push(
        `HOOKD_ENDPOINTS has the reserved name "${name}": its variables would clash with HOOKD_${name.toUpperCase()}_*; pick another name`,
      );
      continue;
    }
    const prefix = endpointPrefix(name);
    if (seen.has(name)) {
      problems.push(`HOOKD_ENDPOINTS lists "${name}" twice: remove one`);
      continue;
    }
    const overlap = [...seen].find((other) => {
      const otherPrefix = endpointPrefix(other);
      return otherPrefix.startsWith(prefix) || prefix.startsWith(otherPrefix);
    });
    seen.add(name);
    if (overlap) {
      problems.push(
        `HOOKD_ENDPOINTS has "${overlap}" and "${name}", whose variables overlap (${
          endpointPrefix(overlap.length < name.length ? overlap : name)
        }…): rename one`,
      );
      continue;
    }
    const endpoint = parseEndpoint(name, vars, problems, known);
    if (endpoint) endpoints.set(name, endpoint);
  }

  for (const key of Object.keys(vars)) {
    // A secret read from a file is judged by its _FILE variable's name.
    if (fromFiles.has(key) || !key.startsWith("HOOKD_") || known.has(key)) continue;
    if (isHookVariable(key, endpoints)) continue;
    const target = fileVariables.get(key);
    if (target !== undefined && known.has(target)) continue;
    const suggestion = closest(key, [...known]);
    problems.push(
      suggestion && distance(key, suggestion) <= 3
        ? `${key} is not a hookd variable: did you mean ${suggestion}?`
        : `${key} is not a hookd variable: remove it, or list its endpoint in HOOKD_ENDPOINTS`,
    );
  }

  const config: Config = {
    listen: parsePublicListen(get, problems),
    maxBodyBytes: positiveInt("HOOKD_MAX_BODY_BYTES", get("HOOKD_MAX_BODY_BYTES"), problems),
    log: {
      file: get("HOOKD_LOG_FILE"),
      maxBytes: positiveInt("HOOKD_LOG_MAX_BYTES", get("HOOKD_LOG_MAX_BYTES"), problems),
      maxFiles: positiveInt("HOOKD_LOG_MAX_FILES", get("HOOKD_LOG_MAX_FILES"), problems),
    },
    stateDir: get("HOOKD_STATE_DIR"),
    maxQueue: positiveInt("HOOKD_MAX_QUEUE", get("HOOKD_MAX_QUEUE"), problems),
    retentionMs: globalDuration("HOOKD_RETENTION", get("HOOKD_RETENTION"), problems),
    sync: parseSync(get("HOOKD_SYNC"), problems),
    shutdownTimeoutMs: globalDuration(
      "HOOKD_SHUTDOWN_TIMEOUT",
      get("HOOKD_SHUTDOWN_TIMEOUT"),
      problems,
    ),
    tls: parseTls(get("HOOKD_TLS_CERT"), get("HOOKD_TLS_KEY"), problems),
    adminListen: get("HOOKD_ADMIN_LISTEN").trim() === "off"
      ? undefined
      : parseListen("HOOKD_ADMIN_LISTEN", get("HOOKD_ADMIN_LISTEN"), problems),
    adminToken: get("HOOKD_ADMIN_TOKEN") || undefined,
    adminHosts: parseHostNames("HOOKD_ADMIN_HOSTS", get("HOOKD_ADMIN_HOSTS"), problems),
    trustedProxies: get("HOOKD_TRUSTED_PROXIES").trim() === "" ? undefined : attempt(
      () => parseAddressList(get("HOOKD_TRUSTED_PROXIES"), "HOOKD_TRUSTED_PROXIES", { unix: true }),
      problems,
    ),
    rateLimit: attempt(() => parseRateLimit(get("HOOKD_RATE_LIMIT"), "HOOKD_RATE_LIMIT"), problems),
    maxConcurrentHooks: positiveInt(
      "HOOKD_MAX_CONCURRENT_HOOKS",
      get("HOOKD_MAX_CONCURRENT_HOOKS"),
      problems,
    ),
    endpoints,
    secretOrigins: new Map(),
    ...parseStoreSettings(vars, get("HOOKD_LISTEN"), problems),
  };
  const globalEnv = hookEnvList("HOOKD_HOOK_ENV", get("HOOKD_HOOK_ENV"), problems);
  for (const endpoint of endpoints.values()) {
    endpoint.hookEnv.unshift(...globalEnv);
    endpoint.concurrency ||= config.maxConcurrentHooks;
  }
  config.secretOrigins = secretFiles.finishSecrets(config, vars, { fromFiles, sources, problems });
  problems.push(...weakSecretProblems(config));
  problems.push(...adminAccessProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function parseEndpoint(
  name: string,
  vars: Record<string, string>,
  problems: string[],
  known: Set<string>,
): EndpointConfig | undefined {
  const prefix = endpointPrefix(name);
  if (!Object.keys(vars).some((key) => key.startsWith(prefix))) {
    problems.push(
      `HOOKD_ENDPOINTS lists "${name}" but no ${prefix}* variable is set: set ${prefix}PROVIDER and ${prefix}SECRET`,
    );
    return undefined;
  }
  const before = problems.length;
  const common = readSettings(prefix, ENDPOINT_SETTINGS, vars, problems, known);
  const providerName = common.PROVIDER;
  const provider = providerName ? PROVIDERS.get(providerName) : undefined;
  if (providerName && !provider) {
    problems.push(
      `${prefix}PROVIDER is "${providerName}", which hookd does not know: use one of ${
        [...PROVIDERS.keys()].join(", ")
      }`,
    );
  }
  const settings = provider ? readSettings(prefix, provider.settings, vars, problems, known) : {};
  const secrets = [common.SECRET, common.SECRET_PREVIOUS].filter((s) => s !== undefined);
  if (provider?.secret === "required" && common.SECRET === undefined) {
    problems.push(
      `${prefix}SECRET is not set: the ${provider.name} provider needs the secret the sender signs with (or ${prefix}SECRET_FILE, a file or credential holding it)`,
    );
  }
  if (provider?.secret === "none" && secrets.length > 0) {
    problems.push(`${prefix}SECRET is set but the ${provider.name} provider uses none: remove it`);
  }
  for (const suffix of ["SECRET", "SECRET_PREVIOUS"]) {
    if (common[suffix]?.trim() === "") {
      problems.push(`${prefix}${suffix} is empty: set the secret, or remove the line`);
    }
  }
  const hooks = new Map<string, string>();
  for (const [key, value] of Object.entries(vars)) {
    if (!key.startsWith(`${prefix}HOOK_`) || /^(ENV|FIELDS)$/.test(key.slice(prefix.length + 5))) {
      continue;
    }
    const hookKey = key.slice(prefix.length + "HOOK_".length);
    known.add(key);
    if (!/^[A-Z0-9_]+$/.test(hookKey)) {
      problems.push(`${key} is not a valid hook name: use A-Z, 0-9 and _ after ${prefix}HOOK_`);
    } else if (value.trim() === "") {
      problems.push(`${key} is empty: give a shell command, or remove the line`);
    } else {
      hooks.set(hookKey, value);
    }
  }
  const filters = readFilters(prefix, vars, problems, known);
  const hookFields = parseFieldList(`${prefix}HOOK_FIELDS`, common.HOOK_FIELDS ?? "", problems);
  if (problems.length > before) return undefined;
  return {
    name,
    prefix,
    provider: providerName,
    secrets,
    settings,
    hooks,
    timeoutMs: parseDuration(common.TIMEOUT),
    hookEnv: hookEnvList(`${prefix}HOOK_ENV`, common.HOOK_ENV ?? "", problems),
    // 0 until parseConfig knows the global cap, the default.
    concurrency: common.CONCURRENCY ? Number(common.CONCURRENCY) : 0,
    retries: Number(common.RETRIES),
    retryBackoffMs: parseDuration(common.RETRY_BACKOFF),
    onBusy: common.ON_BUSY as "queue" | "latest",
    respond: common.RESPOND as "accepted" | "output" | "stream",
    dedupeBody: common.DEDUPE_BODY === "true",
    allowFrom: common.ALLOW_FROM === undefined
      ? undefined
      : attempt(() => parseAddressList(common.ALLOW_FROM, `${prefix}ALLOW_FROM`), problems),
    filters,
    hookFields,
    successStatus: Number(common.SUCCESS_STATUS) as 200 | 202 | 204,
  };
}

function readSettings(
  prefix: string,
  specs: Record<string, SettingSpec>,
  vars: Record<string, string>,
  problems: string[],
  known: Set<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [suffix, spec] of Object.entries(specs)) {
    const variable = `${prefix}${suffix}`;
    known.add(variable);
    const value = vars[variable] ?? spec.default;
    if (value === undefined) {
      if (spec.required) problems.push(`${variable} is not set: ${spec.help}`);
      continue;
    }
    if (spec.choices && !spec.choices.includes(value)) {
      problems.push(`${variable} is "${value}": use one of ${spec.choices.join(", ")}`);
      continue;
    }
    const problem = spec.validate?.(value);
    if (problem) {
      problems.push(`${variable} ${problem}`);
      continue;
    }
    out[suffix] = value;
  }
  return out;
}

function isHookVariable(key: string, endpoints: Map<string, EndpointConfig>): boolean {
  for (const endpoint of endpoints.values()) {
    if (key.startsWith(`${endpoint.prefix}HOOK_`)) return true;
  }
  return false;
}

function parseSync(value: string, problems: string[]): "full" | "normal" {
  const sync = value.trim();
  if (sync === "full" || sync === "normal") return sync;
  problems.push(
    `HOOKD_SYNC is "${value}": write full (a 2xx survives a power cut) or normal (it survives a crash of hookd, not of the machine)`,
  );
  return "full";
}

function parseTls(
  certFile: string,
  keyFile: string,
  problems: string[],
): Config["tls"] {
  if (certFile === "" && keyFile === "") return undefined;
  if (certFile === "" || keyFile === "") {
    problems.push(
      `${
        certFile === "" ? "HOOKD_TLS_CERT" : "HOOKD_TLS_KEY"
      } is not set: HTTPS needs both HOOKD_TLS_CERT and HOOKD_TLS_KEY`,
    );
    return undefined;
  }
  return { certFile, keyFile };
}

/** Run a parser that throws a message naming its variable; collect it as a problem. */
function attempt<T>(parse: () => T, problems: string[]): T | undefined {
  try {
    return parse();
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

function splitList(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function hookEnvList(variable: string, value: string, problems: string[]): string[] {
  const names = splitList(value);
  for (const name of names) {
    if (name.startsWith("HOOKD_")) {
      problems.push(
        `${variable} names ${name}: hookd's own variables hold secrets and never reach a hook`,
      );
    } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(`${variable} names "${name}", which is not a variable name`);
    }
  }
  return names.filter((name) => !name.startsWith("HOOKD_"));
}

/**
 * The hook for an event, from the most specific name to the least:
 * `pull_request.opened` tries `PULL_REQUEST_OPENED`, `PULL_REQUEST`, then
 * `DEFAULT`.
 *
 * @returns the variable and command, or `undefined` when none applies
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig, pickHook } from "./mod.ts";
 * const endpoint = parseConfig({
 *   HOOKD_ENDPOINTS: "gh",
 *   HOOKD_GH_PROVIDER: "github",
 *   HOOKD_GH_SECRET: "a-long-random-secret",
 *   HOOKD_GH_HOOK_PULL_REQUEST: "echo pr",
 * }).endpoints.get("gh")!;
 * assert.equal(pickHook(endpoint, "pull_request.opened")?.variable, "HOOKD_GH_HOOK_PULL_REQUEST");
 * ```
 */
export function pickHook(
  endpoint: Pick<EndpointConfig, "prefix" | "hooks">,
  event: string,
): { variable: string; command: string } | undefined {
  for (const key of eventKeys(event)) {
    const command = endpoint.hooks.get(key);
    if (command !== undefined) return { variable: `${endpoint.prefix}HOOK_${key}`, command };
  }
  return undefined;
}
