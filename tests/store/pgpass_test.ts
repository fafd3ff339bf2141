/**
 * Tests for reading libpq's password file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pgpassLookup } from "../../lib/store/_pgpass.ts";

const target = { host: "db.internal", port: "5432", database: "hookd", user: "hookd" };

Deno.test("pgpassLookup() finds the first matching line, with wildcards and escapes", async (t) => {
  await t.step("an exact line matches", () => {
    assert.equal(pgpassLookup("db.internal:5432:hookd:hookd:s3cret\n", target), "s3cret");
  });
  await t.step("the first match wins, comments and short lines are skipped", () => {
    const text =
      "# hookd\nbroken:line\nother:5432:hookd:hookd:no\n*:*:hookd:*:first\n*:*:*:*:second";
    assert.equal(pgpassLookup(text, target), "first");
  });
  await t.step("\\: and \\\\ are a colon and a backslash", () => {
    assert.equal(pgpassLookup("*:*:*:hookd:a\\:b\\\\c", target), "a:b\\c");
  });
  await t.step("no match is undefined", () => {
    assert.equal(pgpassLookup("db.internal:5433:hookd:hookd:x", target), undefined);
    assert.equal(pgpassLookup("", target), undefined);
  });
});
