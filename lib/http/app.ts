/**
 * The HTTP app: `POST /hooks/:name` through the body limit, the endpoint's
 * verifier and the hook table, answered as soon as the delivery is handed
 * to the dispatcher; a sender's handshake (Meta's or Dropbox's GET) is
 * answered by the provider before any body is read. Built by a factory so
 * tests can call `app.request()`.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import { clientAddress, unixClientAddress } from "./allow_from.ts";
import { bodyLimit, type BodyLimitVariables } from "./body_limit.ts";
import {
  type Config,
  type EndpointConfig,
  eventNameProblem,
  filterMiss,
  pickHook,
} from "../config/mod.ts";
import { HttpError } from "./http_error.ts";
import type { RequestObservation, RequestOutcome } from "../metrics.ts";
import { type Accept, credentialHeaders, type HookOutput, storedHeaders } from "./intake.ts";
import { requestLog } from "../log/mod.ts";
import { type RateLimiter, rateLimitKey } from "./rate_limit.ts";
import type { Accepted, Verify } from "../verify/mod.ts";
import { type OutputSource, plainOutputResponse } from "./output_stream.ts";

/** An endpoint ready to serve: its resolved settings and its verify function (keys imported). */
export interface Endpoint {
  config: EndpointConfig;
  verify: Verify;
}

/** What the app needs from the rest of the daemon. */
export interface AppDeps {
  /** The endpoints by name. */
  endpoints: ReadonlyMap<string, Endpoint>;
  /** Take a delivery; resolves once it is safely queued. */
  accept: Accept;
  /**
   * Wait for a delivery's hook to finish, for endpoints with
   * `_RESPOND=output`; rejects when `signal` fires first.
   */
  waitForRun?(id: string, signal: AbortSignal): Promise<HookOutput>;
  /** The live output, for endpoints with `_RESPOND=stream`. */
  output?: OutputSource;
  /** Per-client request budget, kept across reloads. */
  rateLimiter?: RateLimiter;
  /** Told about every request record (for metrics); must not throw. */
  onRequest?: (record: RequestObservation) => void;
  /** The clock, for tests. */
  now?: () => number;
}

/** What the request record says beyond method, path, status and timing. */
interface RequestFields {
  endpoint?: string;
  outcome?: RequestOutcome;
  reason?: string;
  bytes?: number;
  event?: string;
  verifiedBy?: Accepted["verifiedBy"];
  sourceId?: string;
  id?: string;
  hook?: string | null;
  /** For a filtered delivery: the filter's variable and the condition that failed. */
  filtered?: string;
}

/** The per-request values the log record is built from. */
interface RequestVariables extends BodyLimitVariables {
  fields: RequestFields;
  client: string | undefined;
  endpoint: Endpoint;
}

type Env = {
  Variables: RequestVariables;
  Bindings: { remoteAddr?: Deno.NetAddr | Deno.UnixAddr };
};

const log = requestLog();

/** Build the public app; serve it with `Deno.serve(app.fetch)`. */
export function createApp(config: Config, deps: AppDeps): Hono<Env> {
  const now = deps.now ?? Date.now;
  // Per endpoint, once: the headers whose values are credentials, never stored.
  const redact = new Map(
    [...deps.endpoints.values()].map(({ config }) => [
      config.name,
      credentialHeaders(config.settings),
    ]),
  );
  const app = new Hono<Env>();

  app.use(async function requestRecord(c, next) {
    const started = performance.now();
    const fields: RequestFields = {};
    c.set("fields", fields);
    const peer = c.env?.remoteAddr;
    const forwardedFor = c.req.header("x-forwarded-for");
    const unix = peer?.transport === "unix";
    const remote = unix ? "unix" : peer && "hostname" in peer ? peer.hostname : undefined;
    const client = unix
      ? unixClientAddress(forwardedFor, config.trustedProxies)
      : remote === undefined
      ? undefined
      : clientAddress(remote, forwardedFor, config.trustedProxies);
    c.set("client", client);
    await next();
    const status = c.res.status;
    const record = {
      method: c.req.method,
      path: c.req.path.slice(0, 200),
      remote: client,
      ...(client !== remote ? { peer: remote } : {}),
      status,
      outcome: fields.outcome ?? (status < 400 ? "accepted" : "rejected") as RequestOutcome,
      ...fields,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    };
    if (status >= 500) log.error("request", record);
    else if (status >= 400) log.warn("request", record);
    else log.info("request", record);
    deps.onRequest?.({
      endpoint: fields.endpoint,
      outcome: record.outcome,
      bytes: fields.bytes,
    });
  });

  if (deps.rateLimiter) {
    const limiter = deps.rateLimiter;
    app.use(function rateLimit(c, next) {
      const client = c.get("client");
      if (client === undefined) return next();
      const verdict = limiter.take(rateLimitKey(client), performance.now());
      if (!verdict.ok) {
        throw new HttpError(429, "Too many requests: retry later", {
          headers: { "Retry-After": String(verdict.retryAfterSeconds) },
          outcome: "rejected.rate_limited",
        });
      }
      return next();
    });
  }

  app.onError(function mapError(error, c) {
    const fields = c.get("fields") ?? {};
    if (error instanceof HttpError) {
      fields.outcome = error.outcome;
      fields.reason = error.message;
      return c.json(
        { error: error.message },
        error.status as ContentfulStatusCode,
        error.headers,
      );
    }
    fields.outcome = "error";
    fields.reason = error instanceof Error ? error.message : String(error);
    return c.json({ error: "Internal error" }, 500);
  });

  app.notFound(function notFound(c) {
    c.get("fields").outcome = "rejected.not_found";
    return c.json({ error: "Not found" }, 404);
  });

  app.all(
    "/hooks/:name",
    async function endpointGate(c, next) {
      const endpoint = deps.endpoints.get(c.req.param("name"));
      if (!endpoint) {
        throw new HttpError(404, "Unknown endpoint", { outcome: "rejected.not_found" });
      }
      c.get("fields").endpoint = endpoint.config.name;
      c.set("endpoint", endpoint);
      const client = c.get("client");
      const allowed = endpoint.config.allowFrom;
      if (allowed && (client === undefined || !allowed.has(client))) {
        throw new HttpError(403, "Address not allowed", { outcome: "rejected.forbidden" });
      }
      const handshake = endpoint.verify.handshake;
      const answer = handshake &&
        await handshake({
          method: c.req.method,
          url: c.req.url,
          headers: c.req.raw.headers,
          now: now(),
        });
      if (answer && !answer.ok) {
        throw new HttpError(answer.status, capitalize(answer.reason), { outcome: answer.outcome });
      }
      if (answer) {
        // The challenge is echoed, never logged: the record names the handshake.
        Object.assign(c.get("fields"), { outcome: "answered", event: answer.event });
        return c.body(answer.body, answer.status, answer.headers);
      }
      if (c.req.method !== "POST") {
        throw new HttpError(405, "Method not allowed: use POST", {
          headers: { Allow: "POST" },
          outcome: "rejected.method",
        });
      }
      return next();
    },
    bodyLimit({ maxBytes: config.maxBodyBytes }),
    async function deliver(c) {
      const endpoint = c.get("endpoint");
      const fields = c.get("fields");
      const body = c.get("body");
      fields.bytes = body.byteLength;
      const verdict = await endpoint.verify({
        headers: c.req.raw.headers,
        body,
        now: now(),
        url: c.req.url,
      });
      if (!verdict.ok) {
        throw new HttpError(verdict.status, capitalize(verdict.reason), {
          outcome: verdict.outcome,
        });
      }
      fields.event = verdict.event.slice(0, 200);
      // Before any lookup: the name usually comes from a header nobody signed.
      const problem = eventNameProblem(verdict.event);
      if (problem) {
        throw new HttpError(400, capitalize(problem), { outcome: "rejected.malformed" });
      }
      fields.verifiedBy = verdict.verifiedBy;
      if (verdict.deliveryId) fields.sourceId = verdict.deliveryId.slice(0, 200);
      if (verdict.reply) {
        fields.outcome = "answered";
        const { status, body } = verdict.reply;
        if (body === null) return c.body(null, status as StatusCode);
        if (typeof body === "string") return c.text(body, status as ContentfulStatusCode);
        return c.json(body, status as ContentfulStatusCode);
      }
      const hook = pickHook(endpoint.config, verdict.event);
      const headers = storedHeaders(c.req.raw.headers, {
        redact: redact.get(endpoint.config.name),
      });
      // Filters read what is stored, so that a replay judges the same fields;
      // what verify parsed of it is handed on, not parsed again.
      const filtered = hook
        ? filterMiss(endpoint.config, verdict.event, {
          body: verdict.payload,
          contentType: verdict.contentType,
          headers,
          parsed: verdict.parsed,
        })
        : undefined;
      const { id, duplicate, event: storedEvent } = await deps.accept({
        endpoint: endpoint.config.name,
        event: verdict.event,
        sourceId: verdict.deliveryId,
        hook: hook?.command ?? null,
        filteredBy: filtered,
        body: verdict.payload,
        contentType: verdict.contentType,
        headers,
        receivedAt: now(),
        timeoutMs: endpoint.config.timeoutMs,
        verifiedBy: verdict.verifiedBy,
        replayHash: verdict.replayKey && endpoint.config.dedupeBody
          ? await sha256Hex(verdict.replayKey)
          : undefined,
      });
      fields.id = id;
      fields.hook = hook?.variable ?? null;
      const answer = {
        id,
        endpoint: endpoint.config.name,
        event: verdict.event,
        hook: hook?.variable ?? null,
      };
      if (duplicate) {
        fields.outcome = "duplicate";
        // What is stored, not what this request's (unsigned) event header says.
        const event = storedEvent ?? verdict.event;
        const storedHook = event === verdict.event ? hook : pickHook(endpoint.config, event);
        return c.json(
          { ...answer, event, hook: storedHook?.variable ?? null, duplicate: true },
          200,
        );
      }
      const success = endpoint.config.successStatus;
      if (filtered !== undefined) {
        fields.outcome = "filtered";
        fields.filtered = filtered;
        return answerAccepted(c, { ...answer, filtered }, success);
      }
      fields.outcome = hook ? "accepted" : "ignored";
      if (hook && endpoint.config.respond === "stream" && deps.output) {
        // Stored already: the caller going away from here on stops only its own stream.
        const first =
          `hookd: stored ${id} (${endpoint.config.name} ${verdict.event}), hook ${hook.variable}`;
        c.header("X-Hookd-Delivery", id);
        return plainOutputResponse(c, deps.output, id, first);
      }
      if (hook && endpoint.config.respond === "output" && deps.waitForRun) {
        // The hook's own limit plus its kill grace: past that the run is over.
        const signal = AbortSignal.timeout(endpoint.config.timeoutMs + 10_000);
        let run: HookOutput;
        try {
          run = await deps.waitForRun(id, signal);
        } catch {
          fields.outcome = "accepted.pending";
          return answerAccepted(c, { ...answer, pending: true }, success);
        }
        fields.outcome = run.success ? "hook.succeeded" : "hook.failed";
        return c.json({ ...answer, ...run }, run.success ? 200 : 502);
      }
      return answerAccepted(c, answer, success);
    },
  );

  return app;
}

/** An accepted delivery's answer: the endpoint's success status, without a body for 204. */
function answerAccepted(
  c: Context<Env>,
  answer: Record<string, unknown>,
  status: 200 | 202 | 204,
): Response {
  return status === 204 ? c.body(null, 204) : c.json(answer, status);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The hex SHA-256 of what a sender signed, the key under which a replay is a duplicate. */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>))
    .toHex();
}
