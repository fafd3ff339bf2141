/**
 * Senders that write `key=value` entries in one header (Stripe `t=…,v1=…`,
 * Paddle `ts=…;h1=…`, Calendly, Mux; PagerDuty and CircleCI sign no time), each
 * signature the hex HMAC-SHA256 of `<timestamp><joiner><body>`. Event and
 * delivery id come from the signed body, so only a body without an id has a
 * replay key.
 *
 * @module
 */

import type { Provider, Rejected, Verdict, VerifyInput } from "./types.ts";
import {
  decodeAll,
  importHmacKeys,
  signedBytes,
  signEncoded,
  tooManySignatures,
  verifiedBy,
  verifyAnyHmac,
} from "./_hmac.ts";
import {
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
  unlessSignedId,
  withAction,
} from "./_payload.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

/** How one sender writes its signature header and names its deliveries. */
export interface PairHeaderScheme {
  name: string;
  /** One line for `hookd help`. */
  summary: string;
  /** The header as reasons and `hookd sign` write it, e.g. `Stripe-Signature`. */
  header: string;
  /** What separates entries: `,` or `;`. */
  separator: string;
  /** The signed timestamp's key and what joins it to the body; absent when none is signed. */
  timestamp?: { key: string; joiner: string };
  /** The key of the signature entries, e.g. `v1`. */
  signature: string;
  /** Dotted path to the event name in the body. */
  event: string;
  /** Add the body's `action` to the event (see `withAction`). */
  withAction?: boolean;
  /** Dotted path to the delivery id in the body; absent when the sender sends none. */
  deliveryId?: string;
  /** Report the content type the sender sent rather than `application/json`. */
  keepContentType?: boolean;
  /**
   * Calendly's reading: entries without `=` are skipped, keys and values
   * are trimmed, the last timestamp wins, and a header without a timestamp
   * or a good signature is `malformed`, a timestamp that is not whole
   * seconds `malformed timestamp`. Otherwise any entry without `=`, or a
   * missing, repeated or non-numeric timestamp, makes the header
   * `malformed`, and no good signature is `no <key> signature in <header>`.
   */
  lenient?: boolean;
  /** The `Content-Type` `hookd sign` writes; `application/json` unless set. */
  signContentType?: string;
}

interface Entries {
  timestamp?: string;
  candidates: Uint8Array[];
}

interface Pair {
  key: string;
  value: string;
}

/** The entries, or `undefined` when one has no `key=` (not this sender's format at all). */
function strictPairs(text: string, separator: string): Pair[] | undefined {
  const pairs: Pair[] = [];
  for (const item of text.split(separator)) {
    const entry = item.trim();
    const at = entry.indexOf("=");
    if (at <= 0) return undefined;
    pairs.push({ key: entry.slice(0, at), value: entry.slice(at + 1) });
  }
  return pairs;
}

function lenientPairs(text: string, separator: string): Pair[] {
  return text.split(separator).flatMap((entry) => {
    const at = entry.indexOf("=");
    return at < 0 ? [] : [{ key: entry.slice(0, at).trim(), value: entry.slice(at + 1).trim() }];
  });
}

function signatures(pairs: readonly Pair[], key: string): Uint8Array[] | Rejected {
  const values = pairs.filter((pair) => pair.key === key).map((pair) => pair.value);
  return tooManySignatures(values.length) ?? decodeAll(values, "hex", 32);
}

function readEntries(header: string, scheme: PairHeaderScheme): Entries | Rejected {
  const malformedHeader = unauthorized(`malformed ${scheme.header}`);
  const timestampKey = scheme.timestamp?.key;
  if (scheme.lenient) {
    const pairs = lenientPairs(header, scheme.separator);
    const timestamp = pairs.findLast((pair) => pair.key === timestampKey)?.value;
    const candidates = signatures(pairs, scheme.signature);
    if (isRejected(candidates)) return candidates;
    if (timestamp === undefined || candidates.length === 0) return malformedHeader;
    if (Number.isNaN(parseSeconds(timestamp))) return unauthorized("malformed timestamp");
    return { timestamp, candidates };
  }
  const pairs = strictPairs(header, scheme.separator);
  if (!pairs) return malformedHeader;
  // A timestamp must appear exactly once.
  const stamps = pairs.filter((pair) => pair.key === timestampKey);
  const timestamp = stamps.length === 1 ? stamps[0].value : undefined;
  if (timestampKey !== undefined && Number.isNaN(parseSeconds(timestamp))) return malformedHeader;
  const candidates = signatures(pairs, scheme.signature);
  if (isRejected(candidates)) return candidates;
  if (candidates.length === 0) {
    return unauthorized(`no ${scheme.signature} signature in ${scheme.header}`);
  }
  return { timestamp, candidates };
}

async function verifyPairHeader(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
  scheme: PairHeaderScheme,
): Promise<Verdict> {
  const header = singleHeader(input.headers, scheme.header);
  if (header === undefined) return unauthorized(`missing ${scheme.header}`);
  if (header === null) return unauthorized(`${scheme.header} sent more than once`);
  const entries = readEntries(header, scheme);
  if (isRejected(entries)) return entries;
  const { timestamp, candidates } = entries;
  const data = timestamp === undefined
    ? input.body
    : signedBytes(timestamp, scheme.timestamp!.joiner, input.body);
  const index = await verifyAnyHmac(keys, candidates, data);
  if (index < 0) return unauthorized("invalid signature");
  if (timestamp !== undefined) {
    const stale = checkTimestamp(parseSeconds(timestamp), input.now, toleranceMs);
    if (stale) return stale;
  }

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  const event = readPath(parsed.value, scheme.event);
  if (!event) return malformed(`payload has no ${scheme.event}`);
  const deliveryId = scheme.deliveryId === undefined
    ? undefined
    : readPath(parsed.value, scheme.deliveryId);
  return {
    ok: true,
    event: scheme.withAction ? withAction(event, parsed.value) : event,
    ...scheme.deliveryId !== undefined && { deliveryId },
    verifiedBy: verifiedBy(index),
    replayKey: unlessSignedId(deliveryId, input.body),
    payload: input.body,
    contentType: scheme.keepContentType
      ? input.headers.get("content-type") ?? "application/json"
      : "application/json",
  };
}

/**
 * The provider for a pair-header sender: a required secret, `TOLERANCE`
 * when a timestamp is signed, and `hookd sign` writing one signature.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairHeaderProvider } from "./_pair_header.ts";
 * const acme = pairHeaderProvider({
 *   name: "acme",
 *   summary: "Acme: Acme-Signature t=…,v1=<hex of t.body>",
 *   header: "Acme-Signature",
 *   separator: ",",
 *   timestamp: { key: "t", joiner: "." },
 *   signature: "v1",
 *   event: "type",
 *   deliveryId: "id",
 * });
 * assert.notEqual(acme.settings.TOLERANCE, undefined);
 * ```
 */
export function pairHeaderProvider(scheme: PairHeaderScheme): Provider {
  const stamped = scheme.timestamp;
  return {
    name: scheme.name,
    summary: scheme.summary,
    secret: "required",
    settings: stamped ? { TOLERANCE: TOLERANCE_SETTING } : {},
    async create(endpoint) {
      const toleranceMs = stamped ? toleranceOf(endpoint) : 0;
      const keys = await importHmacKeys(endpoint.secrets, "sha256");
      return (input) => verifyPairHeader(input, keys, toleranceMs, scheme);
    },
    async sign(endpoint, body, options) {
      const t = String(Math.floor(options.now / 1000));
      const data = stamped ? signedBytes(t, stamped.joiner, body) : body;
      const mac = await signEncoded(endpoint.secrets[0], "sha256", data, "hex");
      const entries = [`${scheme.signature}=${mac}`];
      if (stamped) entries.unshift(`${stamped.key}=${t}`);
      return {
        "Content-Type": scheme.signContentType ?? "application/json",
        [scheme.header]: entries.join(scheme.separator),
      };
    },
  };
}
