/**
 * The HTTP layer: the public app that turns a request into a verified,
 * stored delivery or a precise refusal (Content-Length checked before the
 * body is read, one log record per request, `HttpError` mapped once), and
 * the admin app on its private listener.
 *
 * Promises: no client mistake is answered 500; no secret, signature or body
 * reaches a log line. Must not import `lib/dispatch/`, `lib/cli/` or
 * `lib/daemon.ts`: it hands deliveries to intake and never knows how hooks
 * run.
 *
 * @module
 */

export { type AppDeps, createApp, type Endpoint } from "./app.ts";
export { type AdminDeps, createAdminApp, type HealthReport, probeWritable } from "./admin_app.ts";
export { endLine, type OutputSource } from "./output_stream.ts";
export { HttpError, type HttpErrorOptions } from "./http_error.ts";
export {
  type Accept,
  type Accepted,
  createIntake,
  type HookOutput,
  type IntakeOptions,
  type NewDelivery,
} from "./intake.ts";
export { createRateLimiter, type RateLimiter } from "./rate_limit.ts";
