/**
 * Secrets kept out of the env file: a `_FILE` variable (`HOOKD_GH_SECRET_FILE`,
 * `HOOKD_ADMIN_TOKEN_FILE`, …) names a file whose content is the secret; a
 * relative name is a systemd credential in `$CREDENTIALS_DIRECTORY`, and an
 * absolute path outside it must be guarded like the env file. The files are
 * read at start-up and on SIGHUP, never per request; the parser stays pure.
 *
 * @module
 */

import { ConfigError } from "./config_error.ts";
import { fileModeProblem } from "./env_file_mode.ts";
import { eventKey } from "./event_keys.ts";
import { PROVIDERS } from "../verify/mod.ts";
import type { StoreSetting } from "./store_setting.ts";

/** What the edge read besides the variables, handed to `parseConfig`. */
export interface ConfigSources {
  /** The secret files read, by their `_FILE` variable. */
  secretFiles?: ReadonlyMap<string, SecretFile>;
  /** The variables the env file set (the others came from the process environment). */
  envFileKeys?: ReadonlySet<string>;
}

/** A secret read from a file, and where it came from as `hookd check` says it. */
export interface SecretFile {
  /** The file's content, one trailing newline dropped. */
  value: string;
  /** `file /etc/hookd/github.secret` or `credential github`. */
  origin: string;
}

/** The global `_FILE` variables, for `hookd check`'s help and README. */
export const SECRET_FILE_SETTINGS: Record<string, { help: string }> = {
  HOOKD_ADMIN_TOKEN_FILE: {
    help: "a file (or a credential's name) holding HOOKD_ADMIN_TOKEN, instead of the env file",
  },
  HOOKD_STORE_PASSWORD_FILE: {
    help: "a file (or a credential's name) holding the PostgreSQL password, instead of PGPASSWORD",
  },
};

/** The `_FILE` variables outside endpoints, and the variable each stands for. */
const GLOBAL_SECRET_FILES: Readonly<Record<string, string>> = {
  HOOKD_ADMIN_TOKEN_FILE: "HOOKD_ADMIN_TOKEN",
  // The password alone, as a credential holds it; PGPASSFILE is libpq's lookup table.
  HOOKD_STORE_PASSWORD_FILE: "PGPASSWORD",
};

/** A secret file larger than this is a mistake (a log, a device), not a secret. */
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * The endpoint variables that hold a credential, by suffix: the secret, the
 * previous one, and the provider's settings marked `secret` (a verify token).
 *
 * @param provider the provider's name; `undefined`: every provider's
 * @returns e.g. `["SECRET", "SECRET_PREVIOUS", "VERIFY_TOKEN"]`
 */
export function credentialSuffixes(provider?: string): string[] {
  const suffixes = new Set(["SECRET", "SECRET_PREVIOUS"]);
  const providers = provider === undefined ? [...PROVIDERS.values()] : [PROVIDERS.get(provider)];
  for (const found of providers) {
    for (const [suffix, spec] of Object.entries(found?.settings ?? {})) {
      if (spec.secret) suffixes.add(suffix);
    }
  }
  return [...suffixes];
}

/**
 * The `_FILE` variables that are set, each with the variable it stands for:
 * the global ones, and those of the endpoints `HOOKD_ENDPOINTS` lists.
 *
 * @returns `_FILE` variable → the variable it stands for, e.g.
 *   `HOOKD_GITHUB_SECRET_FILE` → `HOOKD_GITHUB_SECRET`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretFileVariables } from "./secret_files.ts";
 * const files = secretFileVariables({
 *   HOOKD_ENDPOINTS: "github",
 *   HOOKD_GITHUB_SECRET_FILE: "github",
 *   HOOKD_LOG_FILE: "/var/log/hookd/hookd.log",
 * });
 * assert.deepEqual([...files], [["HOOKD_GITHUB_SECRET_FILE", "HOOKD_GITHUB_SECRET"]]);
 * ```
 */
export function secretFileVariables(
  vars: Readonly<Record<string, string | undefined>>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [fileVariable, target] of Object.entries(GLOBAL_SECRET_FILES)) {
    if (vars[fileVariable] !== undefined) out.set(fileVariable, target);
  }
  const names = (vars.HOOKD_ENDPOINTS ?? "").split(",").map((s) => s.trim())
    .filter((name) => /^[a-z0-9-]+$/.test(name));
  const suffixes = credentialSuffixes();
  for (const name of names) {
    for (const suffix of suffixes) {
      const target = `HOOKD_${eventKey(name)}_${suffix}`;
      if (vars[`${target}_FILE`] !== undefined) out.set(`${target}_FILE`, target);
    }
  }
  return out;
}

/**
 * Read every secret file the variables name, checking each first (a file
 * outside `$CREDENTIALS_DIRECTORY` must not be readable by others nor
 * writable by its group). A pair set both ways is left to the parser.
 *
 * @param credentialsDirectory `$CREDENTIALS_DIRECTORY`, set by systemd when the unit loads credentials
 * @returns the secrets read, by their `_FILE` variable
 * @throws {ConfigError} one sentence per file that cannot be used, naming its variable and the fix
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSecretFiles } from "./secret_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/github`, "a-long-random-secret\n");
 * const files = await readSecretFiles({ HOOKD_ADMIN_TOKEN_FILE: "github" }, dir);
 * assert.deepEqual(files.get("HOOKD_ADMIN_TOKEN_FILE"), {
 *   value: "a-long-random-secret",
 *   origin: "credential github",
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readSecretFiles(
  vars: Readonly<Record<string, string | undefined>>,
  credentialsDirectory: string | undefined,
): Promise<Map<string, SecretFile>> {
  const problems: string[] = [];
  const out = new Map<string, SecretFile>();
  for (const [variable, target] of secretFileVariables(vars)) {
    if (vars[target] !== undefined) continue;
    const read = await readSecretFile(variable, vars[variable]!, credentialsDirectory);
    if (typeof read === "string") problems.push(read);
    else out.set(variable, read);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/** One file: the secret, or the problem as one sentence. */
async function readSecretFile(
  variable: string,
  name: string,
  credentialsDirectory: string | undefined,
): Promise<SecretFile | string> {
  const located = locate(variable, name.trim(), credentialsDirectory || undefined);
  if (typeof located === "string") return located;
  const { path, credential } = located;
  const missing = credential === undefined
    ? `create it (chown root:hookd, chmod 640) or fix the path`
    : `add LoadCredential=${credential}:/etc/hookd/${credential}.secret (or LoadCredentialEncrypted=) to the unit and restart it`;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    return `${variable} names ${path}, which cannot be read (${reason(error)}): ${missing}`;
  }
  if (!info.isFile) return `${variable} names ${path}, which is not a file: name the secret's file`;
  if (info.size > MAX_SECRET_BYTES) {
    return `${variable} names ${path}, ${info.size} bytes, too large for a secret: name the file that holds only the secret`;
  }
  // systemd guards its credentials itself (a directory only the service may read).
  const modeProblem = credential === undefined
    ? fileModeProblem(path, info.mode, {
      what: `The secret file ${path} (${variable})`,
      groupHarm: "could replace the secret",
    })
    : undefined;
  if (modeProblem) return modeProblem;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    return `${variable} names ${path}, which cannot be read (${reason(error)}): ${missing}`;
  }
  const value = text.replace(/\r?\n$/, "");
  if (value.trim() === "") {
    return `${variable} names ${path}, which is empty: write the secret into it`;
  }
  return { value, origin: credential === undefined ? `file ${path}` : `credential ${credential}` };
}

/**
 * Put each secret read from a file under the variable it stands for, and
 * refuse a secret given both ways.
 *
 * @returns where each secret so filled came from, by its variable
 */
export function applySecretFiles(
  vars: Record<string, string>,
  fileVariables: Map<string, string>,
  sources: ConfigSources,
  problems: string[],
): Map<string, string> {
  const origins = new Map<string, string>();
  for (const [fileVariable, target] of fileVariables) {
    if (vars[target] !== undefined) {
      problems.push(
        `${target} and ${fileVariable} are both set: keep one (${fileVariable} keeps the secret out of the env file)`,
      );
      continue;
    }
    const read = sources.secretFiles?.get(fileVariable);
    if (!read) {
      problems.push(`${fileVariable} was not read: hookd reads it at start-up and on SIGHUP`);
      continue;
    }
    vars[target] = read.value;
    origins.set(target, read.origin);
  }
  return origins;
}

/** What of the resolved configuration {@linkcode finishSecrets} reads. */
export interface SecretHolders {
  /** The endpoints, with their variable prefix and provider. */
  endpoints: ReadonlyMap<string, { prefix: string; provider: string }>;
  /** Where deliveries are stored (a PostgreSQL password is a secret). */
  store: StoreSetting;
}

/**
 * Check the store's password file against `HOOKD_STORE`, and say where each
 * secret that is set came from.
 *
 * @param vars the variables, secrets from files filled in
 * @param options `fromFiles` (from {@linkcode applySecretFiles}), `sources`, and `problems` to add to
 * @returns where each secret came from, by its variable
 */
export function finishSecrets(
  holders: SecretHolders,
  vars: Record<string, string>,
  options: { fromFiles: Map<string, string>; sources: ConfigSources; problems: string[] },
): Map<string, string> {
  options.problems.push(...storePasswordFileProblems(vars, holders.store));
  const variables: string[] = [];
  for (const endpoint of holders.endpoints.values()) {
    for (const suffix of credentialSuffixes(endpoint.provider)) {
      variables.push(`${endpoint.prefix}${suffix}`);
    }
  }
  variables.push("HOOKD_ADMIN_TOKEN");
  if (holders.store.kind === "postgres" && holders.store.password) variables.push("PGPASSWORD");
  const originOf = (variable: string) =>
    options.fromFiles.get(variable) ??
      (options.sources.envFileKeys?.has(variable) ? "env file" : "environment");
  return new Map(
    variables.filter((variable) => vars[variable]).map((
      variable,
    ) => [variable, originOf(variable)]),
  );
}

function storePasswordFileProblems(vars: Record<string, string>, store: StoreSetting): string[] {
  if (vars.HOOKD_STORE_PASSWORD_FILE === undefined) return [];
  if (store.kind !== "postgres") {
    return [
      "HOOKD_STORE_PASSWORD_FILE is set but HOOKD_STORE is not PostgreSQL: remove it, or set HOOKD_STORE=postgres://user@host/db",
    ];
  }
  let inUrl = false;
  try {
    inUrl = new URL(store.url).password !== "";
  } catch {
    // HOOKD_STORE's own problem is reported already.
  }
  return inUrl
    ? [
      "HOOKD_STORE holds a password and HOOKD_STORE_PASSWORD_FILE names another: remove the password from the URL",
    ]
    : [];
}

function locate(
  variable: string,
  name: string,
  credentialsDirectory: string | undefined,
): { path: string; credential?: string } | string {
  if (name === "") return `${variable} is empty: name the secret's file, or remove the line`;
  if (name.startsWith("/")) {
    const dir = credentialsDirectory?.replace(/\/+$/, "");
    if (dir && name.startsWith(`${dir}/`) && !name.slice(dir.length + 1).includes("/")) {
      return { path: name, credential: name.slice(dir.length + 1) };
    }
    return { path: name };
  }
  if (name.includes("/")) {
    return `${variable} is "${name}": give an absolute path, or a credential's name (no /)`;
  }
  if (!credentialsDirectory) {
    return `${variable} is "${name}", a credential's name, but $CREDENTIALS_DIRECTORY is not set: ` +
      `load it in the unit (LoadCredential=${name}:/etc/hookd/${name}.secret), or give an absolute path`;
  }
  return { path: `${credentialsDirectory.replace(/\/+$/, "")}/${name}`, credential: name };
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
