/**
 * Turn the configuration's endpoints into servable ones: each provider
 * imports its keys once, at start-up, never per request.
 *
 * @module
 */

import type { Endpoint } from "./http/mod.ts";
import { type Config, ConfigError } from "./config/mod.ts";
import { createVerifier } from "./verify/mod.ts";

/**
 * Build every endpoint's verify function.
 *
 * @param config the resolved configuration
 * @returns the endpoints by name
 * @throws {ConfigError} listing the endpoints whose keys could not be imported
 */
export async function buildEndpoints(config: Config): Promise<Map<string, Endpoint>> {
  const endpoints = new Map<string, Endpoint>();
  const problems: string[] = [];
  for (const endpoint of config.endpoints.values()) {
    try {
      endpoints.set(endpoint.name, { config: endpoint, verify: await createVerifier(endpoint) });
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return endpoints;
}
