/**
 * The client address behind trusted proxies (`HOOKD_TRUSTED_PROXIES`),
 * which `_ALLOW_FROM` and the rate limit judge. Pure: addresses in,
 * decisions out.
 *
 * @module
 */

import { type AddressList, parseAddress } from "../config/mod.ts";

/**
 * The client's address: the peer's, unless the peer is a trusted proxy, in
 * which case `X-Forwarded-For` is read from the right, skipping trusted
 * proxies, and the first untrusted hop is the client. Hops left of it are
 * whatever the client claimed and are ignored. A hop that is not an address
 * ends the walk at the last trusted hop, so a broken header never makes up
 * an address.
 *
 * @param remote the peer address of the connection
 * @param forwardedFor the `X-Forwarded-For` header (all of them, joined with `,`)
 * @param trustedProxies the proxies whose header is believed, or `undefined`
 * @returns the client address, normalized (IPv4-mapped IPv6 as IPv4); the
 *   `remote` string as given when it is not an address
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAddressList } from "../config/mod.ts";
 * import { clientAddress } from "./allow_from.ts";
 * const proxies = parseAddressList("10.0.0.0/8", "HOOKD_TRUSTED_PROXIES");
 * assert.equal(clientAddress("10.0.0.2", "198.51.100.7, 10.0.0.5", proxies), "198.51.100.7");
 * assert.equal(clientAddress("203.0.113.1", "198.51.100.7", proxies), "203.0.113.1");
 * ```
 */
export function clientAddress(
  remote: string,
  forwardedFor: string | null | undefined,
  trustedProxies: AddressList | undefined,
): string {
  const client = canonical(remote);
  if (!trustedProxies || !forwardedFor || !trustedProxies.has(client)) return client;
  return forwardedClient(forwardedFor, trustedProxies) ?? client;
}

/**
 * The client's address for a request that came over hookd's unix socket,
 * whose peer is a local proxy with no address: the first untrusted hop of
 * `X-Forwarded-For` when `HOOKD_TRUSTED_PROXIES` lists `unix`, read as
 * {@linkcode clientAddress} reads it; otherwise unknown, and an endpoint
 * with `_ALLOW_FROM` refuses it.
 *
 * @param forwardedFor the `X-Forwarded-For` header (all of them, joined with `,`)
 * @param trustedProxies the proxies whose header is believed, or `undefined`
 * @returns the client address, or `undefined` when it cannot be known
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAddressList } from "../config/mod.ts";
 * import { unixClientAddress } from "./allow_from.ts";
 * const proxies = parseAddressList("unix", "HOOKD_TRUSTED_PROXIES", { unix: true });
 * assert.equal(unixClientAddress("198.51.100.7", proxies), "198.51.100.7");
 * assert.equal(unixClientAddress(null, proxies), undefined);
 * ```
 */
export function unixClientAddress(
  forwardedFor: string | null | undefined,
  trustedProxies: AddressList | undefined,
): string | undefined {
  if (!trustedProxies?.unix || !forwardedFor) return undefined;
  return forwardedClient(forwardedFor, trustedProxies);
}

/**
 * The peer address in canonical form (an IPv4-mapped IPv6 address as IPv4),
 * or as given when it is not an address. Remembered: senders connect from
 * few addresses, and parsing one is a few microseconds of every request.
 */
function canonical(remote: string): string {
  let client = canonicalForms.get(remote);
  if (client === undefined) {
    client = parseAddress(remote)?.toString() ?? remote;
    if (canonicalForms.size >= MAX_CANONICAL_FORMS) canonicalForms.clear();
    canonicalForms.set(remote, client);
  }
  return client;
}

const canonicalForms = new Map<string, string>();
/** Past this many peers the cache starts again: a scan from many addresses cannot grow it. */
const MAX_CANONICAL_FORMS = 1024;

/**
 * Walk `X-Forwarded-For` from the right past trusted proxies: the first
 * untrusted hop, the last trusted one when all are, or `undefined` when
 * the first hop read is not an address.
 */
function forwardedClient(forwardedFor: string, trustedProxies: AddressList): string | undefined {
  const hops = forwardedFor.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "");
  let client: string | undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseAddress(stripPort(hops[i]));
    if (!hop) return client;
    client = hop.toString();
    if (!trustedProxies.has(client)) return client;
  }
  return client;
}

/** `192.0.2.1:4711` and `[2001:db8::1]:4711` lose the port; bare addresses stay. */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return v4 ? v4[1] : hop;
}
