/**
 * The hook's private payload file, private to `lib/dispatch/`: created with
 * mode 0600 before any byte of the body is in it, and removed without ever
 * throwing.
 *
 * @module
 */

/**
 * Payload files up to this size are written and removed synchronously: for a small file
 * in hookd's own state directory that costs a third of the CPU of an async operation's hand-off
 * to a worker thread, and blocks the event loop less than the store's commits already do.
 */
const SYNC_FILE_BYTES = 64 * 1024;

/**
 * Write `body` to a new file `hookd-payload-<128 random bits>` in `dir`, mode 0600.
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
  const path = `${dir}/hookd-payload-${randomName()}`;
  const options = { createNew: true, mode: 0o600 };
  try {
    if (body.byteLength <= SYNC_FILE_BYTES) Deno.writeFileSync(path, body, options);
    else await Deno.writeFile(path, body, options);
  } catch (err) {
    // A failed write may have created the file; one that existed (AlreadyExists) is not ours.
    if (!(err instanceof Deno.errors.AlreadyExists)) await removePayloadFile(path, body);
    throw err;
  }
  return path;
}

/**
 * Remove a payload file. Never throws: a file that cannot be removed must not turn a run
 * into an error.
 *
 * @param path the file {@linkcode writePayloadFile} returned
 * @param body the body written to it (its size chooses a synchronous or an async remove)
 */
export async function removePayloadFile(path: string, body: Uint8Array): Promise<void> {
  try {
    if (body.byteLength <= SYNC_FILE_BYTES) Deno.removeSync(path);
    else await Deno.remove(path);
  } catch {
    // Already gone, or the directory went away.
  }
}

/**
 * Names of payload files (`hookd-payload-` and 32 hex digits) and of a launched run's job file
 * and output files (`hookd-job-` and 32 hex digits, then nothing, `.out` or `.err`).
 */
const PAYLOAD_NAME = /^hookd-(payload-[0-9a-f]{32}|job-[0-9a-f]{32}(\.out|\.err)?)$/;

/**
 * Remove every payload file in `dir`, and every job and output file of a
 * launched run: at start, before any run, each one was left by a run that did
 * not finish (hookd was killed), and no live run owns it.
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

/**
 * 128 random bits, hex: the unguessable part of a payload or job file's name.
 *
 * @returns 32 hex digits
 */
export function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
