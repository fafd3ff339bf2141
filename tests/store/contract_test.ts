/**
 * The store contract's suite (`_contract.ts`) against both implementations:
 * SQLite (`openStore`, its synchronous operations wrapped) always, PostgreSQL on a throwaway cluster
 * when its binaries are installed (always under `HOOKD_TEST_STRICT=1`).
 *
 * @module
 */

import { openStore } from "../../lib/store/mod.ts";
import { openPostgresStore } from "../../lib/store/postgres.ts";
import { SKIP_POSTGRES, startPostgres } from "../postgres_cluster.ts";
import { type ContractTarget, runStoreContract } from "./_contract.ts";

Deno.test("the SQLite store fulfils the store contract", async (t) => {
  const sqlite: ContractTarget = {
    name: "sqlite",
    async fresh() {
      const dir = await Deno.makeTempDir({ prefix: "hookd_contract_" });
      return {
        open: (options) => Promise.resolve(openStore(`${dir}/hookd.db`, options)),
        [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
      };
    },
  };
  await runStoreContract(t, sqlite);
});

Deno.test({
  name: "the PostgreSQL store fulfils the store contract",
  ignore: SKIP_POSTGRES,
  async fn(t) {
    await using cluster = await startPostgres();
    const target: ContractTarget = {
      name: "postgres",
      async fresh() {
        const url = await cluster.createDatabase();
        return {
          open: (options) => openPostgresStore(url, { instanceId: "contract", ...options }),
          [Symbol.asyncDispose]: () => Promise.resolve(),
        };
      },
    };
    await runStoreContract(t, target);
  },
});
