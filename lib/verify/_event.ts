/**
 * Event names for the generic providers (`hmac`, `token`, `none`), from a
 * header or a dotted path into the JSON body, as the admin sets.
 *
 * @module
 */

import type { Accepted, EndpointSettings, Rejected, SettingSpec, SignOptions } from "./types.ts";
import { isRejected, malformed, parseJsonBody, readPath, singleHeader } from "./_payload.ts";

/** The settings every generic provider reads for the event and the id. */
export const EVENT_SETTINGS: Record<string, SettingSpec> = {
  EVENT_HEADER: { help: "header holding the event name, e.g. X-Event-Type" },
  EVENT_FIELD: { help: "dotted path to the event name in the JSON body, e.g. event.type" },
  DELIVERY_HEADER: { help: "header holding the sender's delivery id, for duplicate detection" },
};

/** The event name used when neither setting is given or the value is absent. */
export const FALLBACK_EVENT = "webhook";

/**
 * The accepted verdict of a generic provider, named as its settings say.
 *
 * @returns the verdict; a 400 when `EVENT_FIELD` is set and the body is not JSON
 */
export function genericAccept(
  headers: Headers,
  body: Uint8Array,
  settings: Record<string, string>,
  verifiedBy: Accepted["verifiedBy"],
): Accepted | Rejected {
  let event: string | undefined;
  if (settings.EVENT_HEADER) {
    const value = singleHeader(headers, settings.EVENT_HEADER);
    if (value === null) return malformed(`${settings.EVENT_HEADER} sent more than once`);
    event = value || undefined;
  } else if (settings.EVENT_FIELD) {
    const parsed = parseJsonBody(body);
    if (isRejected(parsed)) return parsed;
    event = readPath(parsed.value, settings.EVENT_FIELD);
  }
  const deliveryId = settings.DELIVERY_HEADER
    ? singleHeader(headers, settings.DELIVERY_HEADER) ?? undefined
    : undefined;
  return {
    ok: true,
    event: event ?? FALLBACK_EVENT,
    deliveryId,
    verifiedBy,
    // Nothing here is signed (`token`, `none`); `hmac` sets the body.
    replayKey: null,
    payload: body,
    contentType: headers.get("content-type") ?? "application/octet-stream",
  };
}

/**
 * Refuse `EVENT_HEADER` and `EVENT_FIELD` both set on a generic provider.
 *
 * @throws {Error} naming the variables
 */
export function checkEventSettings(endpoint: EndpointSettings): void {
  if (endpoint.settings.EVENT_HEADER && endpoint.settings.EVENT_FIELD) {
    throw new Error(`${endpoint.prefix}EVENT_HEADER and EVENT_FIELD are both set: keep one`);
  }
}

/** The event and delivery headers a generic sender would send, as its settings name them. */
export function genericSignHeaders(
  settings: Record<string, string>,
  options: SignOptions,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (settings.EVENT_HEADER && options.event) headers[settings.EVENT_HEADER] = options.event;
  if (settings.DELIVERY_HEADER) {
    headers[settings.DELIVERY_HEADER] = options.deliveryId ?? crypto.randomUUID();
  }
  return headers;
}
