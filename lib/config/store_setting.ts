/**
 * Where deliveries are stored and what this instance does with them
 * (`HOOKD_STORE`, `HOOKD_INSTANCE_ID`, `HOOKD_RUN_HOOKS`). Pure parsing:
 * nothing here connects anywhere.
 *
 * @module
 */

/** Where the deliveries are. */
export type StoreSetting =
  | { kind: "sqlite" }
  | {
    kind: "postgres";
    /** The URL as given (it may hold a password: show it through {@linkcode maskStoreUrl}). */
    url: string;
    /** `PGPASSWORD` from the env file, when the URL has none. */
    password?: string;
  };

/** The store settings of one instance. */
export interface StoreSettings {
  /** Where the deliveries are. */
  store: StoreSetting;
  /** This instance's stable id: `HOOKD_INSTANCE_ID`, else the host name and the listen address. */
  instanceId: string;
  /** False: accept and store only, never run a hook (`HOOKD_RUN_HOOKS=false`). */
  runHooks: boolean;
}

/** The variables this file reads, with their help and defaults, for `hookd check` and README. */
export const STORE_SETTINGS: Record<string, { help: string; default: string }> = {
  HOOKD_STORE: {
    help: "sqlite (a file under HOOKD_STATE_DIR) or postgres://user@host/db, shared by instances",
    default: "sqlite",
  },
  HOOKD_INSTANCE_ID: {
    help: "this instance's stable id in a shared store",
    default: "host name/HOOKD_LISTEN",
  },
  HOOKD_RUN_HOOKS: {
    help: "false: accept and store deliveries, run no hook (a receiver tier)",
    default: "true",
  },
};

/**
 * A store URL with its password masked, for `hookd check` and logs.
 *
 * @returns the URL with `***` for a password; a URL that does not parse as `(not a URL)`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskStoreUrl } from "./store_setting.ts";
 * assert.equal(maskStoreUrl("postgres://hookd:s3cret@db/hookd"), "postgres://hookd:***@db/hookd");
 * ```
 */
export function maskStoreUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

/**
 * Read the store settings.
 *
 * @param listen `HOOKD_LISTEN` as configured, part of the default instance id
 * @param problems where a mistake is described, one sentence each
 * @returns the settings (with defaults where a value was wrong)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStoreSettings } from "./store_setting.ts";
 * const problems: string[] = [];
 * const settings = parseStoreSettings({ HOOKD_STORE: "postgres://hookd@db/hookd" }, "0.0.0.0:9000", problems);
 * assert.equal(settings.store.kind, "postgres");
 * assert.deepEqual(problems, []);
 * ```
 */
export function parseStoreSettings(
  vars: Readonly<Record<string, string | undefined>>,
  listen: string,
  problems: string[],
): StoreSettings {
  const raw = (vars.HOOKD_STORE ?? "").trim();
  let store: StoreSetting = { kind: "sqlite" };
  if (raw !== "" && raw !== "sqlite") {
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      // Reported below.
    }
    if (parsed && (parsed.protocol === "postgres:" || parsed.protocol === "postgresql:")) {
      if (!parsed.hostname && !parsed.searchParams.get("host")) {
        problems.push(`HOOKD_STORE names no host: ${maskStoreUrl(raw)}`);
      }
      if (parsed.pathname.length <= 1) {
        problems.push(
          `HOOKD_STORE names no database: add it after the host, e.g. postgres://hookd@db.internal/hookd`,
        );
      }
      const password = vars.PGPASSWORD || undefined;
      store = { kind: "postgres", url: raw, ...(password ? { password } : {}) };
    } else {
      problems.push(
        `HOOKD_STORE must be sqlite or a postgres://user@host/db URL: got ${
          parsed ? `a ${parsed.protocol} URL` : JSON.stringify(raw.slice(0, 40))
        }`,
      );
    }
  }
  const runHooksValue = (vars.HOOKD_RUN_HOOKS ?? "").trim() || "true";
  if (runHooksValue !== "true" && runHooksValue !== "false") {
    problems.push(`HOOKD_RUN_HOOKS must be true or false: got ${JSON.stringify(runHooksValue)}`);
  }
  const instanceId = (vars.HOOKD_INSTANCE_ID ?? "").trim() || `${hostname()}/${listen}`;
  if (instanceId.length > 200) problems.push("HOOKD_INSTANCE_ID must be at most 200 characters");
  return { store, instanceId, runHooks: runHooksValue !== "false" };
}

/** The host name: the daemon runs without --allow-sys, so from /proc when Deno may not ask. */
function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    for (const file of ["/proc/sys/kernel/hostname", "/etc/hostname"]) {
      try {
        const name = Deno.readTextFileSync(file).trim();
        if (name) return name;
      } catch {
        // Try the next.
      }
    }
    return "localhost";
  }
}
