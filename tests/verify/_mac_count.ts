/**
 * Counting MAC computations instead of timing them: a spy on WebCrypto's
 * `sign` and `verify` that counts the HMAC calls made while it is in
 * place. It sits at the WebCrypto boundary, so every MAC is counted
 * whichever helper computes it, and production code carries no counter.
 *
 * @module
 */

/** A running count of HMAC computations; restores WebCrypto on dispose. */
export interface MacCount extends Disposable {
  /** The HMAC `sign` and `verify` calls made since {@linkcode countMacs}. */
  readonly count: number;
}

function isHmac(algorithm: unknown): boolean {
  const name = typeof algorithm === "string"
    ? algorithm
    : (algorithm as { name?: unknown } | null)?.name;
  return typeof name === "string" && name.toUpperCase() === "HMAC";
}

/**
 * Count HMAC computations until disposed (`using macs = countMacs()`).
 * Tests in one file run one at a time, so the global spy sees only the
 * code under test.
 *
 * @returns the count
 * @throws {Error} when a count is already running
 */
export function countMacs(): MacCount {
  const subtle = crypto.subtle;
  if (Object.hasOwn(subtle, "sign") || Object.hasOwn(subtle, "verify")) {
    throw new Error("countMacs() is already counting");
  }
  const sign = subtle.sign;
  const verify = subtle.verify;
  let count = 0;
  Object.defineProperty(subtle, "sign", {
    configurable: true,
    value(...args: Parameters<SubtleCrypto["sign"]>) {
      if (isHmac(args[0])) count++;
      return sign.apply(subtle, args);
    },
  });
  Object.defineProperty(subtle, "verify", {
    configurable: true,
    value(...args: Parameters<SubtleCrypto["verify"]>) {
      if (isHmac(args[0])) count++;
      return verify.apply(subtle, args);
    },
  });
  return {
    get count() {
      return count;
    },
    [Symbol.dispose]() {
      delete (subtle as unknown as Record<string, unknown>).sign;
      delete (subtle as unknown as Record<string, unknown>).verify;
    },
  };
}
