/**
 * Tests for the admin listener's access rules: open on loopback, the admin
 * token (basic or bearer) everywhere else but `/healthz`, and the
 * configuration that refuses a non-loopback listener without a token.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/mod.ts";
import { adminAccessProblems } from "../../lib/config/secret_strength.ts";
import { envFileText, runHookd, tempDir } from "../harness.ts";
import { delivery, fixture, seed } from "./_fixtures.ts";

const TOKEN = "admin-token-0123456789abcdef";

function basic(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

Deno.test("on a loopback address the admin listener is open", async () => {
  using f = fixture({ access: { loopback: true, token: () => undefined } });
  for (const path of ["/", "/metrics", "/healthz"]) {
    const res = await f.app.request(path);
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
});

Deno.test("off loopback every path but /healthz needs the admin token", async (t) => {
  using f = fixture({ access: { loopback: false, token: () => TOKEN }, adminToken: TOKEN });
  const get = (path: string, authorization?: string) =>
    f.app.request(path, { headers: authorization ? { Authorization: authorization } : {} });

  await t.step("/healthz stays open for load balancers", async () => {
    const res = await get("/healthz");
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
  await t.step("without credentials: 401 with a basic-auth challenge", async () => {
    for (const path of ["/", "/metrics", "/deliveries/01M8ZZZZZZZZZZZZZZZZZZZZZZ"]) {
      const res = await get(path);
      assert.equal(res.status, 401, path);
      assert.equal(
        res.headers.get("www-authenticate"),
        'Basic realm="hookd admin"',
      );
      assert.match(await res.text(), /needs HOOKD_ADMIN_TOKEN/);
    }
  });
  await t.step("a bearer token (what Prometheus sends) is accepted", async () => {
    const res = await get("/metrics", `Bearer ${TOKEN}`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
  await t.step("basic auth with the token as password, any user, is accepted", async () => {
    const res = await get("/", basic("admin", TOKEN));
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
  await t.step("a wrong token, or the token as the user name, is refused", async () => {
    for (
      const authorization of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        basic("admin", "guess"),
        basic(TOKEN, ""),
        `Token ${TOKEN}`,
        "Basic !!!",
      ]
    ) {
      const res = await get("/", authorization);
      assert.equal(res.status, 401, authorization);
      await res.body?.cancel();
    }
  });
  await t.step("POST replay is behind the token too", async () => {
    const res = await f.app.request("/deliveries/01M8ZZZZZZZZZZZZZZZZZZZZZZ/replay", {
      method: "POST",
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });
});

Deno.test("a loopback admin listener serves only Host names that name it", async (t) => {
  using f = fixture({ access: { loopback: true, token: () => undefined } });
  const id = await seed(f.store, delivery());
  const get = (host: string, path: string) => f.app.request(`http://${host}${path}`);

  await t.step("a foreign Host (DNS rebinding) reads nothing: 421", async () => {
    for (const host of ["rebind.attacker.test", "rebind.attacker.test:9001", "127.0.0.1.nip.io"]) {
      for (const path of ["/", `/deliveries/${id}`, "/metrics", "/hookd.css"]) {
        const res = await get(host, path);
        assert.equal(res.status, 421, `${host}${path}`);
        const text = await res.text();
        assert.match(text, /HOOKD_ADMIN_HOSTS/);
        assert.ok(!text.includes(id), "nothing of the delivery");
      }
    }
  });
  await t.step("nor replays: the store is not touched", async () => {
    const res = await f.app.request(`http://rebind.attacker.test:9001/deliveries/${id}/replay`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Sec-Fetch-Site": "same-origin",
      },
      body: "csrf=x",
    });
    assert.equal(res.status, 421);
    await res.body?.cancel();
    assert.equal((await f.store.get(id))?.runs.length, 1);
    assert.equal(f.notified(), 0);
  });
  await t.step("/healthz stays open to any Host", async () => {
    const res = await get("rebind.attacker.test", "/healthz");
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
  await t.step("its own address and localhost, any case, port or trailing dot", async () => {
    for (
      const host of [
        "127.0.0.1:9001",
        "127.0.0.1",
        "[::1]:9001",
        "[::1]",
        "localhost",
        "LocalHost:9001",
        "localhost.:9001",
      ]
    ) {
      const res = await get(host, `/deliveries/${id}`);
      assert.equal(res.status, 200, host);
      await res.body?.cancel();
    }
  });
});

Deno.test("HOOKD_ADMIN_HOSTS adds the names the operator uses", async (t) => {
  const hosts = () => ["hookd-admin.internal", "tunnel"];
  await t.step("on loopback: an SSH-forwarded alias is served, others are not", async () => {
    const access = { loopback: true, token: () => undefined, hosts };
    using f = fixture({ access });
    for (
      const [host, status] of [["tunnel:8080", 200], ["HOOKD-ADMIN.internal.", 200], [
        "evil.test",
        421,
      ]] as const
    ) {
      const res = await f.app.request(`http://${host}/`);
      assert.equal(res.status, status, host);
      await res.body?.cancel();
    }
  });
  await t.step("off loopback: unset, any Host with the token (scrapes keep working)", async () => {
    using f = fixture({ access: { loopback: false, token: () => TOKEN }, adminToken: TOKEN });
    const res = await f.app.request("http://metrics.example.net:9001/metrics", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
  await t.step("off loopback: set, it applies too, before the token is asked for", async () => {
    const access = { loopback: false, token: () => TOKEN, hosts };
    using f = fixture({ access, adminToken: TOKEN });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const foreign = await f.app.request("http://evil.test/metrics", { headers: auth });
    assert.equal(foreign.status, 421);
    await foreign.body?.cancel();
    for (const host of ["hookd-admin.internal:9001", "10.0.0.5:9001", "127.0.0.1:9001"]) {
      const res = await f.app.request(`http://${host}/metrics`, { headers: auth });
      assert.equal(res.status, 200, host);
      await res.body?.cancel();
    }
  });
  await t.step("the configuration reads it, and names it when a value is wrong", () => {
    const base = {
      HOOKD_ENDPOINTS: "gh",
      HOOKD_GH_PROVIDER: "github",
      HOOKD_GH_SECRET: "a-long-random-secret-for-tests",
    };
    const config: Record<string, unknown> = {
      ...parseConfig({ ...base, HOOKD_ADMIN_HOSTS: " Tunnel , hookd-admin.internal." }),
    };
    assert.deepEqual(config.adminHosts, ["tunnel", "hookd-admin.internal"]);
    assert.throws(
      () => parseConfig({ ...base, HOOKD_ADMIN_HOSTS: "good.name,bad/name:80" }),
      (error: Error & { problems?: string[] }) => {
        assert.equal(error.problems?.length, 1);
        assert.match(error.problems![0], /^HOOKD_ADMIN_HOSTS: "bad\/name:80" is not a host name/);
        return true;
      },
    );
  });
});

Deno.test("the admin token is read from either scheme and compared whole", async (t) => {
  const statusWith = async (token: string, authorization: string) => {
    using f = fixture({ access: { loopback: false, token: () => token }, adminToken: token });
    const res = await f.app.request("/metrics", { headers: { Authorization: authorization } });
    await res.body?.cancel();
    return res.status;
  };
  const token = "adm.in~tok+en/0123456789==";
  await t.step("bearer in any case, and as the basic password", async () => {
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`, basic("u", token)]) {
      assert.equal(await statusWith(token, authorization), 200, authorization);
    }
  });
  await t.step("a prefix, a longer value, no colon or another scheme: 401", async () => {
    for (
      const authorization of [
        `Bearer ${token.slice(0, -1)}`,
        `Bearer ${token}0`,
        basic("u", ""),
        `Basic ${btoa(token)}`,
        `Digest ${token}`,
      ]
    ) {
      assert.equal(await statusWith(token, authorization), 401, authorization);
    }
  });
  await t.step("a token with other characters works as the basic password only", async () => {
    const colon = "p:w-admin-token-0123456789";
    assert.equal(await statusWith(colon, basic("u", colon)), 200);
    assert.equal(await statusWith(colon, `Bearer ${colon}`), 401, "not RFC 6750 token characters");
  });
  await t.step("a wrong token is named as wrong, not as missing", async () => {
    using f = fixture({ access: { loopback: false, token: () => token }, adminToken: token });
    const res = await f.app.request("/metrics", { headers: { Authorization: "Bearer nope" } });
    assert.equal(res.status, 401);
    assert.equal(await res.text(), "Wrong admin token\n");
  });
});

Deno.test("the configuration refuses a non-loopback admin listener without a token", async (t) => {
  const base = {
    HOOKD_ENDPOINTS: "gh",
    HOOKD_GH_PROVIDER: "github",
    HOOKD_GH_SECRET: "a-long-random-secret-for-tests",
  };
  await t.step("no token: the problem names the variable and the fix", () => {
    assert.throws(
      () => parseConfig({ ...base, HOOKD_ADMIN_LISTEN: "0.0.0.0:9001" }),
      (error: Error & { problems?: string[] }) => {
        assert.deepEqual(error.problems, [
          "HOOKD_ADMIN_TOKEN is not set but HOOKD_ADMIN_LISTEN is not loopback (0.0.0.0): set HOOKD_ADMIN_TOKEN to a long random value (openssl rand -hex 32), or set HOOKD_ADMIN_LISTEN=127.0.0.1:9001",
        ]);
        return true;
      },
    );
  });
  await t.step("a short token is refused too", () => {
    assert.match(
      adminAccessProblems({
        adminListen: { hostname: "10.0.0.5", port: 9001 },
        adminToken: "short",
      })[0],
      /^HOOKD_ADMIN_TOKEN is shorter than 16 bytes/,
    );
  });
  await t.step("with a token it is accepted, and loopback needs none", () => {
    const config = parseConfig({
      ...base,
      HOOKD_ADMIN_LISTEN: "[::]:9001",
      HOOKD_ADMIN_TOKEN: TOKEN,
    });
    assert.equal(config.adminToken, TOKEN);
    assert.equal(
      parseConfig({ ...base, HOOKD_ADMIN_LISTEN: "127.0.0.1:9001" }).adminToken,
      undefined,
    );
    assert.deepEqual(adminAccessProblems({ adminListen: undefined }), []);
  });
  await t.step("`hookd serve` refuses to start, naming the variable", async () => {
    await using dir = await tempDir();
    const envFile = `${dir.path}/hookd.env`;
    await Deno.writeTextFile(
      envFile,
      envFileText({
        ...base,
        HOOKD_LISTEN: "127.0.0.1:0",
        HOOKD_ADMIN_LISTEN: "0.0.0.0:0",
        HOOKD_STATE_DIR: `${dir.path}/state`,
        HOOKD_LOG_FILE: `${dir.path}/hookd.log`,
      }),
      { mode: 0o600 },
    );
    const result = await runHookd(["serve", "--env-file", envFile]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /hookd: HOOKD_ADMIN_TOKEN is not set but HOOKD_ADMIN_LISTEN is not loopback/,
    );
  });
});
