/**
 * The SQLite store's nudge across processes, private to `lib/store/`: SQLite
 * cannot notify, so a re-queue (`hookd replay` in another process, or the
 * page's Replay) touches `<database>-requeued`, and the daemon's `listen`
 * watches that file, so an idle daemon whose queue polls slowly still runs
 * a replay at once. Only a nudge: the queue's poll finds the work anyway.
 *
 * @module
 */

import type { RequeueResult } from "./types.ts";

function signalPath(dbPath: string): string | undefined {
  return dbPath === ":memory:" ? undefined : `${dbPath}-requeued`;
}

/** Touch the signal file when anything was re-queued, asynchronously; never throws. */
export async function announceRequeue(
  dbPath: string,
  result: RequeueResult,
): Promise<RequeueResult> {
  const path = signalPath(dbPath);
  if (path !== undefined && result.requeued.length > 0) {
    await Deno.writeTextFile(path, String(Date.now()), { mode: 0o600 }).catch(() => {});
  }
  return result;
}

/**
 * Call `onWork` whenever another store announces a re-queue; a store whose
 * file cannot be watched (in memory, read-only directory) stays silent.
 */
export async function watchRequeues(
  dbPath: string,
  onWork: () => void,
): Promise<{ unlisten(): Promise<void> }> {
  const path = signalPath(dbPath);
  let watcher: Deno.FsWatcher;
  try {
    if (path === undefined) throw new Error("in memory");
    await Deno.writeTextFile(path, "", { append: true, mode: 0o600 });
    watcher = Deno.watchFs(path, { recursive: false });
  } catch {
    return { unlisten: () => Promise.resolve() };
  }
  const done = (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "modify" || event.kind === "create") onWork();
      }
    } catch {
      // Closed, or the file went away: the poll still finds re-queued work.
    }
  })();
  return {
    async unlisten() {
      watcher.close();
      await done;
    },
  };
}
