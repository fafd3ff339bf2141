/**
 * Configuration, the folder's face: what the rest of lib/ (and `main.ts`)
 * imports from `lib/config/`.
 *
 * The folder holds what the admin writes and how it is read: the env file
 * and its mode, durations, address lists, rate limits, filters and payload
 * fields, secret strength, the limits every factory checks its options
 * against, and the description `hookd check` prints. It is a foundation:
 * nothing here imports `lib/http/`, `lib/dispatch/`, `lib/cli/`,
 * `lib/store/`, `lib/log/` or `lib/daemon.ts`. (`lib/verify/` reads
 * durations from `duration.ts` directly: this face imports verify.)
 *
 * @module
 */

export {
  type Config,
  type ConfigSources,
  type EndpointConfig,
  endpointPrefix,
  eventKey,
  GLOBAL_SETTINGS,
  parseConfig,
  pickHook,
} from "./parse_config.ts";
export { ConfigError, problemsOf } from "./config_error.ts";
export { loadConfig, loadEnv } from "./env_file.ts";
export { describeConfig } from "./describe.ts";
export { hookPathWarnings } from "./hook_paths.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { checkNonNegative, MAX_TIMER_MS } from "./limits.ts";
export { isLoopback, type Listen, type UnixListen } from "./listen.ts";
export { type AddressList, parseAddress, parseAddressList } from "./address_list.ts";
export type { RateLimitSpec } from "./rate_limit_spec.ts";
export { maskStoreUrl } from "./store_setting.ts";
export { eventNameProblem } from "./event_name.ts";
export { filterMiss, pickFilter } from "./filter.ts";
export {
  type FieldPath,
  type FieldSubject,
  fieldVariable,
  parseFieldPath,
  parsePayload,
  readField,
} from "./payload_field.ts";
