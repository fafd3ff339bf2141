/**
 * The providers hookd knows by name, and the one call that builds an
 * endpoint's verify function from its settings.
 *
 * @module
 */

import type { EndpointSettings, Provider, Verify } from "./types.ts";
import { github } from "./github.ts";
import { hmac } from "./hmac.ts";
import { ipfabric } from "./ipfabric.ts";
import { netbox } from "./netbox.ts";
import { none } from "./none.ts";
import { token } from "./token.ts";

export type * from "./types.ts";

/** Every provider, by the name written in `HOOKD_<NAME>_PROVIDER`. */
export const PROVIDERS: ReadonlyMap<string, Provider> = new Map(
  [github, netbox, ipfabric, hmac, token, none].map((p) => [p.name, p]),
);

/**
 * Build an endpoint's verify function, importing its keys once.
 *
 * @param endpoint the endpoint's resolved settings
 * @returns the verify function
 * @throws {Error} when the provider is unknown or a key cannot be imported
 */
export function createVerifier(endpoint: EndpointSettings): Promise<Verify> {
  const provider = PROVIDERS.get(endpoint.provider);
  if (!provider) {
    throw new Error(`${endpoint.prefix}PROVIDER is not a known provider: ${endpoint.provider}`);
  }
  return provider.create(endpoint);
}
