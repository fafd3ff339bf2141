/**
 * Refuse an env file other users can read or write: it holds the secrets,
 * and whoever can write it chooses the commands hookd runs.
 *
 * @module
 */

/**
 * The problem with an env file's permissions, if any: a sentence naming the
 * file and the `chmod` that fixes it. Group-writable is refused too: with
 * `root:hookd`, a hook (running as `hookd`) could rewrite the commands hookd
 * runs. A file that cannot be examined yields `undefined`: reading it fails
 * next, with its own error.
 *
 * @returns the problem, or `undefined`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEnvFileMode } from "./env_file_mode.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.chmod(path, 0o644);
 * assert.match(await checkEnvFileMode(path) ?? "", /chmod 600/);
 * await Deno.chmod(path, 0o600);
 * assert.equal(await checkEnvFileMode(path), undefined);
 * await Deno.remove(path);
 * ```
 */
export async function checkEnvFileMode(path: string): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return undefined;
  }
  return fileModeProblem(path, info.mode, {
    what: `The env file ${path}`,
    groupHarm: "could change the commands hookd runs",
  });
}

/** How {@linkcode fileModeProblem} names the file and what its group could do. */
export interface FileModeOptions {
  /** The sentence's subject, e.g. `The env file /etc/hookd/hookd.env`. */
  what: string;
  /** What a group-writable file lets the group do, e.g. `could replace the secret`. */
  groupHarm: string;
}

/**
 * The env file's rule for any file that holds a secret: only its owner may
 * write it, only its owner and group may read it.
 *
 * @param path the file, named in the `chmod` that fixes it
 * @param mode its mode bits, or `null` where the system has none
 * @param options how the sentence names the file
 * @returns the problem, or `undefined`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileModeProblem } from "./env_file_mode.ts";
 * const options = { what: "The secret file /etc/hookd/gh (HOOKD_GH_SECRET_FILE)", groupHarm: "could replace the secret" };
 * assert.equal(fileModeProblem("/etc/hookd/gh", 0o100640, options), undefined);
 * assert.match(fileModeProblem("/etc/hookd/gh", 0o100644, options)!, /HOOKD_GH_SECRET_FILE.*chmod 600/);
 * ```
 */
export function fileModeProblem(
  path: string,
  mode: number | null,
  options: FileModeOptions,
): string | undefined {
  if (mode === null) return undefined;
  const other = mode & 0o007;
  const groupWritable = (mode & 0o020) !== 0;
  if (other === 0 && !groupWritable) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, "0");
  const quoted = shellQuote(path);
  if (other === 0) {
    return `${options.what} is writable by its group (mode ${octal}), so anyone in it ` +
      `(a hook running as hookd, with root:hookd) ${options.groupHarm}: ` +
      `run chmod 640 ${quoted}`;
  }
  const access = [
    ...(other & 0o004 ? ["readable"] : []),
    ...(other & 0o002 ? ["writable"] : []),
  ].join(" and ") || "accessible";
  // When others may write it, that the group may too adds nothing.
  const group = groupWritable && !(other & 0o002) ? "writable by its group and " : "";
  return `${options.what} is ${group}${access} by other users (mode ${octal}) and holds secrets: ` +
    `run chmod 600 ${quoted}, or chown root:hookd ${quoted} && chmod 640 ${quoted} ` +
    `when hookd runs as user hookd`;
}

function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
