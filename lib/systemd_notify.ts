/**
 * Tell systemd about the daemon's state (`Type=notify`). Deno cannot send to
 * a Unix datagram socket without unstable APIs, so the message goes through
 * systemd's own `systemd-notify`, run as `/bin/sh -c 'exec systemd-notify
 * "$@"'` (found on the PATH given, arguments never parsed as code); the unit
 * sets `NotifyAccess=all` because the sender is a child. Without
 * `NOTIFY_SOCKET` (not started by systemd) nothing is sent.
 *
 * @module
 */

/** The states hookd reports. */
export type NotifyState = "ready" | "reloading" | "stopping";

/** Options for {@linkcode notifyCommand} and {@linkcode notifySystemd}. */
export interface NotifyOptions {
  /**
   * The environment: `NOTIFY_SOCKET` is read from it and the child gets
   * exactly it. Defaults to the process environment.
   */
  env?: Record<string, string>;
  /** The main PID to report; defaults to `Deno.pid`. */
  pid?: number;
}

/**
 * The command that reports `state`, or `undefined` when `NOTIFY_SOCKET` is
 * not set. `RELOADING=1` and `STOPPING=1` are written as assignments
 * because systemd 252 (Debian 12) has no `--reloading`/`--stopping` flags.
 *
 * @param state what to report
 * @param options the environment and main PID
 * @returns `/bin/sh` and its arguments, or `undefined`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notifyCommand } from "./systemd_notify.ts";
 * const cmd = notifyCommand("ready", { env: { NOTIFY_SOCKET: "/run/systemd/notify" }, pid: 42 });
 * assert.ok(cmd?.args.includes("--ready") && cmd.args.includes("--pid=42"));
 * assert.equal(notifyCommand("ready", { env: {} }), undefined);
 * ```
 */
export function notifyCommand(
  state: NotifyState,
  options: NotifyOptions = {},
): { command: string; args: string[] } | undefined {
  const env = options.env ?? Deno.env.toObject();
  if (!env.NOTIFY_SOCKET) return undefined;
  const message = { ready: "--ready", reloading: "RELOADING=1", stopping: "STOPPING=1" }[state];
  return {
    command: "/bin/sh",
    args: ["-c", 'exec systemd-notify "$@"', "sh", `--pid=${options.pid ?? Deno.pid}`, message],
  };
}

/**
 * Report `state`: `ready` once the daemon serves (also after a reload),
 * `reloading` while it re-reads its configuration (follow with `ready`
 * whether or not the reload worked), `stopping` when it shuts down.
 *
 * @param state what to report
 * @param options the environment and main PID
 * @returns `true` when sent, `false` when not under systemd
 * @throws {Error} when `systemd-notify` fails, with its output
 */
export async function notifySystemd(
  state: NotifyState,
  options: NotifyOptions = {},
): Promise<boolean> {
  const env = options.env ?? Deno.env.toObject();
  const cmd = notifyCommand(state, { ...options, env });
  if (!cmd) return false;
  const output = await new Deno.Command(cmd.command, {
    args: cmd.args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr).trim() ||
      new TextDecoder().decode(output.stdout).trim();
    throw new Error(
      `systemd-notify (${state}) failed with exit code ${output.code}${text ? `: ${text}` : ""}`,
    );
  }
  return true;
}
