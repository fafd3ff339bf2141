/**
 * What a delivery runs, read from the configuration when its run starts: at
 * accept hookd only decides whether there is a hook; the command, time limit,
 * environment, fields and filter are those configured when the run starts, as
 * a replay promises.
 *
 * @module
 */

import {
  type Config,
  type FieldPath,
  filterMiss,
  parsePayload,
  pickFilter,
  pickHook,
} from "../config/mod.ts";
import type { ClaimedDelivery } from "../store/mod.ts";
import { buildHookEnv, payloadFieldEnv } from "./hook_env.ts";

/** A hook to run, as configured when the run starts. */
export interface HookPlan {
  /** The shell command. */
  command: string;
  /** Its time limit in milliseconds. */
  timeoutMs: number;
  /** Its whole environment. */
  env: Record<string, string>;
}

/** A delivery that has nothing to run now: recorded as a skipped run, in a final state. */
export interface SkipPlan {
  /** `ignored`: no hook configured for it now; `filtered`: the filter configured now refuses it. */
  skip: { state: "ignored" } | { state: "filtered"; filteredBy: string };
  /** Why, for the run's record. */
  reason: string;
}

/** What {@linkcode planRun} decides. */
export type RunPlan = HookPlan | SkipPlan;

/**
 * Decide what a claimed delivery runs, from the configuration now.
 *
 * @param config the configuration now (reloads included)
 * @param delivery the claimed delivery
 * @param processEnv the variables hooks may copy from (`_HOOK_ENV`)
 * @returns the hook to run, or why nothing runs
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/mod.ts";
 * import { planRun } from "./run_plan.ts";
 *
 * const config = parseConfig({
 *   HOOKD_ENDPOINTS: "gh",
 *   HOOKD_GH_PROVIDER: "github",
 *   HOOKD_GH_SECRET: "a-long-random-secret",
 *   HOOKD_GH_HOOK_PUSH: "/usr/local/bin/deploy",
 *   HOOKD_GH_TIMEOUT: "2m",
 * });
 * const delivery = {
 *   id: "01J", endpoint: "gh", event: "push", sourceId: null, receivedAt: 0,
 *   contentType: "application/json", headers: {}, body: new TextEncoder().encode("{}"),
 *   timeoutMs: 1000, verifiedBy: "github", hook: "/old/deploy", attempt: 1, failures: 0, runId: 1,
 * };
 * const plan = planRun(config, delivery, { PATH: "/usr/bin" });
 * assert.ok("command" in plan);
 * assert.equal(plan.command, "/usr/local/bin/deploy");
 * assert.equal(plan.timeoutMs, 120_000);
 * ```
 */
export function planRun(
  config: Pick<Config, "endpoints">,
  delivery: ClaimedDelivery,
  processEnv: Record<string, string>,
): RunPlan {
  const endpoint = config.endpoints.get(delivery.endpoint);
  const hook = endpoint && pickHook(endpoint, delivery.event);
  if (!endpoint || !hook) {
    return {
      skip: { state: "ignored" },
      reason: endpoint
        ? `no hook is configured for ${delivery.event} now`
        : `endpoint ${delivery.endpoint} is not configured now`,
    };
  }
  const filter = pickFilter(endpoint, delivery.event);
  const readsPayload = (paths: readonly FieldPath[]) => paths.some((p) => p.source === "payload");
  // One parse for the filter and the fields, and none when neither reads the payload.
  const parsed = readsPayload(endpoint.hookFields) ||
      (filter && readsPayload(filter.filter.conditions.map((c) => c.field)))
    ? { value: parsePayload(delivery.body, delivery.contentType) }
    : undefined;
  const miss = filter && filterMiss(endpoint, delivery.event, { ...delivery, parsed });
  if (miss) return { skip: { state: "filtered", filteredBy: miss }, reason: `filtered by ${miss}` };
  return {
    command: hook.command,
    timeoutMs: endpoint.timeoutMs,
    env: buildHookEnv({
      endpoint: delivery.endpoint,
      event: delivery.event,
      deliveryId: delivery.id,
      sourceDeliveryId: delivery.sourceId ?? undefined,
      contentType: delivery.contentType,
    }, {
      processEnv,
      allow: endpoint.hookEnv,
      fields: payloadFieldEnv(endpoint.hookFields, {
        payload: parsed?.value,
        headers: delivery.headers,
      }),
    }),
  };
}
