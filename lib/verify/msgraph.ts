/**
 * Microsoft Graph change notifications: Graph signs nothing, so the secret is
 * the subscription's `clientState`, checked on every notification of a batch;
 * the `?validationToken=` POST is echoed. As the secret is in the body, the
 * hook and the store get the batch with each `clientState` `[redacted]`
 * (re-serialized), and the unauthenticated body gets only bounded work: one
 * nested deeper than {@linkcode MAX_DEPTH} is refused by a linear scan.
 *
 * @module
 */

import type {
  HandshakeInput,
  HandshakeReply,
  Provider,
  Rejected,
  Verdict,
  VerifyInput,
} from "./types.ts";
import { isRejected, malformed, parseJsonBody, readPath, unauthorized } from "./_payload.ts";
import { echoChallenge, queryOf } from "./_handshake.ts";
import { verifiedBy } from "./_hmac.ts";
import { matchToken, prepareTokenCheck, type TokenCheck } from "./token.ts";
import { nestedDeeperThan } from "./json_depth.ts";

const encoder = new TextEncoder();

/** Graph's endpoint validation: a POST with `validationToken`; anything else is a delivery. */
function msgraphHandshake(input: HandshakeInput): Promise<HandshakeReply | Rejected | undefined> {
  const query = queryOf(input.url);
  return Promise.resolve(
    input.method === "POST" && query.has("validationToken")
      ? echoChallenge(query.get("validationToken"), "validation", "validationToken")
      : undefined,
  );
}

function batchEvent(notifications: readonly unknown[]): string {
  const lifecycle = new Set(notifications.map((n) => readPath(n, "lifecycleEvent")));
  const changes = new Set(notifications.map((n) => readPath(n, "changeType")));
  if (!lifecycle.has(undefined)) {
    const [only] = lifecycle;
    return lifecycle.size === 1 ? `lifecycle.${only}` : "lifecycle";
  }
  if (lifecycle.size > 1) return "notifications";
  const [only] = changes;
  return changes.size === 1 && only !== undefined ? `change.${only}` : "change";
}

/**
 * How deep a notification batch may nest: Graph's own are a few levels
 * (`value[].resourceData.…`); rich notifications add a few more.
 */
export const MAX_DEPTH = 32;

/** `verifiedBy` is `previous secret` when any notification carries the previous value. */
async function verifyMsgraph(input: VerifyInput, check: TokenCheck): Promise<Verdict> {
  // The secret is inside the body, so it is parsed before anything is
  // authenticated: the depth scan keeps a nested body as cheap as a flat one.
  const deep = nestedDeeperThan(input.body, MAX_DEPTH);
  if (deep) return malformed(`body is nested deeper than ${MAX_DEPTH} levels`);
  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const notifications = (parsed.value as { value?: unknown } | null)?.value;
  if (!Array.isArray(notifications) || notifications.length === 0) {
    return malformed("payload has no notifications in value");
  }
  let worst = 0;
  for (const notification of notifications) {
    const state = (notification as { clientState?: unknown } | null)?.clientState;
    if (typeof state !== "string") return unauthorized("missing clientState", "rejected.token");
    const index = await matchToken(check, state);
    if (index < 0) return unauthorized("invalid clientState", "rejected.token");
    worst = Math.max(worst, index);
  }
  const redacted = {
    ...parsed.value as Record<string, unknown>,
    value: notifications.map((n) => ({ ...n, clientState: "[redacted]" })),
  };
  return {
    ok: true,
    event: batchEvent(notifications),
    verifiedBy: verifiedBy(worst),
    // The shared secret travels in the body: whoever captured one can forge any.
    replayKey: null,
    payload: encoder.encode(JSON.stringify(redacted)),
    contentType: "application/json",
  };
}

/** The `msgraph` provider. */
export const msgraph: Provider = {
  name: "msgraph",
  summary:
    "Microsoft Graph change notifications: clientState is the secret; answers the validationToken POST",
  secret: "required",
  settings: {},
  async create(endpoint) {
    const check = await prepareTokenCheck(endpoint.secrets);
    const verify = (input: VerifyInput) => verifyMsgraph(input, check);
    return Object.assign(verify, { handshake: msgraphHandshake });
  },
};
