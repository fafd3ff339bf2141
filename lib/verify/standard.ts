/**
 * Standard Webhooks (and Svix): `v1,<base64>` entries in `webhook-signature`
 * (or `svix-signature`), each an HMAC-SHA256 of `<id>.<timestamp>.<body>`
 * under the base64 secret (`whsec_` optional). Id and time are signed: no
 * replay key.
 *
 * @module
 */

import type { EndpointSettings, Provider, Verdict, VerifyInput } from "./types.ts";
import { encodeSignature, importHmacKeys, signHmac, verifiedBy } from "./_hmac.ts";
import { isRejected, parseJsonBody, readPath, singleHeader, unauthorized } from "./_payload.ts";
import { FALLBACK_EVENT } from "./_event.ts";
import { decodeAll, signedBytes, tooManySignatures, verifyAnyHmac } from "./_signatures.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

/** The header families, tried in this order. */
const FAMILIES = ["webhook", "svix"] as const;

/**
 * Decode a Standard Webhooks secret: base64, with or without `whsec_`.
 *
 * @param secret the secret as the sender shows it
 * @returns the key bytes, or `undefined` when it is not such a secret
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeStandardSecret } from "./standard.ts";
 * assert.equal(decodeStandardSecret("whsec_AAEC")?.length, 3);
 * ```
 */
export function decodeStandardSecret(secret: string): Uint8Array | undefined {
  const text = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  try {
    const bytes = Uint8Array.fromBase64(text);
    return bytes.length > 0 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

async function importKeys(endpoint: EndpointSettings): Promise<CryptoKey[]> {
  const raw = endpoint.secrets.map((secret, index) => {
    const bytes = decodeStandardSecret(secret);
    if (!bytes) {
      const variable = `${endpoint.prefix}SECRET${index === 0 ? "" : "_PREVIOUS"}`;
      throw new Error(
        `${variable} is not a Standard Webhooks secret: copy it as the sender shows it, whsec_ followed by base64`,
      );
    }
    return bytes;
  });
  return await importHmacKeys(raw, "sha256");
}

/**
 * Verify a Standard Webhooks delivery with already-imported keys.
 *
 * @param input the delivery
 * @param keys HMAC-SHA256 keys over the decoded secrets, current first
 * @param toleranceMs the replay window either way
 * @param eventField dotted path to the event name in the JSON body
 * @returns the verdict; delivery id is `webhook-id`
 */
export async function verifyStandard(
  input: VerifyInput,
  keys: readonly CryptoKey[],
  toleranceMs: number,
  eventField: string,
): Promise<Verdict> {
  const family = FAMILIES.find((f) => input.headers.has(`${f}-signature`)) ?? FAMILIES[0];
  const read = (name: string) => singleHeader(input.headers, `${family}-${name}`);
  const id = read("id");
  const timestamp = read("timestamp");
  const signature = read("signature");
  for (const [name, value] of [["id", id], ["timestamp", timestamp], ["signature", signature]]) {
    if (value === undefined || value === "") return unauthorized(`missing ${family}-${name}`);
    if (value === null) return unauthorized(`${family}-${name} sent more than once`);
  }
  const seconds = parseSeconds(timestamp);
  if (Number.isNaN(seconds)) return unauthorized(`malformed ${family}-timestamp`);
  const v1 = signature!.split(" ").filter((entry) => entry.startsWith("v1,")).map((entry) =>
    entry.slice(3)
  );
  const tooMany = tooManySignatures(v1.length);
  if (tooMany) return tooMany;
  const candidates = decodeAll(v1, "base64", 32);
  if (candidates.length === 0) return unauthorized(`no v1 signature in ${family}-signature`);
  const data = signedBytes(id!, ".", timestamp!, ".", input.body);
  const index = await verifyAnyHmac(keys, candidates, data);
  if (index < 0) return unauthorized("invalid signature");
  const stale = checkTimestamp(seconds, input.now, toleranceMs);
  if (stale) return stale;

  const parsed = parseJsonBody(input.body);
  if (isRejected(parsed)) return parsed;
  return {
    ok: true,
    event: readPath(parsed.value, eventField) ?? FALLBACK_EVENT,
    deliveryId: id!,
    verifiedBy: verifiedBy(index),
    replayKey: null,
    payload: input.body,
    contentType: "application/json",
  };
}

/** The `standard` provider (Standard Webhooks, Svix). */
export const standard: Provider = {
  name: "standard",
  summary:
    "Standard Webhooks / Svix: webhook-id, webhook-timestamp, webhook-signature v1,<base64> (whsec_ base64 secret)",
  secret: "required",
  settings: {
    TOLERANCE: TOLERANCE_SETTING,
    EVENT_FIELD: { help: "dotted path to the event name in the JSON body", default: "type" },
  },
  async create(endpoint) {
    const toleranceMs = toleranceOf(endpoint);
    const keys = await importKeys(endpoint);
    const eventField = endpoint.settings.EVENT_FIELD ?? "type";
    return (input) => verifyStandard(input, keys, toleranceMs, eventField);
  },
  async sign(endpoint, body, options) {
    const [key] = await importKeys({ ...endpoint, secrets: endpoint.secrets.slice(0, 1) });
    const id = options.deliveryId ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
    const timestamp = String(Math.floor(options.now / 1000));
    const mac = await signHmac(key, signedBytes(id, ".", timestamp, ".", body));
    return {
      "Content-Type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${encodeSignature(mac, "base64")}`,
    };
  },
};
