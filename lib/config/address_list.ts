/**
 * Source-address lists as the admin writes them (`HOOKD_<NAME>_ALLOW_FROM`,
 * `HOOKD_TRUSTED_PROXIES`): parsed strictly (dotted-quad IPv4, standard
 * IPv6) so a typo is a configuration error, not a silently wider range.
 * Parsing, canonical text and matching are `node:net`'s (no CommonJS
 * package on the start path: its loader alone costs ~10 ms and ~4 MB).
 *
 * @module
 */

import { BlockList, isIPv4, SocketAddress } from "node:net";

/** A parsed list of addresses and CIDR ranges. */
export interface AddressList {
  /** The ranges in canonical `address/bits` form, in the order given. */
  readonly ranges: readonly string[];
  /**
   * Whether an address is in one of the ranges. IPv4-mapped IPv6 addresses
   * (`::ffff:192.0.2.1`, what a dual-stack listener reports) count as IPv4;
   * anything unparsable is not in the list.
   */
  has(address: string): boolean;
  /**
   * Whether the list names `unix`: a proxy connected over hookd's unix
   * socket (`HOOKD_LISTEN=unix:…`); only lists parsed with `unix: true` may.
   */
  readonly unix: boolean;
}

/** Options for {@linkcode parseAddressList}. */
export interface AddressListOptions {
  /** Accept the word `unix` for the peer on a unix socket (`HOOKD_TRUSTED_PROXIES`). */
  unix?: boolean;
}

/**
 * Parse a comma- or space-separated list of addresses and CIDR ranges,
 * IPv4 and IPv6. A bare address is a single host (`/32`, `/128`).
 *
 * @param value the variable's value, e.g. `192.30.252.0/22, 2606:50c0::/32`
 * @param options whether `unix` may be listed
 * @throws {RangeError} naming the variable, the bad entry and the fix: an
 *   entry that is not an address or range, a range with host bits set
 *   (`10.0.0.1/8`, likely meant `/32`), or an empty list
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAddressList } from "./address_list.ts";
 * const list = parseAddressList("192.30.252.0/22, 2606:50c0::/32", "HOOKD_GITHUB_ALLOW_FROM");
 * assert.ok(list.has("192.30.253.1") && list.has("::ffff:192.30.253.1"));
 * assert.ok(!list.has("203.0.113.9"));
 * ```
 */
export function parseAddressList(
  value: string,
  variable: string,
  options: AddressListOptions = {},
): AddressList {
  const all = value.split(/[\s,]+/).filter((entry) => entry !== "");
  const unix = options.unix === true && all.includes("unix");
  const entries = options.unix ? all.filter((entry) => entry !== "unix") : all;
  if (entries.length === 0 && !unix) {
    throw new RangeError(
      `${variable} is empty: list addresses or CIDR ranges, e.g. 192.0.2.0/24, 2001:db8::/32, or remove the line`,
    );
  }
  const list = new BlockList();
  const ranges = entries.map((entry) => {
    const [address, bits] = parseRange(entry, variable);
    list.addSubnet(address, bits, family(address));
    return `${address}/${bits}`;
  });
  return {
    ranges,
    unix,
    has(address) {
      const parsed = parseAddress(address)?.replace(/%.*/, "");
      return parsed !== undefined && list.check(parsed, family(parsed));
    },
  };
}

/**
 * Parse one address strictly, in canonical text (RFC 5952 for IPv6, a zone
 * kept), an IPv4-mapped IPv6 address as its IPv4 address.
 *
 * @param text an address such as `192.0.2.1`, `2001:db8::1` or `fe80::1%eth0`
 * @returns the canonical address, or `undefined` when it is not one
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAddress } from "./address_list.ts";
 * assert.equal(parseAddress("2001:DB8:0::1"), "2001:db8::1");
 * assert.equal(parseAddress("::ffff:c000:201"), "192.0.2.1");
 * assert.equal(parseAddress("0300.0.0.1"), undefined);
 * ```
 */
export function parseAddress(text: string): string | undefined {
  const trimmed = text.trim();
  if (isIPv4(trimmed)) return trimmed;
  const [address, zone, more] = trimmed.split("%");
  if (!address.includes(":") || zone === "" || more !== undefined) return undefined;
  let canonical: string;
  try {
    canonical = new SocketAddress({ address, family: "ipv6" }).address;
  } catch {
    return undefined;
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical);
  if (mapped) return mapped[1];
  return zone === undefined ? canonical : `${canonical}%${zone}`;
}

function family(address: string): "ipv4" | "ipv6" {
  return isIPv4(address) ? "ipv4" : "ipv6";
}

function parseRange(entry: string, variable: string): [string, number] {
  const slash = entry.indexOf("/");
  const addressText = slash === -1 ? entry : entry.slice(0, slash);
  const bitsText = slash === -1 ? undefined : entry.slice(slash + 1);
  const address = addressText.includes("%") ? undefined : parseAddress(addressText);
  const max = address === undefined || isIPv4(address) ? 32 : 128;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!address || !(bits >= 0 && bits <= max)) {
    throw new RangeError(
      `${variable} has "${entry}", not an address or CIDR range: write e.g. 192.0.2.0/24 or 2001:db8::/32`,
    );
  }
  const network = networkAddress(address, bits);
  if (network !== address) {
    throw new RangeError(
      `${variable} has "${entry}", whose address has bits set beyond /${bits}: write ${network}/${bits} for the range, or ${address}/${max} for the one address`,
    );
  }
  return [address, bits];
}

/**
 * The first address of the range `address/bits`, in canonical text.
 *
 * @param address a canonical address from {@linkcode parseAddress}, without a zone
 * @param bits the prefix length, at most 32 for IPv4 and 128 for IPv6
 * @returns e.g. `2001:db8:1:2::` for `2001:db8:1:2::5` and 64
 */
export function networkAddress(address: string, bits: number): string {
  const v4 = isIPv4(address);
  // Canonical IPv6 text is hex groups with at most one `::` (mapped addresses are IPv4 here).
  const [head, tail] = address.split("::");
  const groups = (text: string | undefined) => text ? text.split(v4 ? "." : ":") : [];
  const gap = tail === undefined ? 0 : 8 - groups(head).length - groups(tail).length;
  const parts = [...groups(head), ...Array(gap).fill("0"), ...groups(tail)];
  const [width, total] = v4 ? [8n, 32n] : [16n, 128n];
  const value = parts.reduce((sum, part) => (sum << width) | BigInt(v4 ? part : `0x${part}`), 0n);
  const host = total - BigInt(bits);
  const network = (value >> host) << host;
  const out = parts.map((_, i) =>
    ((network >> (total - width * BigInt(i + 1))) & ((1n << width) - 1n)).toString(v4 ? 10 : 16)
  );
  return v4 ? out.join(".") : parseAddress(out.join(":"))!;
}
