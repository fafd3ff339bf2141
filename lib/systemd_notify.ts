/**
 * Tell systemd about the daemon's state (`Type=notify`): ready, reloading,
 * stopping. Deno cannot send to a Unix datagram socket without unstable
 * APIs, so the message goes through systemd's own `systemd-notify`, run as
 * `/bin/sh -c 'exec systemd-notify "$@"'`: the shell finds it on the PATH of
 * the environment given and passes the status text as an argument, never as
 * code (the unit sets `NotifyAccess=all` because the sender is a child). Without `NOTIFY_SOCKET` (not started by
 * systemd) every call is a no-op.
 *
 * @module
 */

/** The states hookd reports. */
export type NotifyState = "ready" | "reloading" | "stopping";

/** Options for {@linkcode notifyCommand} and the notify functions. */
export interface NotifyOptions {
  /**
   * The environment: `NOTIFY_SOCKET` is read from it and the child gets
   * exactly it. Defaults to the process environment.
   */
  env?: Record<string, string>;
  /** The main PID to report; defaults to `Deno.pid`. */
  pid?: number;
  /** A one-line status shown by `systemctl status`. */
  status?: string;
}

/** A command line ready to spawn. */
export interface NotifyCommand {
  /** Always `/bin/sh`, which finds `systemd-notify` on the given PATH. */
  command: string;
  /** The shell script and its arguments. */
  args: string[];
}

/**
 * The command that reports `state`, or `undefined` when `NOTIFY_SOCKET` is
 * not set. Arguments are passed as `"$@"`, so a status text is never parsed
 * by the shell. `RELOADING=1` and `STOPPING=1` are written as assignments
 * because systemd 252 (Debian 12) has no `--reloading`/`--stopping` flags.
 *
 * @param state what to report
 * @param options the environment, main PID and status text
 * @returns the command, or `undefined`
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
): NotifyCommand | undefined {
  const env = options.env ?? Deno.env.toObject();
  if (!env.NOTIFY_SOCKET) return undefined;
  const pid = options.pid ?? Deno.pid;
  const message = state === "ready"
    ? ["--ready"]
    : state === "reloading"
    ? ["RELOADING=1"]
    : ["STOPPING=1"];
  const status = options.status === undefined
    ? []
    : [`--status=${options.status.replace(/[\r\n]+/g, " ")}`];
  return {
    command: "/bin/sh",
    args: ["-c", 'exec systemd-notify "$@"', "sh", `--pid=${pid}`, ...status, ...message],
  };
}

/**
 * Report that the daemon serves requests (`READY=1`), also after a reload.
 *
 * @param options the environment, main PID and status text
 * @returns `true` when sent, `false` when not under systemd
 * @throws {Error} when `systemd-notify` fails, with its output
 */
export function notifyReady(options: NotifyOptions = {}): Promise<boolean> {
  return sendNotify("ready", options);
}

/**
 * Report that the daemon is re-reading its configuration (`RELOADING=1`);
 * follow with {@linkcode notifyReady} whether or not the reload worked.
 *
 * @param options the environment, main PID and status text
 * @returns `true` when sent, `false` when not under systemd
 * @throws {Error} when `systemd-notify` fails, with its output
 */
export function notifyReloading(options: NotifyOptions = {}): Promise<boolean> {
  return sendNotify("reloading", options);
}

/**
 * Report that the daemon is shutting down (`STOPPING=1`).
 *
 * @param options the environment, main PID and status text
 * @returns `true` when sent, `false` when not under systemd
 * @throws {Error} when `systemd-notify` fails, with its output
 */
export function notifyStopping(options: NotifyOptions = {}): Promise<boolean> {
  return sendNotify("stopping", options);
}

async function sendNotify(state: NotifyState, options: NotifyOptions): Promise<boolean> {
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
