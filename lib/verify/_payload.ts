/**
 * Reading a verified body (strict UTF-8 and JSON, dotted paths, forms) and
 * the verdicts. Only called once the signature holds, so parsing never runs
 * on forged input.
 *
 * @module
 */

import type { Accepted, Rejected, VerifyInput } from "./types.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** A verified body that is not what the sender promised: 400. */
export function malformed(reason: string): Rejected {
  return { ok: false, status: 400, reason, outcome: "rejected.malformed" };
}

/** A signature problem: 401. */
export function unauthorized(
  reason: string,
  outcome: Rejected["outcome"] = "rejected.signature",
): Rejected {
  return { ok: false, status: 401, reason, outcome };
}

/** Parse a body as JSON; a 400 for invalid UTF-8 or JSON (including nesting too deep to parse). */
export function parseJsonBody(body: Uint8Array): { value: unknown } | Rejected {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return malformed("body is not valid UTF-8");
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return malformed("body is not valid JSON");
  }
}

/**
 * The verdict for a verified delivery whose payload is the body as received,
 * JSON unless the request says otherwise. `parsed` is handed on unless it was
 * refused or the body is a form, whose fields are read as a form.
 */
export function acceptedBody(
  input: Pick<VerifyInput, "headers" | "body">,
  fields: Pick<Accepted, "event" | "deliveryId" | "verifiedBy" | "replayKey"> & {
    parsed?: Accepted["parsed"] | Rejected;
  },
): Accepted {
  const { parsed, ...rest } = fields;
  const contentType = input.headers.get("content-type") ?? "application/json";
  return {
    ok: true,
    ...rest,
    payload: input.body,
    contentType,
    ...(parsed && !isRejected(parsed) && !isForm(contentType) ? { parsed } : {}),
  };
}

/**
 * The replay key of a delivery whose delivery id, when present, is signed:
 * none when there is one (deduping on it stops a replay), else the signed
 * content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unlessSignedId } from "./_payload.ts";
 * const body = new Uint8Array([0x7b, 0x7d]);
 * assert.equal(unlessSignedId("evt_1", body), null);
 * assert.equal(unlessSignedId(undefined, body), body);
 * ```
 */
export function unlessSignedId(
  signedId: string | undefined,
  content: Uint8Array,
): Uint8Array | null {
  return signedId ? null : content;
}

/** Whether a parse result is a rejection. */
export function isRejected(value: unknown): value is Rejected {
  return typeof value === "object" && value !== null && (value as Rejected).ok === false;
}

/** The string or number at a dotted path (`object.action`) of a JSON value, as a string. */
export function readPath(value: unknown, path: string): string | undefined {
  let current: unknown = value;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, key)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  if (typeof current === "string" && current !== "") return current;
  if (typeof current === "number") return String(current);
  return undefined;
}

/** Add the payload's `action`: `pull_request` with `"action":"opened"` is `pull_request.opened`. */
export function withAction(event: string, payload: unknown): string {
  const action = readPath(payload, "action");
  return action ? `${event}.${action}` : event;
}

/** Whether a `Content-Type` is an HTML form. */
export function isForm(contentType: string | null): boolean {
  return (contentType ?? "").split(";")[0].trim().toLowerCase() ===
    "application/x-www-form-urlencoded";
}

/** The JSON in a form body's `payload` field (GitHub's and Gitea's forms), or a 400. */
export function formPayload(body: Uint8Array): Uint8Array | Rejected {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return malformed("body is not valid UTF-8");
  }
  const payload = new URLSearchParams(text).get("payload");
  if (payload === null) return malformed("form body has no payload field");
  return encoder.encode(payload);
}

/**
 * One header's value: `undefined` when absent, `null` when sent more than
 * once (the Fetch API joins repeats with `, `, which no signature contains).
 */
export function singleHeader(headers: Headers, name: string): string | undefined | null {
  const value = headers.get(name);
  if (value === null) return undefined;
  return value.includes(", ") ? null : value.trim();
}

/**
 * Headers that must each be sent exactly once, read together.
 *
 * @param names the header names as refusals write them, in the order they are checked
 * @param options `repeated`: one reason for any repeated header
 * @returns each value by its name as given, or a 401 naming the first
 *   missing header, else the first repeated one
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requiredHeaders } from "./_payload.ts";
 * const found = requiredHeaders(new Headers({ "x-a": "1" }), ["X-A", "X-B"]);
 * assert.ok("reason" in found && found.reason === "missing X-B");
 * ```
 */
export function requiredHeaders(
  headers: Headers,
  names: readonly string[],
  options: { repeated?: string } = {},
): Record<string, string> | Rejected {
  const values = names.map((name) => singleHeader(headers, name));
  const missing = values.indexOf(undefined);
  if (missing >= 0) return unauthorized(`missing ${names[missing]}`);
  const repeated = values.indexOf(null);
  if (repeated >= 0) {
    return unauthorized(options.repeated ?? `${names[repeated]} sent more than once`);
  }
  return Object.fromEntries(names.map((name, index) => [name, values[index] as string]));
}
