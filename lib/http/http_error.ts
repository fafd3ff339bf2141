/**
 * The one error type the request path throws; `app.onError` maps it to a
 * response, so every refusal has a precise status and a short message.
 *
 * @module
 */

import type { RequestOutcome } from "../metrics.ts";

/** Options for {@linkcode HttpError}. */
export interface HttpErrorOptions {
  /** Extra response headers, e.g. `Allow` or `Retry-After`. */
  headers?: Record<string, string>;
  /** The log outcome, e.g. `rejected.signature`; defaults to `rejected`. */
  outcome?: RequestOutcome;
  /** Why, for the log only; never sent to the client. */
  cause?: unknown;
}

/**
 * An error that carries the HTTP status to answer with. Its message is sent
 * to the client, so it must never hold a secret or an expected signature.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./http_error.ts";
 * const err = new HttpError(413, "Body exceeds 1048576 bytes", { outcome: "rejected.too_large" });
 * assert.equal(err.status, 413);
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status code. */
  readonly status: number;
  /** Extra headers for the response. */
  readonly headers: Record<string, string>;
  /** The outcome recorded in the request log. */
  readonly outcome: RequestOutcome;

  constructor(status: number, message: string, options: HttpErrorOptions = {}) {
    // A refusal is an answer, not a fault: no stack trace is captured (it cost about 2% of
    // the wrong-signature path's CPU, and nothing reads it).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, { cause: options.cause });
    Error.stackTraceLimit = limit;
    this.name = "HttpError";
    this.status = status;
    this.headers = options.headers ?? {};
    this.outcome = options.outcome ?? "rejected";
  }
}
