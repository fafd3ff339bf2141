/**
 * Source-address lists as the admin writes them (`HOOKD_<NAME>_ALLOW_FROM`,
 * `HOOKD_TRUSTED_PROXIES`): parsed strictly (dotted-quad IPv4, standard
 * IPv6) so a typo is a configuration error, not a silently wider range.
 *
 * @module
 */

import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

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
 * @param variable the variable's name, for error messages
 * @param options whether `unix` may be listed
 * @returns the list
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
  const ranges = entries.map((entry) => parseRange(entry, variable));
  return {
    ranges: ranges.map(([address, bits]) => `${address.toString()}/${bits}`),
    unix,
    has(address) {
      const parsed = parseAddress(address);
      if (!parsed) return false;
      return ranges.some(([range, bits]) =>
        range.kind() === parsed.kind() && parsed.match(range, bits)
      );
    },
  };
}

/**
 * Parse one address strictly, IPv4-mapped IPv6 turned into IPv4.
 *
 * @param text an address such as `192.0.2.1`, `2001:db8::1` or `fe80::1%eth0`
 * @returns the address, or `undefined` when it is not one
 */
export function parseAddress(text: string): Address | undefined {
  const trimmed = text.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(trimmed)) return ipaddr.IPv4.parse(trimmed);
  if (trimmed.includes(":") && ipaddr.IPv6.isValid(trimmed)) {
    return ipaddr.process(trimmed);
  }
  return undefined;
}

function parseRange(entry: string, variable: string): [Address, number] {
  const slash = entry.indexOf("/");
  const addressText = slash === -1 ? entry : entry.slice(0, slash);
  const bitsText = slash === -1 ? undefined : entry.slice(slash + 1);
  const address = addressText.includes("%") ? undefined : parseAddress(addressText);
  const max = address?.kind() === "ipv6" ? 128 : 32;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!address || !(bits >= 0 && bits <= max)) {
    throw new RangeError(
      `${variable} has "${entry}", not an address or CIDR range: write e.g. 192.0.2.0/24 or 2001:db8::/32`,
    );
  }
  const network = networkAddress(address, bits);
  if (network.toString() !== address.toString()) {
    throw new RangeError(
      `${variable} has "${entry}", whose address has bits set beyond /${bits}: write ${network.toString()}/${bits} for the range, or ${address.toString()}/${max} for the one address`,
    );
  }
  return [address, bits];
}

function networkAddress(address: Address, bits: number): Address {
  return address.kind() === "ipv4"
    ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${bits}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${bits}`);
}
