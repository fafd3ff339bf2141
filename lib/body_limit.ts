/**
 * Refuse what is too big before reading it, and never read more than the
 * limit whatever the headers claim.
 *
 * Hono ships a `bodyLimit` middleware, but it had two advisories in this
 * very place (CVE-2025-59139, GHSA-9vqf-7f2p-gf9v), and hookd needs the
 * bytes anyway to verify the signature: so the count is our own, and the
 * body is read exactly once, here.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { HttpError } from "./http_error.ts";

/** Options for {@linkcode bodyLimit}. */
export interface BodyLimitOptions {
  /** The largest body accepted, in bytes. */
  maxBytes: number;
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
 * - a body that breaks off: 400.
 *
 * @param options the limit
 * @returns the middleware
 * @throws {RangeError} when `maxBytes` is not a positive whole number
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { bodyLimit, type BodyLimitVariables } from "./body_limit.ts";
 * const app = new Hono<{ Variables: BodyLimitVariables }>();
 * app.post("/", bodyLimit({ maxBytes: 1024 }), (c) => c.text(`${c.get("body").length}`));
 * ```
 */
export function bodyLimit(
  options: BodyLimitOptions,
): MiddlewareHandler<{ Variables: BodyLimitVariables }> {
  const { maxBytes } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`bodyLimit: maxBytes must be a positive whole number, got ${maxBytes}`);
  }
  return async function bodyLimitMiddleware(c, next) {
    const declared = declaredLength(c.req.raw.headers);
    if (declared !== undefined && declared > maxBytes) throw tooLarge(maxBytes);
    c.set("body", await readBounded(c.req.raw, maxBytes));
    await next();
  };
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `Body exceeds ${maxBytes} bytes`, {
    outcome: "rejected.too_large",
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

async function readBounded(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, "Body could not be read to its end", {
      outcome: "rejected.incomplete",
      cause: error,
    });
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
