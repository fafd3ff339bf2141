/**
 * Tests for filters: the syntax, its print-back, the evaluator on real
 * GitHub payloads, and how `_MATCH_<EVENT>` variables are read and picked.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  evaluateFilter,
  type FilterInput,
  filterMiss,
  formatFilter,
  matchParts,
  parseFilter,
  pickFilter,
  readFilters,
} from "../../lib/config/filter.ts";
import { ConfigError, parseConfig } from "../../lib/config/mod.ts";
import {
  PULL_REQUEST_CLOSED,
  PULL_REQUEST_MERGED,
  PUSH_OF_TAG,
  PUSH_TO_DEFAULT_BRANCH,
  PUSH_TO_FEATURE_BRANCH,
} from "../_github_examples.ts";

function json(payload: unknown, headers: Record<string, string> = {}): FilterInput {
  return {
    body: new TextEncoder().encode(JSON.stringify(payload)),
    contentType: "application/json",
    headers,
  };
}

const holds = (filter: string, input: FilterInput) =>
  evaluateFilter(parseFilter(filter), input) === undefined;

Deno.test("parseFilter() reads conditions separated by spaces", async (t) => {
  await t.step("field=value and field!=value, ANDed in order", () => {
    const filter = parseFilter("ref=refs/heads/main  repository.full_name!=acme/old");
    assert.equal(filter.conditions.length, 2);
    assert.deepEqual(filter.conditions[0].field.keys, ["ref"]);
    assert.equal(filter.conditions[0].negate, false);
    assert.deepEqual(filter.conditions[1].field.keys, ["repository", "full_name"]);
    assert.equal(filter.conditions[1].negate, true);
  });
  await t.step("a quoted value keeps its spaces; \\ takes the next character", () => {
    const filter = parseFilter('header.x-gitlab-event="Push Hook" title="say \\"hi\\" \\\\ \\*"');
    assert.deepEqual(filter.conditions[0].parts, ["Push Hook"]);
    assert.deepEqual(filter.conditions[1].parts, ['say "hi" \\ *']);
  });
  await t.step("an unescaped * splits the value into glob parts", () => {
    assert.deepEqual(parseFilter("ref=refs/heads/*").conditions[0].parts, ["refs/heads/", ""]);
    assert.deepEqual(parseFilter("ref=a\\*b").conditions[0].parts, ["a*b"]);
  });
  await t.step("a header's name is case-insensitive and printed lower-case", () => {
    assert.equal(
      formatFilter(parseFilter("header.X-GitHub-Event=push")),
      "header.x-github-event=push",
    );
  });
  await t.step('an empty value is written as ""', () => {
    assert.deepEqual(parseFilter('x=""').conditions[0].parts, [""]);
    assert.equal(formatFilter(parseFilter("x=")), 'x=""');
  });
});

Deno.test("parseFilter() refuses malformed filters with the fix", async (t) => {
  const cases: [string, RegExp][] = [
    ["", /no condition/],
    ["   ", /no condition/],
    ["ref", /"ref" has no = or !=/],
    ["ref=main branch", /"branch" has no = or !=/],
    ["=main", /names no field/],
    ['ref="main', /never closed/],
    ['ref="a"b', /put a space between conditions/],
    ['ref=ma"in', /quote the whole value/],
    ["ref=main\\", /lone \\/],
    ["a..b=1", /not a field path/],
    ["header.=x", /does not name a header/],
    ["header.x*y=1", /has no = or !=|does not name a header/],
  ];
  for (const [text, message] of cases) {
    await t.step(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseFilter(text), message);
    });
  }
});

Deno.test("formatFilter() prints what parseFilter() reads back as the same filter", () => {
  const value = fc.string({ unit: fc.constantFrom("a", " ", '"', "\\", "*", "/", "é", "\t") });
  fc.assert(
    fc.property(fc.array(fc.tuple(value, fc.boolean()), { minLength: 1, maxLength: 4 }), (cs) => {
      const text = cs.map(([v, negate], i) =>
        `f${i}${negate ? "!=" : "="}"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`
      ).join(" ");
      const filter = parseFilter(text);
      assert.deepEqual(parseFilter(formatFilter(filter)), filter);
    }),
  );
});

Deno.test("matchParts() matches equality and * globs without backtracking", async (t) => {
  await t.step("one part is plain equality", () => {
    assert.equal(matchParts(["main"], "main"), true);
    assert.equal(matchParts(["main"], "main2"), false);
  });
  await t.step("* matches any run, / included, and the empty one", () => {
    assert.equal(matchParts(["refs/heads/", ""], "refs/heads/release/1.2"), true);
    assert.equal(matchParts(["refs/heads/", ""], "refs/heads/"), true);
    assert.equal(matchParts(["", "[skip ci]", ""], "fix: x [skip ci]"), true);
    assert.equal(matchParts(["a", "a"], "a"), false);
    assert.equal(matchParts(["a", "b", "c"], "abc"), true);
    assert.equal(matchParts(["a", "b", "c"], "acb"), false);
  });
  await t.step("agrees with a regular expression on random input", () => {
    const unit = fc.constantFrom("a", "b", "*");
    fc.assert(
      fc.property(fc.string({ unit }), fc.string({ unit: fc.constantFrom("a", "b") }), (p, s) => {
        const regex = new RegExp(`^${p.split("*").join(".*")}$`, "s");
        assert.equal(matchParts(p.split("*"), s), regex.test(s));
      }),
    );
  });
  await t.step("a pattern of many stars on a long text that almost matches is answered", () => {
    // A backtracking matcher tries every split of the text among the 30 stars and never
    // finishes; the leftmost scan is one pass per part.
    const text = "a".repeat(65536) + "b";
    assert.equal(matchParts(["", ...Array(30).fill("a"), "c", "b"], text), false);
    assert.equal(matchParts(["", ...Array(30).fill("a"), "b"], text), true);
  });
});

Deno.test("evaluateFilter() on real GitHub deliveries", async (t) => {
  await t.step(
    "deploy on push to the default branch: the push passes, a branch and a tag do not",
    () => {
      const filter = "ref=refs/heads/master";
      assert.equal(holds(filter, json(PUSH_TO_DEFAULT_BRANCH)), true);
      assert.equal(
        evaluateFilter(parseFilter(filter), json(PUSH_TO_FEATURE_BRANCH)),
        "ref=refs/heads/master",
      );
      assert.equal(holds(filter, json(PUSH_OF_TAG)), false);
    },
  );
  await t.step(
    "only merged pull requests: a merged one passes, one closed unmerged does not",
    () => {
      const filter = "action=closed pull_request.merged=true";
      assert.equal(holds(filter, json(PULL_REQUEST_MERGED)), true);
      assert.equal(
        evaluateFilter(parseFilter(filter), json(PULL_REQUEST_CLOSED)),
        "pull_request.merged=true",
      );
    },
  );
  await t.step("only one repository, any branch: globs and != together", () => {
    const filter = "repository.full_name=Codertocat/Hello-World ref=refs/heads/* ref!=*/feature/*";
    assert.equal(holds(filter, json(PUSH_TO_DEFAULT_BRANCH)), true);
    assert.equal(holds(filter, json(PUSH_TO_FEATURE_BRANCH)), false);
    assert.equal(holds(filter, json(PUSH_OF_TAG)), false);
    assert.equal(holds("repository.full_name=acme/site", json(PUSH_TO_DEFAULT_BRANCH)), false);
  });
  await t.step("numbers, null and objects compare as JSON text; arrays index by number", () => {
    const pr = PULL_REQUEST_CLOSED;
    assert.equal(holds(`number=${(pr as { number: number }).number}`, json(pr)), true);
    assert.equal(holds("pull_request.merged_at=null", json(pr)), true);
    assert.equal(holds("pull_request.labels.0.name=bug", json(pr)), true);
    assert.equal(holds("pull_request.labels.1.name=*", json(pr)), false);
    assert.equal(holds('pull_request.labels.0="{\\"id\\":*"', json(pr)), true);
    assert.equal(
      holds(`head_commit.author.email=*@*`, json(PUSH_TO_DEFAULT_BRANCH)),
      true,
    );
    assert.equal(holds("commits.0.distinct=true", json(PUSH_TO_DEFAULT_BRANCH)), true);
  });
  await t.step("an absent field fails = and satisfies !=, and is named", () => {
    assert.equal(
      evaluateFilter(parseFilter("nothing.here=x"), json({})),
      "nothing.here=x (no such field)",
    );
    assert.equal(holds("nothing.here!=x", json({})), true);
  });
  await t.step("headers are read from the stored headers, case-insensitively", () => {
    const input = json({}, { "x-gitlab-event": "Push Hook" });
    assert.equal(holds('header.X-Gitlab-Event="Push Hook"', input), true);
    assert.equal(holds("header.x-gitlab-event=Push*", input), true);
    assert.equal(holds('header.x-gitlab-event="Tag Push Hook"', input), false);
  });
  await t.step("a form body is read field by field; a body that is neither has no fields", () => {
    const form = {
      body: new TextEncoder().encode("status=firing&team=ops&team=web"),
      contentType: "application/x-www-form-urlencoded",
      headers: {},
    };
    assert.equal(holds("status=firing", form), true);
    assert.equal(holds('team="[\\"ops\\",\\"web\\"]"', form), true);
    assert.equal(holds("team=*web*", form), true);
    const text = {
      body: new TextEncoder().encode("hello"),
      contentType: "text/plain",
      headers: {},
    };
    assert.equal(holds("x!=1", text), true);
    assert.equal(holds("x=*", text), false);
  });
  await t.step("a path never reaches Object.prototype", () => {
    assert.equal(holds("constructor=*", json({})), false);
    assert.equal(holds("__proto__=*", json({})), false);
    assert.equal(holds("ref.length=*", json({ ref: "main" })), false);
  });
});

Deno.test("evaluateFilter() reads fields from the parse it is handed, not from the body again", () => {
  const filter = parseFilter("ref=refs/heads/main");
  // Bytes that do not parse: only the handed-on value can make the filter hold.
  const input = { body: new TextEncoder().encode("not json"), contentType: "application/json" };
  assert.equal(
    evaluateFilter(filter, { ...input, headers: {} }),
    "ref=refs/heads/main (no such field)",
  );
  const parsed = { value: { ref: "refs/heads/main" } };
  assert.equal(evaluateFilter(filter, { ...input, headers: {}, parsed }), undefined);
});

Deno.test("_MATCH_<EVENT> variables are read with the configuration and picked like hooks", async (t) => {
  const base = {
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: "a-long-random-secret-0123456789",
    HOOKD_GH_HOOK_DEFAULT: "true",
  };
  await t.step("most specific first, then DEFAULT", () => {
    const endpoint = parseConfig({
      ...base,
      HOOKD_GH_MATCH_PULL_REQUEST: "pull_request.merged=true",
      HOOKD_GH_MATCH_PULL_REQUEST_OPENED: "pull_request.draft=false",
      HOOKD_GH_MATCH_DEFAULT: "repository.full_name=acme/site",
    }).endpoints.get("gh")!;
    assert.equal(
      pickFilter(endpoint, "pull_request.opened")?.variable,
      "HOOKD_GH_MATCH_PULL_REQUEST_OPENED",
    );
    assert.equal(
      pickFilter(endpoint, "pull_request.closed")?.variable,
      "HOOKD_GH_MATCH_PULL_REQUEST",
    );
    assert.equal(pickFilter(endpoint, "push")?.variable, "HOOKD_GH_MATCH_DEFAULT");
    assert.equal(
      filterMiss(endpoint, "pull_request.closed", json(PULL_REQUEST_CLOSED)),
      "HOOKD_GH_MATCH_PULL_REQUEST: pull_request.merged=true",
    );
    assert.equal(filterMiss(endpoint, "pull_request.closed", json(PULL_REQUEST_MERGED)), undefined);
  });
  await t.step("no filter: every delivery passes", () => {
    const endpoint = parseConfig(base).endpoints.get("gh")!;
    assert.equal(filterMiss(endpoint, "push", json({})), undefined);
  });
  await t.step("a malformed filter is a ConfigError naming the variable and the fix", () => {
    let problems: string[] = [];
    try {
      parseConfig({ ...base, HOOKD_GH_MATCH_PUSH: "ref refs/heads/main" });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      problems = error.problems;
    }
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^HOOKD_GH_MATCH_PUSH is not a valid filter: "ref" has no = or !=/);
    assert.match(problems[0], /HOOKD_GH_MATCH_PUSH='ref=refs\/heads\/main'/);
  });
  await t.step("a bad name and an empty value are refused; the variables are not unknown", () => {
    const problems: string[] = [];
    const known = new Set<string>();
    readFilters(
      "HOOKD_GH_",
      {
        HOOKD_GH_MATCH_push: "ref=x",
        HOOKD_GH_MATCH_PUSH: "",
        HOOKD_OTHER_MATCH_PUSH: "ref=x",
      },
      problems,
      known,
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0], /HOOKD_GH_MATCH_push is not a valid filter name/);
    assert.match(problems[1], /HOOKD_GH_MATCH_PUSH is not a valid filter: no condition/);
    assert.deepEqual([...known].sort(), ["HOOKD_GH_MATCH_PUSH", "HOOKD_GH_MATCH_push"]);
  });
});
