/**
 * The benchmark's request: a realistic GitHub `push` payload of about 7 KB,
 * signed once with the bench secret, plus a same-length bad signature.
 *
 * @module
 */

/** The shared secret every server under test is configured with. */
export const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";

/** A pre-signed request: the body and its headers. */
export interface SignedRequest {
  /** The raw JSON body. */
  body: Uint8Array<ArrayBuffer>;
  /** `sha256=<hex>` over the body with {@linkcode SECRET}. */
  signature: string;
  /** A signature of the same length that does not match. */
  badSignature: string;
}

/**
 * Build the push payload and sign it.
 *
 * @param targetBytes about how large the body should be
 * @returns the body and its signatures
 */
export async function signedPush(targetBytes = 7_168): Promise<SignedRequest> {
  const body = new TextEncoder().encode(pushPayload(targetBytes));
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const hex = new Uint8Array(await crypto.subtle.sign("HMAC", key, body)).toHex();
  const flipped = (hex[0] === "0" ? "1" : "0") + hex.slice(1);
  return { body, signature: `sha256=${hex}`, badSignature: `sha256=${flipped}` };
}

/**
 * A GitHub push event shaped like the real thing (repository, pusher,
 * sender, commits, head commit), padded with commits to about `targetBytes`.
 *
 * @param targetBytes the size to reach
 * @returns the JSON text
 */
export function pushPayload(targetBytes: number): string {
  const user = {
    name: "octocat",
    email: "octocat@users.noreply.github.com",
    username: "octocat",
  };
  const account = {
    login: "octocat",
    id: 583231,
    node_id: "MDQ6VXNlcjU4MzIzMQ==",
    avatar_url: "https://avatars.githubusercontent.com/u/583231?v=4",
    html_url: "https://github.com/octocat",
    type: "User",
    site_admin: false,
  };
  const commit = (n: number) => ({
    id: sha(n),
    tree_id: sha(n + 1000),
    distinct: true,
    message: `Fix the widget renderer (#${1200 + n})\n\nThe cache was keyed by the wrong id.`,
    timestamp: "2026-11-23T05:40:00+00:00",
    url: `https://github.com/octocat/hello-world/commit/${sha(n)}`,
    author: user,
    committer: user,
    added: [`src/widgets/renderer_${n}.ts`],
    removed: [],
    modified: ["src/widgets/cache.ts", "README.md"],
  });
  const payload = {
    ref: "refs/heads/main",
    before: sha(9998),
    after: sha(9999),
    repository: {
      id: 1296269,
      node_id: "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
      name: "hello-world",
      full_name: "octocat/hello-world",
      private: false,
      owner: account,
      html_url: "https://github.com/octocat/hello-world",
      description: "My first repository on GitHub!",
      fork: false,
      url: "https://github.com/octocat/hello-world",
      created_at: 1296068472,
      updated_at: "2026-11-22T10:00:00Z",
      pushed_at: 1795412400,
      git_url: "git://github.com/octocat/hello-world.git",
      ssh_url: "git@github.com:octocat/hello-world.git",
      clone_url: "https://github.com/octocat/hello-world.git",
      homepage: null,
      size: 108,
      stargazers_count: 80,
      watchers_count: 80,
      language: "TypeScript",
      forks_count: 9,
      open_issues_count: 0,
      default_branch: "main",
      master_branch: "main",
    },
    pusher: { name: "octocat", email: "octocat@users.noreply.github.com" },
    sender: account,
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/octocat/hello-world/compare/${sha(9998).slice(0, 12)}...${
      sha(9999).slice(0, 12)
    }`,
    commits: [] as ReturnType<typeof commit>[],
    head_commit: commit(0),
  };
  let text = JSON.stringify(payload);
  for (let n = 1; text.length < targetBytes; n++) {
    payload.commits.push(commit(n));
    text = JSON.stringify(payload);
  }
  return text;
}

/** A fake but well-formed commit sha, fixed for each `n`. */
function sha(n: number): string {
  return (n * 2654435761 % 2 ** 32).toString(16).padStart(8, "0").repeat(5);
}
