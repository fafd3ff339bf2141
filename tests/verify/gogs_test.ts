import { gogs, GOGS_HEADERS } from "../../lib/verify/gogs.ts";
import { forgeCases } from "./_forge_cases.ts";

// Gogs publishes no signature vector. The scheme is read from
// internal/database/webhook.go
// (https://github.com/gogs/gogs/blob/main/internal/database/webhook.go):
// the hex HMAC-SHA256 of JSONPayload() goes in X-Gogs-Signature, and a form
// hook sends that JSON as the payload field; node:crypto is the oracle.
Deno.test("gogs verify() accepts what Gogs signs and refuses everything else", async (t) => {
  await forgeCases(t, gogs, GOGS_HEADERS);
});
