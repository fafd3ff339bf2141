/**
 * When processes started: how the next start tells a crashed daemon's hook
 * group from an unrelated process that reuses its id. Deno refuses `/proc`
 * without `--allow-all`, so one `/bin/sh` reads field 22 of `/proc/<pid>/stat`
 * (ticks since boot) for every pid, and `btime` from `/proc/stat`.
 *
 * @module
 */

/** One shell for all pids: `btime SECONDS TICKS_PER_SECOND`, then `PID START_TICKS` per live pid. */
const SCRIPT = String.raw`
tick=$(/usr/bin/getconf CLK_TCK 2>/dev/null) || tick=100
while read -r key value rest; do
  if [ "$key" = btime ]; then echo "btime $value $tick"; fi
done < /proc/stat
set -f
for pid do
  st=
  read -r st < "/proc/$pid/stat" 2>/dev/null || continue
  set -- ${"$"}{st##*) }
  echo "$pid ${"$"}{20}"
done
`;

/**
 * When each of `pids` started, in epoch milliseconds, exact to a second (the
 * boot time is whole seconds) as long as the clock was not stepped since boot.
 *
 * @param pids process ids, integers above 1
 * @returns the start time of each pid that runs (or is a zombie); a pid that
 *   is gone, or every pid when `/proc` cannot be read, is missing
 * @throws {RangeError} when a pid is not an integer above 1
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startTimes } from "./start_time.ts";
 *
 * const before = Date.now();
 * const child = new Deno.Command("sleep", { args: ["60"], stdout: "null" }).spawn();
 * const started = await startTimes([child.pid]);
 * child.kill("SIGKILL");
 * await child.status;
 * // Exact to the boot time's second.
 * assert.ok(Math.abs(started.get(child.pid)! - before) < 2000);
 * ```
 */
export async function startTimes(pids: readonly number[]): Promise<Map<number, number>> {
  for (const pid of pids) {
    if (!Number.isSafeInteger(pid) || pid < 2) {
      throw new RangeError(`startTimes(): a pid must be an integer above 1: got ${pid}`);
    }
  }
  const started = new Map<number, number>();
  let text: string;
  try {
    const { stdout } = await new Deno.Command("/bin/sh", {
      args: ["-c", SCRIPT, "sh", ...pids.map(String)],
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    text = new TextDecoder().decode(stdout);
  } catch {
    return started;
  }
  const [boot, ...lines] = text.trim().split("\n");
  const [word, btime, tick] = boot?.split(" ") ?? [];
  if (word !== "btime" || !/^\d+$/.test(btime ?? "") || !/^\d+$/.test(tick ?? "")) return started;
  for (const line of lines) {
    const [pid, ticks] = line.split(" ");
    if (!/^\d{1,15}$/.test(ticks ?? "")) continue;
    started.set(Number(pid), (Number(btime) + Number(ticks) / Number(tick)) * 1000);
  }
  return started;
}
