/**
 * Zoom: `x-zm-signature: v0=<hex>` over `v0:<timestamp>:<body>`; the
 * `endpoint.url_validation` challenge is answered with the token MACed under
 * the secret that verified it. `x-zm-trackingid` is not signed, so the body is
 * the replay key.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { signHmac } from "./_hmac.ts";
import { isRejected, malformed, parseJsonBody, readPath, singleHeader } from "./_payload.ts";
import { TOLERANCE_SETTING } from "./_timestamp.ts";
import { createV0Verifier, signV0, type V0Scheme } from "./_v0_signature.ts";

const encoder = new TextEncoder();

const SCHEME: V0Scheme = {
  signature: "x-zm-signature",
  timestamp: "x-zm-request-timestamp",
  async verdict(input, key, by) {
    const parsed = parseJsonBody(input.body);
    if (isRejected(parsed)) return parsed;
    const event = readPath(parsed.value, "event");
    if (!event) return malformed("payload has no event");
    const accepted = {
      ok: true as const,
      event,
      deliveryId: singleHeader(input.headers, "x-zm-trackingid") ?? undefined,
      verifiedBy: by,
      replayKey: input.body,
      payload: input.body,
      contentType: "application/json",
    };
    if (event !== "endpoint.url_validation") return accepted;
    const plainToken = readPath(parsed.value, "payload.plainToken");
    if (!plainToken) return malformed("url_validation has no payload.plainToken");
    const encryptedToken = (await signHmac(key, encoder.encode(plainToken))).toHex();
    return { ...accepted, reply: { status: 200, body: { plainToken, encryptedToken } } };
  },
};

/** The `zoom` provider. */
export const zoom: Provider = {
  name: "zoom",
  summary: "Zoom: x-zm-signature v0=<hex> over v0:timestamp:body, answers endpoint.url_validation",
  secret: "required",
  settings: { TOLERANCE: TOLERANCE_SETTING },
  create(endpoint) {
    return createV0Verifier(endpoint, SCHEME);
  },
  async sign(endpoint, body, options) {
    return {
      "Content-Type": "application/json; charset=utf-8",
      ...await signV0(endpoint.secrets[0], body, options.now, SCHEME),
      "x-zm-trackingid": options.deliveryId ?? crypto.randomUUID(),
    };
  },
};
