import assert from "node:assert/strict";
import { azureDevops, clerk, postmark, resend } from "../../lib/verify/aliases.ts";
import { PROVIDERS } from "../../lib/verify/mod.ts";
import { assertAccepted, assertRejected, delivery } from "./_timestamped.ts";
import { verifyOnce } from "./_body_signed.ts";

// Clerk and Resend deliver through Svix: the Standard Webhooks reference
// libraries' "sign function works" vector, in svix-* headers as they send it.
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY = '{"test": 2432232314}';
const SVIX = {
  "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
  "svix-timestamp": "1614265330",
  "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

Deno.test("clerk and resend verify the Standard Webhooks vector in svix-* headers", async () => {
  for (const provider of [clerk, resend]) {
    const verdict = assertAccepted(
      await verifyOnce(provider, [SECRET], delivery(SVIX, BODY, 1614265330 * 1000)),
    );
    assert.equal(verdict.deliveryId, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    assertRejected(
      await verifyOnce(provider, [SECRET], delivery(SVIX, `${BODY} `, 1614265330 * 1000)),
      401,
      /invalid/,
    );
  }
});

Deno.test("postmark and azure-devops check basic auth against user:password", async () => {
  const basic = (text: string) => ({ Authorization: `Basic ${btoa(text)}` });
  for (const provider of [postmark, azureDevops]) {
    assert.equal(provider.settings.TOKEN_HEADER.default, "Authorization");
    const run = (headers: Record<string, string>) =>
      verifyOnce(provider, ["hook:s3cret-pass"], delivery(headers, "{}", 0), {
        TOKEN_HEADER: "Authorization",
      });
    assert.equal(assertAccepted(await run(basic("hook:s3cret-pass"))).verifiedBy, "secret");
    assertRejected(await run(basic("hook:s3cret-pasS")), 401, /invalid token/);
    assertRejected(await run({}), 401, /missing Authorization/);
  }
});

Deno.test("the aliases are registered under their own names", () => {
  for (const name of ["clerk", "resend", "postmark", "azure-devops"]) {
    assert.equal(PROVIDERS.get(name)?.name, name);
  }
});
