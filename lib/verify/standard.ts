/**
 * Standard Webhooks (and Svix): `v1,<base64>` entries in `webhook-signature`
 * (or `svix-signature`), each an HMAC-SHA256 of `<id>.<timestamp>.<body>`
 * under the base64 secret (`whsec_` optional). Id and time are signed: no
 * replay key.
 *
 * @module
 */

import type { EndpointSettings, Provider, Rejected, Verdict, VerifyInput } from "./types.ts";
import {
  decodeAll,
  decodeSignature,
  importHmacKeys,
  signedBytes,
  signEncoded,
  tooManySignatures,
  verifiedBy,
  verifyAnyHmac,
} from "./_hmac.ts";
import { isRejected, parseJsonBody, readPath, singleHeader, unauthorized } from "./_payload.ts";
import { FALLBACK_EVENT } from "./_event.ts";
import { checkTimestamp, parseSeconds, TOLERANCE_SETTING, toleranceOf } from "./_timestamp.ts";

/** The header families, tried in this order. */
const FAMILIES = ["webhook", "svix"] as const;

/**
 * Decode a Standard Webhooks secret: base64, with or without `whsec_`.
 *
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
  const bytes = decodeSignature(secret.replace(/^whsec_/, ""), "base64");
  return bytes?.length ? bytes : undefined;
}

/** The variable holding `endpoint.secrets[index]`, e.g. `HOOKD_GITLAB_SECRET_PREVIOUS`. */
export function secretVariable(endpoint: EndpointSettings, index: number): string {
  return `${endpoint.prefix}${index === 0 ? "SECRET" : "SECRET_PREVIOUS"}`;
}

/**
 * The `v1,<base64>` signatures of a space-separated list; other versions
 * (`v1a`, asymmetric) are skipped, as Standard Webhooks asks.
 */
export function v1Signatures(header: string): Uint8Array[] | Rejected {
  const v1 = header.split(" ").filter((entry) => entry.startsWith("v1,"))
    .map((entry) => entry.slice(3));
  return tooManySignatures(v1.length) ?? decodeAll(v1, "base64", 32);
}

function secretBytes(endpoint: EndpointSettings): Uint8Array[] {
  return endpoint.secrets.map((secret, index) => {
    const bytes = decodeStandardSecret(secret);
    if (!bytes) {
      throw new Error(
        `${
          secretVariable(endpoint, index)
        } is not a Standard Webhooks secret: copy it as the sender shows it, whsec_ followed by base64`,
      );
    }
    return bytes;
  });
}

async function verifyStandard(
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
  const candidates = v1Signatures(signature!);
  if (isRejected(candidates)) return candidates;
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
    const keys = await importHmacKeys(secretBytes(endpoint), "sha256");
    const eventField = endpoint.settings.EVENT_FIELD ?? "type";
    return (input) => verifyStandard(input, keys, toleranceMs, eventField);
  },
  async sign(endpoint, body, options) {
    const [key] = secretBytes({ ...endpoint, secrets: endpoint.secrets.slice(0, 1) });
    const id = options.deliveryId ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
    const timestamp = String(Math.floor(options.now / 1000));
    const mac = await signEncoded(
      key,
      "sha256",
      signedBytes(id, ".", timestamp, ".", body),
      "base64",
    );
    return {
      "Content-Type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${mac}`,
    };
  },
};
