/**
 * Real GitHub deliveries from `@octokit/webhooks-examples` (pinned in
 * deno.json), for the filter and payload-field tests: the bodies GitHub
 * sends, with their event names. Where the package holds no example of a
 * case (a push to a branch other than the default, a merged pull request),
 * the nearest real one is copied with one field changed, and named so.
 *
 * @module
 */

import examples from "@octokit/webhooks-examples/api.github.com/index.json" with {
  type: "json",
};

type Payload = Record<string, unknown>;

function example(event: string, pick: (payload: Payload) => boolean): Payload {
  const group = (examples as { name: string; examples: Payload[] }[]).find((e) => e.name === event);
  const found = group?.examples.find(pick);
  if (!found) throw new Error(`@octokit/webhooks-examples has no such ${event} example`);
  return structuredClone(found);
}

const pr = (p: Payload) => p.pull_request as Payload;

/** A push to the default branch (`refs/heads/master` of Codertocat/Hello-World), as sent. */
export const PUSH_TO_DEFAULT_BRANCH: Payload = example(
  "push",
  (p) => p.ref === "refs/heads/master" && p.head_commit !== null,
);

/** A push of a tag (`refs/tags/simple-tag`), as sent. */
export const PUSH_OF_TAG: Payload = example(
  "push",
  (p) => p.ref === "refs/tags/simple-tag" && p.head_commit !== null,
);

/** {@linkcode PUSH_TO_DEFAULT_BRANCH} with its ref changed to a feature branch (the package has no such push). */
export const PUSH_TO_FEATURE_BRANCH: Payload = {
  ...structuredClone(PUSH_TO_DEFAULT_BRANCH),
  ref: "refs/heads/feature/login",
};

/** A pull request closed without merging (`pull_request.merged` false), as sent. */
export const PULL_REQUEST_CLOSED: Payload = example(
  "pull_request",
  (p) => p.action === "closed" && pr(p).merged === false,
);

/**
 * {@linkcode PULL_REQUEST_CLOSED} as GitHub sends it when the pull request
 * was merged: `merged` true and `merged_at` set (the package has no merged example).
 */
export const PULL_REQUEST_MERGED: Payload = (() => {
  const payload = structuredClone(PULL_REQUEST_CLOSED);
  Object.assign(pr(payload), { merged: true, merged_at: pr(payload).closed_at });
  return payload;
})();
