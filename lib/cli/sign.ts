/**
 * `hookd sign` and `hookd send`: sign a file as the configured sender would,
 * so an admin can test an installation end to end without the real sender.
 *
 * @module
 */

import type { CommandLine } from "./command_line.ts";
import type { Config } from "../config/mod.ts";
import { PROVIDERS } from "../verify/mod.ts";

/**
 * The headers the endpoint's sender would send with this body.
 *
 * @param options the endpoint name, body, event and URL
 * @returns the headers, `Content-Type` included
 * @throws {Error} naming the problem when the endpoint is unknown or its
 *   provider cannot be signed for (Ed25519 and ECDSA senders, and senders
 *   that sign inside the body)
 */
export async function signedHeaders(
  config: Config,
  options: { endpoint?: string; body: Uint8Array; event?: string; url: string },
): Promise<Record<string, string>> {
  if (!options.endpoint) throw new Error("--endpoint is required: name the endpoint to sign for");
  const endpoint = config.endpoints.get(options.endpoint);
  if (!endpoint) {
    throw new Error(
      `No endpoint "${options.endpoint}": HOOKD_ENDPOINTS lists ${
        [...config.endpoints.keys()].join(", ")
      }`,
    );
  }
  const provider = PROVIDERS.get(endpoint.provider)!;
  if (!provider.sign) {
    // Public-key senders sign with a key hookd never holds; others (Mailgun)
    // carry the signature inside the body, which hookd sign does not write.
    throw new Error(
      provider.secret === "none"
        ? `The ${provider.name} provider signs with a private key hookd never holds: use the sender's own test button`
        : `hookd cannot sign for the ${provider.name} provider, whose signature travels in the body: use the sender's own test button`,
    );
  }
  const headers = await provider.sign(endpoint, options.body, {
    event: options.event,
    now: Date.now(),
    deliveryId: crypto.randomUUID(),
    url: options.url,
  });
  const hasType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
  return hasType ? headers : { "Content-Type": "application/json", ...headers };
}

/**
 * Run `hookd sign` or `hookd send`.
 *
 * @returns the text to print and the exit code
 * @throws {Error} naming the file when it cannot be read, or as
 *   {@linkcode signedHeaders} does
 */
export async function runSignCommand(
  cli: CommandLine,
  config: Config,
): Promise<{ output: string; code: number }> {
  const file = cli.args.at(-1)!;
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await Deno.readFile(file);
  } catch (error) {
    throw new Error(
      `Cannot read ${file}: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  const url = cli.command === "send"
    ? cli.args[0]
    : `${listenOrigin(config)}/hooks/${cli.endpoint}`;
  const headers = await signedHeaders(config, {
    endpoint: cli.endpoint,
    body,
    event: cli.event,
    url,
  });
  if (cli.command === "sign") {
    const lines = Object.entries(headers).map(([k, v]) => `  -H ${shellQuote(`${k}: ${v}`)} \\`);
    return {
      output: [
        `curl -sS -X POST ${shellQuote(url)} \\`,
        ...lines,
        `  --data-binary @${shellQuote(file)}`,
      ]
        .join("\n"),
      code: 0,
    };
  }
  const response = await fetch(url, { method: "POST", headers, body });
  const text = await response.text();
  return {
    output: `${response.status} ${response.statusText}\n${text}`,
    code: response.ok ? 0 : 1,
  };
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The origin a sender would post to: the listener's, or the proxy's `localhost` for a unix socket. */
function listenOrigin(config: Config): string {
  const listen = config.listen;
  if ("path" in listen) return "http://localhost";
  const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
  return `http://${host}:${listen.port}`;
}
