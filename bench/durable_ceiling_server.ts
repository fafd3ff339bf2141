/**
 * The durable ceiling: the least any receiver on this runtime can do before
 * a durable 2xx. `Deno.serve` + Hono, read the body, check
 * `X-Hub-Signature-256` with WebCrypto (the key imported once),
 * `JSON.parse` it, append the delivery to one file and `fdatasync` it, one
 * sync shared by the requests that arrive while the previous one runs. No
 * log, no index, no dedupe, no queue.
 *
 * Usage: `deno run --allow-net --allow-env --allow-read --allow-write
 * bench/durable_ceiling_server.ts PORT FILE` with the secret in
 * `BENCH_SECRET`.
 *
 * @module
 */

import { Hono } from "hono";

/** An append-only journal whose appends resolve once they are on disk. */
interface Journal {
  /** Resolves after an fdatasync that covers `line`. */
  append(line: Uint8Array): Promise<void>;
}

/**
 * Open the journal: appends made while a sync runs wait and share the next
 * one, so a busy server syncs back to back, never once per request.
 *
 * @param path the file, created or appended to
 * @returns the journal
 */
export async function openJournal(path: string): Promise<Journal> {
  const file = await Deno.open(path, { create: true, append: true });
  let waiting: { line: Uint8Array; done: () => void; failed: (e: unknown) => void }[] = [];
  let syncing = false;

  async function drain(): Promise<void> {
    syncing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      const size = batch.reduce((n, w) => n + w.line.byteLength, 0);
      const buffer = new Uint8Array(size);
      let at = 0;
      for (const w of batch) {
        buffer.set(w.line, at);
        at += w.line.byteLength;
      }
      try {
        for (let written = 0; written < size;) {
          written += await file.write(buffer.subarray(written));
        }
        await file.syncData();
        for (const w of batch) w.done();
      } catch (error) {
        for (const w of batch) w.failed(error);
      }
    }
    syncing = false;
  }

  return {
    append(line) {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      waiting.push({ line, done: resolve, failed: reject });
      if (!syncing) drain();
      return promise;
    },
  };
}

/**
 * Build the durable ceiling app.
 *
 * @param secret the shared secret
 * @param journal where accepted deliveries go
 * @returns the Hono app
 */
export async function durableCeilingApp(secret: string, journal: Journal): Promise<Hono> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const app = new Hono();
  app.post("/hooks/:name", async function accept(c) {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const header = c.req.header("x-hub-signature-256") ?? "";
    const hex = header.startsWith("sha256=") ? header.slice(7) : "";
    const mac = /^[0-9a-f]{64}$/.test(hex) ? Uint8Array.fromHex(hex) : null;
    const ok = mac !== null && await crypto.subtle.verify("HMAC", key, mac, body);
    if (!ok) return c.json({ error: "Bad signature" }, 401);
    let event: unknown;
    try {
      event = JSON.parse(decoder.decode(body));
    } catch {
      return c.json({ error: "Malformed JSON" }, 400);
    }
    const id = c.req.header("x-github-delivery") ?? "";
    // The parsed value is not written back: the bytes as received are the record.
    void event;
    const head = encoder.encode(`${id.length}:${id}${body.byteLength}:`);
    const line = new Uint8Array(head.byteLength + body.byteLength + 1);
    line.set(head);
    line.set(body, head.byteLength);
    line[line.byteLength - 1] = 10;
    await journal.append(line);
    return c.json({ accepted: true }, 202);
  });
  return app;
}

if (import.meta.main) {
  const port = Number(Deno.args[0] ?? "0");
  const journal = await openJournal(Deno.args[1] ?? "journal.bin");
  const app = await durableCeilingApp(Deno.env.get("BENCH_SECRET") ?? "", journal);
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) => console.error(`listening on http://127.0.0.1:${port}`),
  }, app.fetch);
}
