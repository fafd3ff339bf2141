import assert from "node:assert/strict";
import { token } from "../../lib/verify/token.ts";
import { assertAccepted, assertRejected, delivery, endpointFor } from "./_timestamped.ts";
import { NOW, verifyOnce } from "./_body_signed.ts";

// A token is a shared secret sent as is (e.g. Alertmanager's
// http_config.authorization, Docker Hub or Azure DevOps behind a header);
// there is no signature, so no vector: the cases are what a token can be.
const BODY = '{"status":"firing"}';
const SETTINGS = { TOKEN_HEADER: "X-Token", EVENT_FIELD: "status" };

const run = (headers: HeadersInit, settings: Record<string, string> = SETTINGS) =>
  verifyOnce(token, ["current", "previous"], delivery(headers, BODY, NOW), settings);

Deno.test("token verify() compares the token in constant time", async (t) => {
  await t.step("accepts the current token", async () => {
    const verdict = assertAccepted(await run({ "X-Token": "current" }));
    assert.equal(verdict.verifiedBy, "secret");
    assert.equal(verdict.event, "firing");
  });
  await t.step("accepts the previous token during rotation and says so", async () => {
    assert.equal(
      assertAccepted(await run({ "X-Token": "previous" })).verifiedBy,
      "previous secret",
    );
  });
  await t.step("rejects a wrong, truncated or extended token", async () => {
    assertRejected(await run({ "X-Token": "wrong" }), 401, /invalid token/, "rejected.token");
    assertRejected(await run({ "X-Token": "curren" }), 401, /invalid token/);
    assertRejected(await run({ "X-Token": "currentX" }), 401, /invalid token/);
  });
  await t.step("rejects the header sent twice", async () => {
    const headers = new Headers({ "X-Token": "current" });
    headers.append("X-Token", "current");
    assertRejected(await run(headers), 401, /more than once/);
  });
  await t.step("rejects a missing token", async () => {
    assertRejected(await run({}), 401, /missing X-Token/);
  });
  await t.step("takes Authorization: Bearer <token>", async () => {
    const settings = { TOKEN_HEADER: "Authorization" };
    assertAccepted(await run({ Authorization: "Bearer current" }, settings));
    assertRejected(await run({ Authorization: "Basic current" }, settings), 401, /invalid token/);
  });
});

Deno.test("token sign() writes the token where verify() reads it", async () => {
  for (const header of ["X-Token", "Authorization"]) {
    const settings = { TOKEN_HEADER: header };
    const headers = await token.sign!(endpointFor(token, ["current"], settings), new Uint8Array(), {
      now: NOW,
    });
    assertAccepted(await verifyOnce(token, ["current"], delivery(headers, BODY, NOW), settings));
  }
});

Deno.test("token create() refuses EVENT_HEADER and EVENT_FIELD together", async () => {
  const settings = { TOKEN_HEADER: "X-Token", EVENT_HEADER: "X-Event", EVENT_FIELD: "type" };
  await assert.rejects(
    token.create(endpointFor(token, ["s"], settings)),
    /HOOKD_TOKEN_EVENT_HEADER and EVENT_FIELD are both set/,
  );
});

Deno.test("verify() accepts HTTP basic auth against a user:password secret", async (t) => {
  const endpoint = {
    name: "alerts",
    prefix: "HOOKD_ALERTS_",
    provider: "token",
    secrets: ["alertmanager:correct-horse-battery"],
    settings: { TOKEN_HEADER: "Authorization" },
  };
  const verify = await token.create(endpoint);
  const basic = (credentials: string) => ({ Authorization: `Basic ${btoa(credentials)}` });
  const request = (headers: Record<string, string>) => ({
    headers: new Headers(headers),
    body: new TextEncoder().encode("{}"),
    now: Date.now(),
    url: "http://127.0.0.1/hooks/alerts",
  });
  await t.step("the right user and password", async () => {
    const verdict = await verify(request(basic("alertmanager:correct-horse-battery")));
    assert.equal(verdict.ok, true);
  });
  await t.step("a wrong password", async () => {
    const verdict = await verify(request(basic("alertmanager:wrong")));
    assert.equal(verdict.ok, false);
  });
  await t.step("a Basic value that is not base64", async () => {
    const verdict = await verify(request({ Authorization: "Basic %%%" }));
    assert.deepEqual(verdict.ok ? "accepted" : verdict.reason, "invalid token");
  });
});

Deno.test("token verify() with TOKEN_QUERY reads the token from the query string", async (t) => {
  const settings = { TOKEN_QUERY: "key", EVENT_FIELD: "status" };
  const at = (query: string) =>
    verifyOnce(
      token,
      ["current", "previous"],
      delivery({}, BODY, NOW, `http://127.0.0.1:9000/hooks/test${query}`),
      settings,
    );
  await t.step("accepts the current and the previous token, among other parameters", async () => {
    assert.equal(assertAccepted(await at("?a=1&key=current")).verifiedBy, "secret");
    assert.equal(assertAccepted(await at("?key=previous")).verifiedBy, "previous secret");
    assert.equal(assertAccepted(await at("?key=current")).event, "firing");
  });
  await t.step("decodes the parameter before comparing", async () => {
    const verdict = await verifyOnce(
      token,
      ["a b&c"],
      delivery({}, BODY, NOW, "http://h/hooks/t?key=a%20b%26c"),
      settings,
    );
    assertAccepted(verdict);
  });
  await t.step(
    "rejects a wrong, missing or repeated parameter, and a token in a header",
    async () => {
      assertRejected(await at("?key=curren"), 401, /invalid token/, "rejected.token");
      assertRejected(await at("?key=currentX"), 401, /invalid token/);
      assertRejected(await at(""), 401, /missing query parameter key/, "rejected.token");
      assertRejected(await at("?KEY=current"), 401, /missing query parameter key/);
      assertRejected(await at("?key=current&key=current"), 401, /more than once/);
      const header = await verifyOnce(
        token,
        ["current"],
        delivery({ key: "current", Authorization: "Bearer current" }, BODY, NOW),
        settings,
      );
      assertRejected(header, 401, /missing query parameter key/);
    },
  );
});

Deno.test("token create() wants exactly one of TOKEN_HEADER and TOKEN_QUERY", async (t) => {
  await t.step("both", async () => {
    await assert.rejects(
      token.create(endpointFor(token, ["s"], { TOKEN_HEADER: "X-Token", TOKEN_QUERY: "key" })),
      /TOKEN_HEADER and .*TOKEN_QUERY: set exactly one/,
    );
  });
  await t.step("neither", async () => {
    await assert.rejects(token.create(endpointFor(token, ["s"], {})), /set exactly one/);
  });
  await t.step("sign() says the token goes in the URL", async () => {
    await assert.rejects(
      token.sign!(endpointFor(token, ["s"], { TOKEN_QUERY: "key" }), new Uint8Array(), {
        now: NOW,
      }),
      /add \?key=<the secret> to the URL/,
    );
  });
});
