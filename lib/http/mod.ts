/**
 * The HTTP layer: the public app that turns a request into a verified,
 * stored delivery or a precise refusal, and the admin app on its private
 * listener. No client mistake is answered 500; no secret, signature or body
 * reaches a log line. Must not import `lib/dispatch/`, `lib/cli/` or
 * `lib/daemon.ts`: it hands deliveries to intake and never knows how hooks run.
 *
 * @module
 */

export { createApp, type Endpoint } from "./app.ts";
export { createAdminApp, probeWritable } from "./admin_app.ts";
export { endLine, type OutputSource } from "./output_stream.ts";
export { createIntake } from "./intake.ts";
export { createRateLimiter } from "./rate_limit.ts";
