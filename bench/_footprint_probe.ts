/**
 * A scratch process for the footprint breakdown (bench/footprint.ts): does one
 * thing, runs a full GC, and prints its memory as one JSON line. Run with
 * `--expose-gc`.
 *
 * - `empty`: nothing (the runtime's own cost);
 * - `import SPEC`: import one module (a bare specifier from deno.json, or a
 *   path from the checkout's root);
 * - `store true|false DIR`: open the SQLite store with or without its
 *   background checkpoint worker;
 * - `daemon DIR`: run `main.ts serve` in this process (SQLite, one GitHub
 *   endpoint, admin listener on) until it listens, then settle 2 s.
 *
 * @module
 */

import { envFileText } from "../tests/harness.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function measure(): Promise<Record<string, number>> {
  // Two passes: weak references and finalizers free more on the second.
  for (let i = 0; i < 2; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = Deno.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const [mode, arg, arg2] = Deno.args;
if (mode === "import") {
  await import(arg.startsWith("./") ? `${ROOT}${arg.slice(2)}` : arg);
} else if (mode === "store") {
  const { openStore } = await import("../lib/store/mod.ts");
  // "true": the checkpoint worker starts at the first commit; "false": never.
  const store = openStore(`${arg2}/store_${arg}.db`, {
    retentionMs: 86_400_000,
    checkpointAfterBytes: arg === "true" ? 1 : 2 ** 40,
  });
  await store.insert({
    endpoint: "probe",
    event: "push",
    receivedAt: Date.now(),
    contentType: "application/json",
    headers: {},
    body: new TextEncoder().encode("{}"),
    hook: null,
    timeoutMs: 1000,
  });
  await new Promise((r) => setTimeout(r, 1000));
} else if (mode === "daemon") {
  const port = freePort();
  const envFile = `${arg}/hookd.env`;
  await Deno.writeTextFile(
    envFile,
    envFileText({
      HOOKD_LISTEN: `127.0.0.1:${port}`,
      HOOKD_ADMIN_LISTEN: "127.0.0.1:0",
      HOOKD_ENDPOINTS: "github",
      HOOKD_GITHUB_PROVIDER: "github",
      HOOKD_GITHUB_SECRET: "bench-secret-0123456789abcdef0123456789abcdef",
      HOOKD_GITHUB_HOOK_PUSH: "/bin/true",
      HOOKD_LOG_FILE: `${arg}/hookd.log`,
      HOOKD_STATE_DIR: `${arg}/state`,
    }),
    { mode: 0o600 },
  );
  const { main } = await import("../main.ts");
  main(["serve", "--env-file", envFile]);
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await new Promise((r) => setTimeout(r, 2000));
}
console.log(JSON.stringify(await measure()));
Deno.exit(0);
