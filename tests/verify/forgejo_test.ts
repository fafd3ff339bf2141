import { forgejo, FORGEJO_HEADERS } from "../../lib/verify/forgejo.ts";
import { forgeCases } from "./_forge_cases.ts";

// Forgejo publishes no signature vector. The scheme is read from its
// services/webhook/default.go (addDefaultHeaders: hex HMAC-SHA256 of the
// payload JSON in X-Forgejo-Signature, for JSON and form hooks alike) and
// its docs (https://forgejo.org/docs/latest/user/webhooks/); node:crypto is
// the oracle.
Deno.test("forgejo verify() accepts what Forgejo signs and refuses everything else", async (t) => {
  await forgeCases(t, forgejo, FORGEJO_HEADERS);
});
