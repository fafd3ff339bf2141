/**
 * The shape most senders share: an HMAC of the body in one header, the event
 * and delivery id in a header or the JSON body, declared as a
 * {@linkcode BodySender}. Only the body is signed, so it is the replay key,
 * unless `signedIdStopsReplays`.
 *
 * @module
 */

import type {
  EndpointSettings,
  Handshake,
  Provider,
  Rejected,
  SettingSpec,
  SignOptions,
  Verdict,
  Verify,
  VerifyInput,
} from "./types.ts";
import {
  decodeAll,
  type HashName,
  MAC_LENGTHS,
  signEncoded,
  tooManySignatures,
  verifiedBy,
  verifyAnyHmac,
} from "./_hmac.ts";
import {
  type HubKeys,
  importHubKeys,
  signHub,
  verifyBodyHmac,
  verifyHubSignature,
} from "./_signed.ts";
import {
  acceptedBody,
  isRejected,
  malformed,
  parseJsonBody,
  readPath,
  singleHeader,
  unauthorized,
  unlessSignedId,
  withAction,
} from "./_payload.ts";
import { checkTimestamp, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

/** What one body-signing sender is: its signature header and where it names deliveries. */
export interface BodySender {
  name: string;
  /** One line for `hookd help`. */
  summary: string;
  /** The signature header as reasons and `hookd sign` write it. */
  header: string;
  /**
   * The hash; a list when the header names its hash (`sha256=<hex>`, read,
   * never assumed): any listed one is accepted and the first signs.
   */
  hash: HashName | readonly HashName[];
  /** How the MAC is written; `hex` unless set. */
  encoding?: "hex" | "base64";
  /** Text before the MAC, e.g. `sha1=`. */
  prefix?: string;
  /**
   * Signatures come in `<header>-1`, `-2`, … (up to 100), one per key the
   * sender holds active, and any one may verify (DocuSign).
   */
  numbered?: boolean;
  /**
   * What the signature covers when it is more than the body, built once per
   * endpoint (Square: `PUBLIC_URL`, the query as received, the body).
   *
   * @throws {Error} naming the setting at fault
   */
  covers?: (endpoint: EndpointSettings) => (url: string, body: Uint8Array) => Uint8Array;
  /** Header naming the event; checked before the body is read unless `eventField` is set. */
  eventHeader?: string;
  /** Dotted path to the event in the JSON body (or a function of it); wins over `eventHeader`. */
  eventField?: string | ((body: unknown) => string | undefined);
  /** The refusal when the body names no event, instead of `payload has no <eventField>`. */
  eventMissing?: string;
  /** The event when none is named; with it the body need not even be JSON. */
  eventFallback?: string;
  /** Add the body's `action` to the event (`issue` → `issue.created`). */
  withAction?: boolean;
  /** What `hookd sign` writes in `eventHeader` when not told. */
  sampleEvent?: string;
  /** Headers holding the delivery id, the first sent wins (`hookd sign` writes the first). */
  deliveryHeader?: string | readonly string[];
  /** Dotted path to the delivery id in the JSON body. */
  deliveryField?: string;
  /** The body's delivery id is signed and deduping on it stops replays: no replay key then. */
  signedIdStopsReplays?: boolean;
  /** Dotted path to a signed time in milliseconds in the body, held to `TOLERANCE` (5m). */
  timestampField?: string;
  /** A request answered before any signature is read (WooCommerce's ping). */
  unsigned?: (input: VerifyInput) => Verdict | undefined;
  /** More settings than `TOLERANCE`. */
  settings?: Record<string, SettingSpec>;
  /** The sender's handshake, built once from the endpoint's settings. */
  handshake?: (endpoint: EndpointSettings) => Handshake | Promise<Handshake>;
  /** More headers `hookd sign` writes, none of which verify reads. */
  signHeaders?: (body: Uint8Array, options: SignOptions) => Record<string, string>;
}

function hashes(sender: BodySender): readonly HashName[] {
  return typeof sender.hash === "string" ? [sender.hash] : sender.hash;
}

function firstHeader(headers: Headers, names: string | readonly string[] = []) {
  for (const name of [names].flat()) {
    const value = singleHeader(headers, name);
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

/** The most `numbered` headers read: DocuSign allows as many HMAC keys. */
const MAX_NUMBERED = 100;

async function checkSignature(
  input: VerifyInput,
  keys: HubKeys,
  sender: BodySender,
  data: Uint8Array,
): Promise<{ verifiedBy: "secret" | "previous secret" } | Rejected> {
  const { header, hash, encoding = "hex", prefix } = sender;
  if (typeof hash !== "string") return verifyHubSignature(input, header, keys, data);
  if (!sender.numbered) {
    return verifyBodyHmac(input, keys[hash]!, { header, hash, encoding, prefix }, data);
  }
  const values: string[] = [];
  for (let n = 1; n <= MAX_NUMBERED; n++) {
    const value = singleHeader(input.headers, `${header}-${n}`);
    if (value === null) return unauthorized(`${header}-${n} sent more than once`);
    if (value !== undefined) values.push(value);
  }
  if (values.length === 0) return unauthorized(`missing ${header}-1`);
  const tooMany = tooManySignatures(values.length);
  if (tooMany) return tooMany;
  const candidates = decodeAll(values, encoding, MAC_LENGTHS[hash]);
  if (candidates.length === 0) return unauthorized(`malformed ${header}`);
  const index = await verifyAnyHmac(keys[hash]!, candidates, data);
  return index < 0 ? unauthorized("invalid signature") : { verifiedBy: verifiedBy(index) };
}

function eventOf(sender: BodySender, body: unknown): string | undefined {
  const { eventField } = sender;
  if (typeof eventField === "function") return eventField(body);
  return eventField === undefined ? undefined : readPath(body, eventField);
}

async function verifyBodySender(
  input: VerifyInput,
  keys: HubKeys,
  sender: BodySender,
  options: { toleranceMs: number; covered: (url: string, body: Uint8Array) => Uint8Array },
): Promise<Verdict> {
  const { toleranceMs, covered } = options;
  const unsigned = sender.unsigned?.(input);
  if (unsigned) return unsigned;
  const checked = await checkSignature(input, keys, sender, covered(input.url, input.body));
  if (isRejected(checked)) return checked;
  if (sender.eventHeader && sender.eventField === undefined && sender.eventFallback === undefined) {
    if (!singleHeader(input.headers, sender.eventHeader)) {
      return malformed(`missing ${sender.eventHeader}`);
    }
  }
  const json = sender.eventField !== undefined || sender.withAction || sender.deliveryField ||
    sender.timestampField;
  const parsed = json ? parseJsonBody(input.body) : undefined;
  if (isRejected(parsed) && sender.eventFallback === undefined) return parsed;
  const body = parsed && !isRejected(parsed) ? parsed.value : undefined;
  if (sender.timestampField) {
    const sent = (body as Record<string, unknown> | null)?.[sender.timestampField];
    if (typeof sent !== "number") return unauthorized(`missing ${sender.timestampField}`);
    const stale = checkTimestamp(sent / 1000, input.now, toleranceMs);
    if (stale) return stale;
  }
  const event = eventOf(sender, body) || firstHeader(input.headers, sender.eventHeader) ||
    sender.eventFallback;
  if (!event) {
    return malformed(
      sender.eventHeader
        ? `missing ${sender.eventHeader}`
        : sender.eventMissing ?? `payload has no ${sender.eventField}`,
    );
  }
  const deliveryId = sender.deliveryField
    ? readPath(body, sender.deliveryField)
    : firstHeader(input.headers, sender.deliveryHeader);
  return acceptedBody(input, {
    parsed,
    event: sender.withAction ? withAction(event, body) : event,
    deliveryId,
    verifiedBy: checked.verifiedBy,
    replayKey: sender.signedIdStopsReplays ? unlessSignedId(deliveryId, input.body) : input.body,
  });
}

async function signBodySender(
  endpoint: EndpointSettings,
  body: Uint8Array,
  options: SignOptions,
  sender: BodySender,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (sender.eventHeader) {
    const parsed = sender.eventField ? parseJsonBody(body) : undefined;
    const named = parsed && !isRejected(parsed) ? eventOf(sender, parsed.value) : undefined;
    headers[sender.eventHeader] = options.event ?? named ?? sender.sampleEvent ?? "";
  }
  const [delivery] = [sender.deliveryHeader ?? []].flat();
  if (delivery) headers[delivery] = options.deliveryId ?? crypto.randomUUID();
  Object.assign(headers, sender.signHeaders?.(body, options));
  const [secret] = endpoint.secrets;
  const data = sender.covers?.(endpoint)(options.url ?? "", body) ?? body;
  const header = sender.numbered ? `${sender.header}-1` : sender.header;
  headers[header] = typeof sender.hash === "string"
    ? (sender.prefix ?? "") + await signEncoded(secret, sender.hash, data, sender.encoding ?? "hex")
    : await signHub(secret, sender.hash[0], data);
  return headers;
}

/**
 * The provider for a body-signing sender: a required secret, `TOLERANCE`
 * when the body carries a signed time, and `hookd sign`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyHmacProvider } from "./_body_hmac_provider.ts";
 * const acme = bodyHmacProvider({
 *   name: "acme",
 *   summary: "Acme: X-Acme-Signature (HMAC-SHA256, hex), event X-Acme-Event",
 *   header: "X-Acme-Signature",
 *   hash: "sha256",
 *   eventHeader: "X-Acme-Event",
 * });
 * assert.equal(acme.secret, "required");
 * ```
 */
export function bodyHmacProvider(sender: BodySender): Provider {
  return {
    name: sender.name,
    summary: sender.summary,
    secret: "required",
    settings: {
      ...sender.timestampField && { TOLERANCE: TOLERANCE_SETTING },
      ...sender.settings,
    },
    async create(endpoint) {
      const tolerance = sender.timestampField ? toleranceOf(endpoint) : 0;
      const covered = sender.covers?.(endpoint) ?? ((_url, body) => body);
      const keys = await importHubKeys(endpoint.secrets, hashes(sender));
      const verify: Verify = (input) =>
        verifyBodySender(input, keys, sender, { toleranceMs: tolerance, covered });
      if (sender.handshake) verify.handshake = await sender.handshake(endpoint);
      return verify;
    },
    sign(endpoint, body, options) {
      return signBodySender(endpoint, body, options, sender);
    },
  };
}
