/**
 * Builds a hook's environment from an allow-list, so nothing is inherited by accident.
 *
 * @module
 */

/** What a hook is told about the delivery it runs for. */
export interface HookDelivery {
  /** The configured endpoint name that received the delivery. */
  endpoint: string;
  /** The sender's event type. */
  event: string;
  /** hookd's own id for this delivery. */
  deliveryId: string;
  /** The sender's delivery id, when it sent one. */
  sourceDeliveryId?: string;
  /** The request's Content-Type. */
  contentType: string;
}

/** Where the few inherited variables come from. */
export interface HookEnvOptions {
  /** The daemon's environment, read only for the names listed here and in `allow`. */
  processEnv: Record<string, string>;
  /** Extra names to copy from `processEnv`; names starting with `HOOKD_` are ignored. */
  allow?: readonly string[];
}

/** Copied whenever present: a shell without them behaves surprisingly. */
const BASE_NAMES = ["PATH", "HOME", "LANG"] as const;

const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * Build a hook's whole environment from an allow-list: never inherits.
 *
 * The result holds `PATH` (defaulting to `/usr/local/bin:/usr/bin:/bin`), `HOME` and `LANG`
 * when present, each allowed name present in `processEnv`, and the delivery variables
 * `HOOKD_ENDPOINT`, `HOOKD_EVENT`, `HOOKD_DELIVERY_ID`, `HOOKD_SOURCE_DELIVERY_ID` (empty when
 * unknown) and `HOOKD_CONTENT_TYPE`, which win over anything else. Allowed names starting with
 * `HOOKD_` are skipped because hookd's own configuration (secrets included) lives there.
 * `HOOKD_PAYLOAD_FILE` is not set here: the runner adds it once the file exists.
 *
 * @param delivery the delivery the hook runs for
 * @param options where inherited values come from and which extra names may pass
 * @returns a new object; neither argument is modified
 * @example
 * ```ts
 * import { buildHookEnv } from "./hook_env.ts";
 *
 * const env = buildHookEnv(
 *   { endpoint: "deploy", event: "push", deliveryId: "d-1", contentType: "application/json" },
 *   { processEnv: { PATH: "/bin", HOOKD_SECRET: "s3cret", TZ: "UTC" }, allow: ["TZ"] },
 * );
 * console.assert(env.TZ === "UTC" && !("HOOKD_SECRET" in env));
 * ```
 */
export function buildHookEnv(
  delivery: HookDelivery,
  options: HookEnvOptions,
): Record<string, string> {
  const { processEnv, allow = [] } = options;
  const env: Record<string, string> = {};
  const has = (name: string) => Object.hasOwn(processEnv, name);
  for (const name of BASE_NAMES) {
    if (has(name)) env[name] = processEnv[name];
  }
  env.PATH ??= DEFAULT_PATH;
  for (const name of allow) {
    if (!name.startsWith("HOOKD_") && has(name)) env[name] = processEnv[name];
  }
  env.HOOKD_ENDPOINT = delivery.endpoint;
  env.HOOKD_EVENT = delivery.event;
  env.HOOKD_DELIVERY_ID = delivery.deliveryId;
  env.HOOKD_SOURCE_DELIVERY_ID = delivery.sourceDeliveryId ?? "";
  env.HOOKD_CONTENT_TYPE = delivery.contentType;
  return env;
}
