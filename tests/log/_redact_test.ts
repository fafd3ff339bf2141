/**
 * Tests for redaction as a logged record meets it: sensitive names at any
 * depth and in the message, raw bytes, and names that only describe a secret.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hookLog, requestLog, setupLog } from "../../lib/log/mod.ts";
import { tempDir } from "../harness.ts";
import { readLines } from "./_files.ts";

Deno.test("setupLog() redacts secrets, signatures, tokens, passwords and bodies", async (t) => {
  await using dir = await tempDir();
  const file = `${dir.path}/hookd.jsonl`;
  const secrets = [
    "S3CR3T-a",
    "sha256=SIGVALUE-b",
    "RAWBODY-c",
    "TOKEN-d",
    "PASSWORD-e",
    "HOOKSECRET-f",
    "sha256=HEADERSIG-g",
    "APITOKEN-h",
    "Bearer AUTH-i",
    "TOKEN-IN-MESSAGE-j",
  ];
  {
    await using _log = await setupLog({
      file,
      maxBytes: 1_000_000,
      maxFiles: 2,
      stderr: false,
    });
    requestLog().info("request", {
      secret: secrets[0],
      signature: secrets[1],
      body: secrets[2],
      token: secrets[3],
      password: secrets[4],
      webhook_secret: secrets[5],
      headers: {
        "x-hub-signature-256": secrets[6],
        "content-type": "application/json",
        authorization: secrets[8],
      },
      nested: [{ apiToken: secrets[7] }],
      payload: new TextEncoder().encode("raw bytes of a body"),
      bodyBytes: 1234,
      signatureValid: false,
      endpoint: "github",
    });
    hookLog().warn("hook got {token} from {endpoint}", {
      token: secrets[9],
      endpoint: "gitlab",
    });
  }
  const text = await Deno.readTextFile(file);
  const [request, hook] = await readLines(file);

  await t.step("no secret value appears anywhere in the file", () => {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret.split("=").at(-1)!), `${secret} leaked`);
    }
  });

  await t.step("sensitive names are kept with a redacted value", () => {
    for (
      const key of [
        "secret",
        "signature",
        "body",
        "token",
        "password",
        "webhook_secret",
      ]
    ) {
      assert.equal(request[key], "[REDACTED]", key);
    }
    assert.deepEqual(request.headers, {
      "x-hub-signature-256": "[REDACTED]",
      "content-type": "application/json",
      authorization: "[REDACTED]",
    });
    assert.deepEqual(request.nested, [{ apiToken: "[REDACTED]" }]);
  });

  await t.step("raw bytes are written as their size only", () => {
    assert.equal(request.payload, "[binary 19 bytes]");
  });

  await t.step("names that describe rather than hold a secret are kept", () => {
    assert.equal(request.bodyBytes, 1234);
    assert.equal(request.signatureValid, false);
    assert.equal(request.endpoint, "github");
  });

  await t.step(
    "a secret interpolated into the message is redacted there too",
    () => {
      assert.equal(hook.message, "hook got [REDACTED] from gitlab");
      assert.equal(hook.token, "[REDACTED]");
    },
  );
});
