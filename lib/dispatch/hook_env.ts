/**
 * A hook's environment: an allow-list, so nothing is inherited by accident,
 * plus the endpoint's `_HOOK_FIELDS` as `HOOKD_FIELD_*` (values go in the
 * environment, never on a command line).
 *
 * @module
 */

import { type FieldPath, type FieldSubject, fieldVariable, readField } from "../config/mod.ts";

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
  /** Payload fields from {@linkcode payloadFieldEnv}: `HOOKD_FIELD_*` only, others are ignored. */
  fields?: Readonly<Record<string, string>>;
}

/** Copied whenever present: a shell without them behaves surprisingly. */
const BASE_NAMES = ["PATH", "HOME", "LANG"] as const;

const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * Build a hook's whole environment: `PATH` (default `/usr/local/bin:/usr/bin:/bin`),
 * `HOME` and `LANG` when present, the allowed names present in `processEnv`, and the
 * delivery's `HOOKD_*` variables, which win. Allowed names starting with `HOOKD_` are
 * skipped: hookd's own configuration, secrets included, lives there.
 *
 * @param delivery the delivery the hook runs for
 * @param options where inherited values come from and which extra names may pass
 * @returns a new object; neither argument is modified
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildHookEnv } from "./hook_env.ts";
 *
 * const env = buildHookEnv(
 *   { endpoint: "deploy", event: "push", deliveryId: "d-1", contentType: "application/json" },
 *   { processEnv: { PATH: "/bin", HOOKD_SECRET: "s3cret", TZ: "UTC" }, allow: ["TZ"] },
 * );
 * assert.equal(env.TZ, "UTC");
 * assert.ok(!("HOOKD_SECRET" in env));
 * ```
 */
export function buildHookEnv(
  delivery: HookDelivery,
  options: HookEnvOptions,
): Record<string, string> {
  const { processEnv, allow = [], fields = {} } = options;
  const env: Record<string, string> = {};
  const has = (name: string) => Object.hasOwn(processEnv, name);
  for (const name of BASE_NAMES) {
    if (has(name)) env[name] = processEnv[name];
  }
  env.PATH ??= DEFAULT_PATH;
  for (const name of allow) {
    if (!name.startsWith("HOOKD_") && has(name)) env[name] = processEnv[name];
  }
  for (const [name, value] of Object.entries(fields)) {
    if (name.startsWith("HOOKD_FIELD_")) env[name] = value;
  }
  env.HOOKD_ENDPOINT = delivery.endpoint;
  env.HOOKD_EVENT = delivery.event;
  env.HOOKD_DELIVERY_ID = delivery.deliveryId;
  env.HOOKD_SOURCE_DELIVERY_ID = delivery.sourceDeliveryId ?? "";
  env.HOOKD_CONTENT_TYPE = delivery.contentType;
  return env;
}

/** The largest `HOOKD_FIELD_*` value, in UTF-8 bytes, the cut marker included. */
export const MAX_FIELD_BYTES = 64 * 1024;

/** Ends a value cut at {@linkcode MAX_FIELD_BYTES}, so a hook can tell. */
export const FIELD_CUT_MARKER = "...[cut by hookd]";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The `HOOKD_FIELD_*` variables for a delivery: one per configured field
 * present in it (a string as is; a number, `true`, `false` or `null` as
 * JSON writes it; an object or array as compact JSON), absent fields left
 * unset. NUL characters are dropped, since no environment variable can hold
 * one; every other character, newlines included, passes as is. A value
 * longer than {@linkcode MAX_FIELD_BYTES} is cut at a character boundary and
 * ends with {@linkcode FIELD_CUT_MARKER}.
 *
 * @param fields the endpoint's `_HOOK_FIELDS`
 * @param subject the payload parsed once (see `parsePayload`) and the stored headers
 * @returns the variables, possibly none
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { payloadFieldEnv } from "./hook_env.ts";
 * import { parseFieldPath } from "../config/mod.ts";
 *
 * const payload = { ref: "refs/heads/main", repository: { id: 7 } };
 * const env = payloadFieldEnv(
 *   [parseFieldPath("ref"), parseFieldPath("repository"), parseFieldPath("after")],
 *   { payload, headers: {} },
 * );
 * assert.equal(env.HOOKD_FIELD_REF, "refs/heads/main");
 * assert.equal(env.HOOKD_FIELD_REPOSITORY, '{"id":7}');
 * assert.ok(!("HOOKD_FIELD_AFTER" in env));
 * ```
 */
export function payloadFieldEnv(
  fields: readonly FieldPath[],
  subject: FieldSubject,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const field of fields) {
    const text = readField(subject, field);
    if (text !== undefined) env[fieldVariable(field)] = capField(text.replaceAll("\0", ""));
  }
  return env;
}

function capField(text: string): string {
  // Cheap test first: UTF-8 takes at most 3 bytes per UTF-16 unit.
  if (text.length * 3 <= MAX_FIELD_BYTES) return text;
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= MAX_FIELD_BYTES) return text;
  let cut = MAX_FIELD_BYTES - encoder.encode(FIELD_CUT_MARKER).byteLength;
  // Back up to the first byte of a character, so none is split.
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
  return decoder.decode(bytes.subarray(0, cut)) + FIELD_CUT_MARKER;
}
