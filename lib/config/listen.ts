/**
 * Where the listeners bind: `address:port`, or, for the public listener, a
 * unix socket (`unix:/path`) for a reverse proxy on the same machine.
 *
 * @module
 */

/** A unix socket for the public listener. */
export interface UnixListen {
  /** The socket file, e.g. `/run/hookd/hookd.sock`. */
  path: string;
  /** Its permission bits (`HOOKD_LISTEN_MODE`, default 0660). */
  mode: number;
  /** The group it is given (`HOOKD_LISTEN_GROUP`), so the proxy may connect; unset: hookd's own. */
  group?: string;
}

/** Where the public listener binds: an address and port, or a unix socket. */
export type Listen = { hostname: string; port: number } | UnixListen;

/**
 * `HOOKD_LISTEN` with the socket's `HOOKD_LISTEN_MODE` and
 * `HOOKD_LISTEN_GROUP`, which are refused with a TCP listener.
 *
 * @param get reads a variable, defaults applied
 * @param problems where each problem is pushed, naming its variable and the fix
 * @returns the listener (a placeholder after a problem)
 */
export function parsePublicListen(get: (name: string) => string, problems: string[]): Listen {
  const value = get("HOOKD_LISTEN").trim();
  const modeText = get("HOOKD_LISTEN_MODE").trim();
  const group = get("HOOKD_LISTEN_GROUP").trim();
  if (!value.startsWith("unix:")) {
    const socketOnly = [
      modeText !== "0660" && "HOOKD_LISTEN_MODE",
      group !== "" && "HOOKD_LISTEN_GROUP",
    ].filter((name): name is string => !!name);
    for (const name of socketOnly) {
      problems.push(`${name} is set but HOOKD_LISTEN is not a unix socket: remove ${name}`);
    }
    return parseListen("HOOKD_LISTEN", value, problems);
  }
  const path = value.slice("unix:".length);
  if (!path.startsWith("/")) {
    problems.push(
      `HOOKD_LISTEN is "${value}": a unix socket needs an absolute path, e.g. unix:/run/hookd/hookd.sock`,
    );
  }
  if (get("HOOKD_TLS_CERT") !== "" || get("HOOKD_TLS_KEY") !== "") {
    problems.push(
      "HOOKD_TLS_CERT is set but HOOKD_LISTEN is a unix socket: let the proxy in front terminate TLS, and remove HOOKD_TLS_CERT and HOOKD_TLS_KEY",
    );
  }
  const mode = /^0?[0-7]{3}$/.test(modeText) ? parseInt(modeText, 8) : NaN;
  if (Number.isNaN(mode)) {
    problems.push(
      `HOOKD_LISTEN_MODE is "${modeText}": write octal permission bits, e.g. 0660 (owner and group may connect)`,
    );
  }
  return { path, mode: Number.isNaN(mode) ? 0o660 : mode, ...(group ? { group } : {}) };
}

/**
 * An `address:port` listener (`HOOKD_LISTEN`, `HOOKD_ADMIN_LISTEN`).
 *
 * @param problems where a problem is pushed when it is not one
 * @returns the address and port (a placeholder after a problem)
 */
export function parseListen(
  variable: string,
  value: string,
  problems: string[],
): { hostname: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    problems.push(
      `${variable} is "${value}": write address:port, e.g. 127.0.0.1:9000 or [::1]:9000`,
    );
    return { hostname: "127.0.0.1", port: 0 };
  }
  return { hostname: match[1] ?? (match[2] || "0.0.0.0"), port };
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * `HOOKD_ADMIN_HOSTS`: more names the admin listener answers to, comma-separated,
 * kept lower-case and without a trailing dot, as they are compared.
 *
 * @param value its value; empty: none
 * @param problems where a problem is pushed for each value that is not a host name
 * @returns the names
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHostNames } from "./listen.ts";
 * assert.deepEqual(parseHostNames("HOOKD_ADMIN_HOSTS", "Tunnel, admin.example.", []), [
 *   "tunnel",
 *   "admin.example",
 * ]);
 * ```
 */
export function parseHostNames(variable: string, value: string, problems: string[]): string[] {
  const names: string[] = [];
  for (const raw of value.split(",").map((name) => name.trim()).filter(Boolean)) {
    const name = raw.toLowerCase().replace(/\.$/, "");
    if (HOST_NAME.test(name)) names.push(name);
    else {
      problems.push(
        `${variable}: "${raw}" is not a host name: list names without scheme, port or path, e.g. ${variable}=hookd-admin.internal,tunnel`,
      );
    }
  }
  return names;
}

/**
 * Whether a listen address only accepts connections from this machine:
 * `localhost`, `127.0.0.0/8`, `::1` (also IPv4-mapped); any other name is
 * taken as public.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./listen.ts";
 * assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && !isLoopback("0.0.0.0"));
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  const v4 = host.replace(/^::ffff:/, "");
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  return match !== null && Number(match[1]) === 127 &&
    match.slice(2).every((part) => Number(part) <= 255);
}
