/**
 * A run whose end the store cannot record: the queue tries a bounded number
 * of times, then frees the run's slot and reports it, so that one poisoned
 * run never holds a slot forever.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { delivery } from "../_delivery.ts";
import { harness, insertAll } from "./_queue_harness.ts";

Deno.test("a run end the store keeps refusing frees its slot after bounded tries and is reported", async () => {
  await using h = await harness({ maxConcurrent: 1, pollIntervalMs: 20 });
  {
    // A real refusal, from the database itself, for this run's end only.
    using db = new DatabaseSync(`${h.dir}/hookd.db`);
    db.exec(`CREATE TRIGGER refuse_end BEFORE UPDATE OF ended_at ON runs
             WHEN (SELECT endpoint FROM deliveries WHERE id = NEW.delivery_id) = 'poisoned'
             BEGIN SELECT RAISE(ABORT, 'the disk says no'); END`);
  }
  const [poisoned] = await insertAll(h, [delivery({ endpoint: "poisoned" })]);
  await h.events.started(poisoned);
  const [next] = await insertAll(h, [delivery({ endpoint: "deploy" })]);
  const gaveUp = await h.events.waitFor((e) =>
    e.type === "error" && e.during === "record" && e.id === poisoned &&
    /gave up/i.test(String(e.error))
  );
  assert.match(String((gaveUp as { error: unknown }).error), /the disk says no/);
  const tries = h.events.events.filter((e) =>
    e.type === "error" && e.during === "record" && e.id === poisoned
  );
  assert.ok(tries.length > 1 && tries.length <= 10, `${tries.length} tries`);
  await h.events.ended(next, "done");
  assert.deepEqual(h.queue.runningIds(), []);
});
