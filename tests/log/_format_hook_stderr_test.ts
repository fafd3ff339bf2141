/**
 * Tests for the stderr line of a failed hook: it quotes the first line of
 * the hook's stderr, escaped and cut, so the journal says why it failed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatStderrLine } from "../../lib/log/_format.ts";

function hookRecord(stderrFirstLine: string) {
  return {
    category: ["hookd", "hook"],
    level: "warning" as const,
    message: ["hook"],
    rawMessage: "hook",
    timestamp: 0,
    properties: { endpoint: "gh", event: "push", exitCode: 127, id: "d1", stderrFirstLine },
  };
}

Deno.test("formatStderrLine() quotes a failed hook's first stderr line, escaped and cut", async (t) => {
  await t.step("a plain line is quoted, even one word", () => {
    assert.equal(
      formatStderrLine(hookRecord("sh: 1: /x.sh: not found")),
      'WARNING hook gh push exit=127 id=d1 stderr="sh: 1: /x.sh: not found"',
    );
    assert.match(formatStderrLine(hookRecord("boom")), / stderr="boom"$/);
  });

  await t.step("C0, DEL and C1 control characters are escaped", () => {
    const line = formatStderrLine(hookRecord("a\u001b[2Jb\u007fc\u009bd"));
    assert.match(line, / stderr="a\\u001b\[2Jb\\u007fc\\u009bd"$/);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/);
  });

  await t.step("a long line is cut at 200 characters and says so", () => {
    const line = formatStderrLine(hookRecord("x".repeat(500)));
    assert.match(line, new RegExp(` stderr="${"x".repeat(200)}…\\[300 more chars\\]"$`));
  });
});
