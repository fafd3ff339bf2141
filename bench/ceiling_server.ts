/**
 * The ceiling: the least a Deno webhook receiver can do for the bench's
 * request. `Deno.serve` + Hono, read the body, check `X-Hub-Signature-256`
 * with WebCrypto (HMAC-SHA256, the key imported once), answer 202. No body
 * limit, no JSON parse, no log, no store.
 *
 * Usage: `deno run --allow-net --allow-env bench/ceiling_server.ts PORT`
 * with the secret in `BENCH_SECRET`.
 *
 * @module
 */

import { Hono } from "hono";

/**
 * Build the ceiling app.
 *
 * @param secret the shared secret
 * @returns the Hono app
 */
export async function ceilingApp(secret: string): Promise<Hono> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const app = new Hono();
  app.post("/hooks/:name", async function verify(c) {
    const body = await c.req.arrayBuffer();
    const header = c.req.header("x-hub-signature-256") ?? "";
    const hex = header.startsWith("sha256=") ? header.slice(7) : "";
    const mac = /^[0-9a-f]{64}$/.test(hex) ? Uint8Array.fromHex(hex) : null;
    const ok = mac !== null && await crypto.subtle.verify("HMAC", key, mac, body);
    return ok ? c.json({ accepted: true }, 202) : c.json({ error: "Bad signature" }, 401);
  });
  return app;
}

if (import.meta.main) {
  const port = Number(Deno.args[0] ?? "0");
  const app = await ceilingApp(Deno.env.get("BENCH_SECRET") ?? "");
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) => console.error(`listening on http://127.0.0.1:${port}`),
  }, app.fetch);
}
