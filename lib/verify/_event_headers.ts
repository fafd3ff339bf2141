/**
 * What the generic providers (`hmac`, `token`, `none`) add to `hookd sign`
 * output: the event and delivery id, in the headers the admin named.
 *
 * @module
 */

import type { SignOptions } from "./types.ts";

/**
 * The event and delivery headers a generic sender would send.
 *
 * @param settings the endpoint's settings (`EVENT_HEADER`, `DELIVERY_HEADER`)
 * @param options the event and delivery id to claim
 * @returns the headers; empty when the endpoint names neither header
 */
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
