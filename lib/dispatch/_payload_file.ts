/**
 * The hook's private payload file, private to `lib/dispatch/`: created with
 * mode 0600 before any byte of the body is in it, and removed without ever
 * throwing.
 *
 * @module
 */

/**
 * Where payload files go: the unit's `RuntimeDirectory=` (a tmpfs), else one
 * under `$XDG_RUNTIME_DIR` when writable, else the state directory, so that
 * creating them rarely waits behind the store's fsyncs. Outside the unit's
 * directory the folder is named after the state directory: the start-up
 * sweep empties it, and two daemons must not share one.
 *
 * @param stateDir the daemon's state directory
 * @param env the daemon's environment (`RUNTIME_DIRECTORY`, `XDG_RUNTIME_DIR`)
 * @returns an existing private directory (mode 0700 when it was created)
 * @throws {Deno.errors.PermissionDenied} and other errors of creating it in the state directory
 */
export async function choosePayloadDir(
  stateDir: string,
  env: Record<string, string>,
): Promise<string> {
  const runtimeDir = env.RUNTIME_DIRECTORY?.split(":")[0];
  if (runtimeDir) return await makePrivateDir(`${runtimeDir}/payloads`);
  const userRuntime = env.XDG_RUNTIME_DIR;
  if (userRuntime?.startsWith("/")) {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(await Deno.realPath(stateDir).catch(() => stateDir)),
    );
    const name = hex(new Uint8Array(digest, 0, 8));
    try {
      return await makePrivateDir(`${userRuntime}/hookd-payloads-${name}`);
    } catch {
      // Not writable: the state directory serves.
    }
  }
  return await makePrivateDir(`${stateDir}/payloads`);
}

async function makePrivateDir(path: string): Promise<string> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  return path;
}

/**
 * Write `body` (asynchronously: the event loop never waits for the disk) to a
 * new file `hookd-payload-<128 random bits>` in `dir`, mode 0600.
 *
 * @param dir an existing directory
 * @param body the bytes to write
 * @returns the file's path
 * @throws {Deno.errors.NotFound} when `dir` does not exist (and other file-system errors);
 *   a file the failed write created is removed first
 */
export async function writePayloadFile(
  dir: string,
  body: Uint8Array,
): Promise<string> {
  // One operation instead of makeTempFile, chmod and writeFile: `createNew` (O_EXCL)
  // refuses an existing name or a planted symlink, and `mode` goes to open(2), so the
  // file is created private (Deno then sets exactly 0600 whatever the umask).
  const path = `${dir}/hookd-payload-${hex(crypto.getRandomValues(new Uint8Array(16)))}`;
  const options = { createNew: true, mode: 0o600 };
  try {
    await Deno.writeFile(path, body, options);
  } catch (err) {
    // A failed write may have created the file; one that existed (AlreadyExists) is not ours.
    if (!(err instanceof Deno.errors.AlreadyExists)) await removePayloadFile(path);
    throw err;
  }
  return path;
}

/**
 * Remove a payload file. Never throws: a file that cannot be removed must not turn a run
 * into an error.
 *
 * @param path the file {@linkcode writePayloadFile} returned
 */
export async function removePayloadFile(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // Already gone, or the directory went away.
  }
}

/** Names of payload files: `hookd-payload-` and 32 hex digits. */
const PAYLOAD_NAME = /^hookd-payload-[0-9a-f]{32}$/;

/**
 * Remove every payload file in `dir`: at start, before any run, each one was
 * left by a run that did not finish (hookd was killed), and no live run owns it.
 *
 * @param dir the payload directory
 * @returns the paths removed
 * @throws {Deno.errors.PermissionDenied} and other errors of reading `dir`, but
 *   not `NotFound` (nothing to sweep); a file that cannot be removed is skipped
 */
export async function sweepPayloadFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !PAYLOAD_NAME.test(entry.name)) continue;
      const path = `${dir}/${entry.name}`;
      try {
        await Deno.remove(path);
        removed.push(path);
      } catch {
        // Gone meanwhile, or not ours to remove.
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return removed;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
