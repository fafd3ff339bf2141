/**
 * The contract every provider fulfils: a spec the config parser reads and a
 * factory that imports keys once and returns a pure verify function.
 *
 * @module
 */

/** How one provider-specific `HOOKD_<NAME>_<SUFFIX>` setting is read. */
export interface SettingSpec {
  /** What it is for, shown by `hookd check` and in errors. */
  help: string;
  /** The value used when the variable is absent. */
  default?: string;
  /** The variable must be set. */
  required?: boolean;
  /** The only values allowed (case-sensitive). */
  choices?: readonly string[];
  /** Returns a problem (e.g. `is not a valid hex key`) or `undefined`. */
  validate?: (value: string) => string | undefined;
  /** The value is a credential (a verify token): shown as `***`, never logged. */
  secret?: boolean;
}

/** The settings of one endpoint, as resolved from the environment. */
export interface EndpointSettings {
  /** The endpoint name, e.g. `github`. */
  name: string;
  /** The variable prefix, e.g. `HOOKD_GITHUB_`. */
  prefix: string;
  /** The provider name, e.g. `github`. */
  provider: string;
  /** The current secret first, then the previous one while rotating. */
  secrets: string[];
  /** Provider settings by suffix (`SIGNATURE_HEADER`), defaults applied. */
  settings: Record<string, string>;
}

/** What a provider is given for one delivery. */
export interface VerifyInput {
  /** The request headers. */
  headers: Headers;
  /** The raw body, exactly as received. */
  body: Uint8Array;
  /** Now, in milliseconds since the epoch (for timestamp windows). */
  now: number;
  /** The request URL as received (for senders that sign it). */
  url: string;
}

/** A delivery whose signature holds. */
export interface Accepted {
  ok: true;
  /** The event name, e.g. `pull_request.opened`. */
  event: string;
  /** The sender's own delivery id, when it sends one. */
  deliveryId?: string;
  /** What verified it: `secret`, `previous secret`, or `none` (unauthenticated). */
  verifiedBy: "secret" | "previous secret" | "none";
  /** The bytes a hook gets on stdin (the body, or the JSON inside a form). */
  payload: Uint8Array;
  /** The content type of `payload`. */
  contentType: string;
  /**
   * The content the signature covers (usually the body as received): the
   * store answers a later delivery on the endpoint with the same key as a
   * duplicate, whatever its unsigned headers say. `null` when a signed
   * delivery id already makes a replay a duplicate, or when nothing is
   * signed (whoever holds a captured token can forge anything).
   */
  replayKey: Uint8Array | null;
  /**
   * The payload as parsed JSON, when verify parsed it on the way, so the
   * filter need not parse it again; only when it is exactly what
   * `parsePayload(payload, contentType)` gives (JSON, not a form).
   */
  parsed?: { value: unknown };
  /** An answer the sender needs at once (Slack challenge, Discord PING). */
  reply?: { status: number; body: unknown };
}

/**
 * Why a provider refused a delivery, as the request log and the metrics
 * name it: `signature` (wrong or missing), `token` (shared token or basic
 * auth), `stale` (outside the timestamp window), `malformed` (unreadable).
 */
export type VerifyOutcome =
  | "rejected.signature"
  | "rejected.token"
  | "rejected.stale"
  | "rejected.malformed";

/** A delivery refused, with a short reason safe to send to the client. */
export interface Rejected {
  ok: false;
  /** 401 for authentication, 400 for a malformed body, 403 for a wrong verify token. */
  status: 400 | 401 | 403;
  /** A short reason, e.g. `missing signature`; never an expected value. */
  reason: string;
  /** The log outcome, e.g. `rejected.signature`. */
  outcome: VerifyOutcome;
}

/** The verdict on one delivery. */
export type Verdict = Accepted | Rejected;

/** A request a handshake looks at, before any body is read. */
export interface HandshakeInput {
  /** `GET`, `POST`, … */
  method: string;
  /** The request URL as received, query included. */
  url: string;
  /** The request headers. */
  headers: Headers;
  /** Now, in milliseconds since the epoch. */
  now: number;
}

/** The answer to a handshake: a challenge echoed as text, never stored. */
export interface HandshakeReply {
  ok: true;
  /** Always 200: what every sender's handshake expects. */
  status: 200;
  /** The text to send back (the challenge). */
  body: string;
  /** The answer's headers: `Content-Type`, `X-Content-Type-Options`. */
  headers: Record<string, string>;
  /** What the log records as the event, e.g. `subscribe`; never the challenge. */
  event: string;
}

/**
 * Answers a request that must be answered without a signed delivery (Meta's
 * and Dropbox's GET, Microsoft Graph's `validationToken` POST): a reply, a
 * refusal, or `undefined` when the request is not a handshake and goes on
 * to be verified (or refused 405 if it is not a POST). Pure but for
 * WebCrypto; it reads no body and never throws for bad input.
 */
export type Handshake = (
  input: HandshakeInput,
) => Promise<HandshakeReply | Rejected | undefined>;

/** Verifies one delivery; pure but for WebCrypto, never throws for bad input. */
export interface Verify {
  /** Check one delivery. */
  (input: VerifyInput): Promise<Verdict>;
  /** The sender's handshake, for the providers that have one; built with the verifier. */
  handshake?: Handshake;
}

/** What `hookd sign` is told about the delivery to sign. */
export interface SignOptions {
  /** The event to claim, where the sender puts it in a header. */
  event?: string;
  /** The signing time, in milliseconds since the epoch. */
  now: number;
  /** A delivery id to send, where the sender sends one. */
  deliveryId?: string;
  /** The URL the delivery is posted to, for senders that sign it. */
  url?: string;
}

/** A provider: its configuration contract and its factory. */
export interface Provider {
  /** The name written in `HOOKD_<NAME>_PROVIDER`. */
  name: string;
  /** One line for `hookd help` and README. */
  summary: string;
  /** Whether `HOOKD_<NAME>_SECRET` is required, optional or not used. */
  secret: "required" | "optional" | "none";
  /** Provider-specific settings by suffix. */
  settings: Record<string, SettingSpec>;
  /**
   * Import keys once and return the verify function, with its `handshake`
   * attached when the sender has one.
   *
   * @throws {Error} naming the variable at fault when a key cannot be imported
   */
  create(endpoint: EndpointSettings): Promise<Verify>;
  /**
   * The headers the sender would send with this body, signed with the
   * current secret: `hookd sign`, `hookd send` and property tests use it.
   * Absent where signing needs a key hookd never holds (Ed25519, ECDSA).
   */
  sign?(
    endpoint: EndpointSettings,
    body: Uint8Array,
    options: SignOptions,
  ): Promise<Record<string, string>>;
}
