import { gitea, GITEA_HEADERS } from "../../lib/verify/gitea.ts";
import { forgeCases } from "./_forge_cases.ts";

// Gitea publishes no signature vector (its deliver_test.go checks headers,
// not values). The scheme is read from services/webhook/deliver.go
// (https://github.com/go-gitea/gitea/blob/main/services/webhook/deliver.go):
// hex HMAC-SHA256 of t.PayloadContent in X-Gitea-Signature, for JSON and
// form hooks alike; node:crypto is the oracle.
Deno.test("gitea verify() accepts what Gitea signs and refuses everything else", async (t) => {
  await forgeCases(t, gitea, GITEA_HEADERS);
});
