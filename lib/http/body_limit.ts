/**
 * Refuse what is too big before reading it, and never read more than the
 * limit whatever the headers claim. Not Hono's `bodyLimit`: it had two
 * advisories in this very place (CVE-2025-59139, GHSA-9vqf-7f2p-gf9v), and
 * hookd needs the bytes anyway to verify the signature, so the body is read
 * exactly once, here.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { HttpError } from "./http_error.ts";

/** Options for {@linkcode bodyLimit}. */
export interface BodyLimitOptions {
  /** The largest body accepted, in bytes. */
  maxBytes: number;
  /**
   * The longest the whole body may take to arrive, in milliseconds; default
   * 30 000. For the whole body, not per read, so a sender that drips one
   * byte at a time cannot hold a request open forever.
   */
  timeoutMs?: number;
}

/** The context variable the middleware sets. */
export interface BodyLimitVariables {
  /** The raw body, read once and bounded. */
  body: Uint8Array;
}

/**
 * A middleware that reads the body once, bounded, into `c.get("body")`.
 *
 * - a malformed or repeated `Content-Length`, or one sent with
 *   `Transfer-Encoding`: 400, before reading;
 * - a declared length over the limit: 413, before reading one byte;
 * - a body that grows past the limit while read: 413 at limit+1 bytes;
 * - a body that breaks off: 400;
 * - a body still incomplete `timeoutMs` after the read began: 408.
 *
 * @throws {RangeError} when `maxBytes` is not a positive whole number
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { bodyLimit, type BodyLimitVariables } from "./body_limit.ts";
 * import { HttpError } from "./http_error.ts";
 * const app = new Hono<{ Variables: BodyLimitVariables }>();
 * app.post("/", bodyLimit({ maxBytes: 4 }), (c) => c.text(`${c.get("body").length}`));
 * app.onError((err) => new Response(null, { status: err instanceof HttpError ? err.status : 500 }));
 * assert.equal(await (await app.request("/", { method: "POST", body: "abc" })).text(), "3");
 * assert.equal((await app.request("/", { method: "POST", body: "abcde" })).status, 413);
 * ```
 */
export function bodyLimit(
  options: BodyLimitOptions,
): MiddlewareHandler<{ Variables: BodyLimitVariables }> {
  const { maxBytes, timeoutMs = 30_000 } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`bodyLimit: maxBytes must be a positive whole number, got ${maxBytes}`);
  }
  return async function bodyLimitMiddleware(c, next) {
    const declared = declaredLength(c.req.raw.headers);
    if (declared !== undefined && declared > maxBytes) throw tooLarge(maxBytes);
    c.set("body", await readBounded(c.req.raw, maxBytes, timeoutMs, declared));
    await next();
  };
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `Body exceeds ${maxBytes} bytes`, { outcome: "rejected.too_large" });
}

function tooSlow(timeoutMs: number): HttpError {
  return new HttpError(408, `Body not received within ${timeoutMs} ms`, {
    outcome: "rejected.timeout",
  });
}

function incomplete(cause: unknown): HttpError {
  return new HttpError(400, "Body could not be read to its end", {
    outcome: "rejected.incomplete",
    cause,
  });
}

function declaredLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  if (value === null) return undefined;
  if (headers.has("transfer-encoding")) {
    throw new HttpError(400, "Content-Length and Transfer-Encoding are both set", {
      outcome: "rejected.malformed",
    });
  }
  if (!/^\d+$/.test(value.trim())) {
    throw new HttpError(400, "Malformed Content-Length", { outcome: "rejected.malformed" });
  }
  return Number(value);
}

async function readBounded(
  request: Request,
  maxBytes: number,
  timeoutMs: number,
  declared: number | undefined,
): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  // Most bodies arrive in one read, kept as it is. Later reads are copied into one buffer,
  // never kept: each is a view of its own 64 KiB buffer, and 100,000 one-byte chunks kept as a
  // list cost a daemon 4.8 GB. (Deno 2.9's BYOB reader stalls when the view left is tiny.)
  let first: Uint8Array | null = null;
  let buffer: Uint8Array | null = null;
  let total = 0;
  let timedOut = false;
  // Cancelling ends the pending read at once (done), so no race is needed:
  // a race per read would pile reactions onto one promise for every chunk.
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (timedOut) throw tooSlow(timeoutMs);
      if (done) break;
      const size = total + value.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      if (first === null) {
        first = value;
      } else {
        if (buffer === null || size > buffer.byteLength) {
          buffer = grow(buffer ?? first, total, size, maxBytes);
        }
        buffer.set(value, total);
      }
      total = size;
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    if (error instanceof HttpError) throw error;
    throw timedOut ? tooSlow(timeoutMs) : incomplete(error);
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  // Deno's HTTP server frames a body by its Content-Length; only a Request built in-process can
  // end with fewer bytes than it declared.
  if (declared !== undefined && total !== declared) {
    throw new HttpError(400, "Body length does not match Content-Length", {
      outcome: "rejected.malformed",
    });
  }
  return buffer?.subarray(0, total) ?? first ?? new Uint8Array(0);
}

/** A new buffer with the `used` bytes of `old`: room for `wanted` or twice `used`, ≤ `max`. */
function grow(old: Uint8Array, used: number, wanted: number, max: number): Uint8Array {
  const next = new Uint8Array(Math.min(max, Math.max(wanted, used * 2, 16_384)));
  next.set(old.subarray(0, used));
  return next;
}
