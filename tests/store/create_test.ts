/**
 * Tests for `openStore`'s `create` option: the command line never makes a
 * store where the daemon has none.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  openStore,
  StoreMissingError,
  storePath,
  StoreUnavailableError,
} from "../../lib/store/mod.ts";
import { delivery } from "../_delivery.ts";
import { tempDir } from "../harness.ts";

Deno.test("openStore() with create: false refuses a missing file and creates nothing", async (t) => {
  await using dir = await tempDir();
  const path = storePath(`${dir.path}/state`);

  for (const readOnly of [false, true]) {
    await t.step(readOnly ? "read-only" : "read-write", async () => {
      let thrown: unknown;
      try {
        await openStore(path, { create: false, readOnly }).close();
      } catch (error) {
        thrown = error;
      }
      assert.ok(thrown instanceof StoreMissingError, String(thrown));
      assert.ok(thrown instanceof StoreUnavailableError, "callers catching that still do");
      assert.equal(thrown.path, path);
      assert.deepEqual([...Deno.readDirSync(dir.path)], [], "no directory, no file");
    });
  }

  await t.step("an existing store opens as before", async () => {
    {
      await using store = openStore(path);
      await store.insert(delivery());
    }
    await using store = openStore(path, { create: false });
    assert.equal((await store.list()).length, 1);
  });
});
