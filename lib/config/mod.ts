/**
 * Configuration, the folder's face: what the admin writes and how it is
 * read, checked and described. A foundation: nothing here imports the
 * layers above, the store or the log, so `hookd check` stays pure.
 * (`lib/verify/` reads durations from `duration.ts` directly: this face
 * imports verify.)
 *
 * @module
 */

export {
  type Config,
  type EndpointConfig,
  endpointPrefix,
  GLOBAL_SETTINGS,
  parseConfig,
  pickHook,
} from "./parse_config.ts";
export type { ConfigSources } from "./secret_files.ts";
export { eventKey } from "./event_keys.ts";
export { ConfigError, problemsOf } from "./config_error.ts";
export { loadConfig, loadEnv } from "./env_file.ts";
export { describeConfig } from "./describe.ts";
export { hookPathWarnings } from "./hook_paths.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { checkNonNegative, MAX_TIMER_MS } from "./limits.ts";
export { isLoopback, type Listen, type UnixListen } from "./listen.ts";
export {
  type AddressList,
  networkAddress,
  parseAddress,
  parseAddressList,
} from "./address_list.ts";
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
