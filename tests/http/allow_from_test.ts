import assert from "node:assert/strict";
import { parseAddressList } from "../../lib/config/address_list.ts";
import { clientAddress } from "../../lib/http/allow_from.ts";

const VAR = "HOOKD_GITHUB_ALLOW_FROM";

Deno.test("parseAddressList() reads IPv4 and IPv6 ranges and single addresses", async (t) => {
  const list = parseAddressList(
    "192.30.252.0/22, 185.199.108.0/22 140.82.112.0/20,2a0a:a440::/29\n203.0.113.7 2001:db8::1",
    VAR,
  );

  await t.step("ranges in canonical form, in order", () => {
    assert.deepEqual(list.ranges, [
      "192.30.252.0/22",
      "185.199.108.0/22",
      "140.82.112.0/20",
      "2a0a:a440::/29",
      "203.0.113.7/32",
      "2001:db8::1/128",
    ]);
  });

  await t.step("addresses inside match, at both edges", () => {
    for (const address of ["192.30.252.0", "192.30.255.255", "140.82.127.1", "2a0a:a447::5"]) {
      assert.equal(list.has(address), true, address);
    }
  });

  await t.step("addresses outside do not", () => {
    for (const address of ["192.30.251.255", "192.31.0.0", "203.0.113.8", "2001:db8::2"]) {
      assert.equal(list.has(address), false, address);
    }
  });

  await t.step("an IPv4-mapped IPv6 peer counts as its IPv4 address", () => {
    assert.equal(list.has("::ffff:192.30.252.10"), true);
    assert.equal(list.has("::ffff:10.0.0.1"), false);
  });

  await t.step("garbage is never in the list", () => {
    for (const address of ["", "localhost", "192.30.252", "0300.30.252.1", "not an ip"]) {
      assert.equal(list.has(address), false, address);
    }
  });
});

Deno.test("parseAddressList() refuses mistakes, naming the variable and the fix", async (t) => {
  const cases: [string, RegExp][] = [
    ["", /^HOOKD_GITHUB_ALLOW_FROM is empty: list addresses or CIDR ranges/],
    [" , ", /is empty/],
    ["10.0.0.0/33", /has "10\.0\.0\.0\/33", not an address or CIDR range: write e\.g\./],
    ["2001:db8::/129", /has "2001:db8::\/129", not an address/],
    ["10.0.0", /has "10\.0\.0", not an address/],
    ["010.0.0.1", /has "010\.0\.0\.1", not an address/],
    ["10.0.0.0/x", /not an address/],
    ["github.com", /not an address/],
    ["fe80::1%eth0", /not an address/],
    ["10.0.0.1/8", /bits set beyond \/8: write 10\.0\.0\.0\/8 for the range, or 10\.0\.0\.1\/32/],
    ["2001:db8::1/32", /write 2001:db8::\/32 for the range, or 2001:db8::1\/128/],
  ];
  for (const [value, expected] of cases) {
    await t.step(JSON.stringify(value), () => {
      assert.throws(() => parseAddressList(value, VAR), (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, expected);
        assert.ok(error.message.startsWith(VAR), error.message);
        return true;
      });
    });
  }
});

Deno.test("parseAddressList() accepts the whole address space", () => {
  const all = parseAddressList("0.0.0.0/0, ::/0", "HOOKD_TRUSTED_PROXIES");
  assert.equal(all.has("198.51.100.1"), true);
  assert.equal(all.has("2001:db8::1"), true);
});

Deno.test("clientAddress() believes X-Forwarded-For only from trusted proxies", async (t) => {
  const proxies = parseAddressList("10.0.0.0/8, fd00::/8", "HOOKD_TRUSTED_PROXIES");

  await t.step("no trusted proxies configured: the peer", () => {
    assert.equal(clientAddress("10.0.0.2", "198.51.100.7", undefined), "10.0.0.2");
  });

  await t.step("an untrusted peer's header is ignored", () => {
    assert.equal(clientAddress("203.0.113.1", "198.51.100.7", proxies), "203.0.113.1");
  });

  await t.step("a trusted peer without the header: the peer", () => {
    assert.equal(clientAddress("10.0.0.2", null, proxies), "10.0.0.2");
    assert.equal(clientAddress("10.0.0.2", "", proxies), "10.0.0.2");
  });

  await t.step(
    "the rightmost untrusted hop is the client; spoofed hops left of it are ignored",
    () => {
      assert.equal(
        clientAddress("10.0.0.2", "1.1.1.1, 198.51.100.7, 10.0.0.9", proxies),
        "198.51.100.7",
      );
    },
  );

  await t.step("a chain of trusted proxies ends at the leftmost hop", () => {
    assert.equal(clientAddress("10.0.0.2", "10.0.0.3, 10.0.0.4", proxies), "10.0.0.3");
  });

  await t.step("a broken hop stops at the last address known", () => {
    assert.equal(clientAddress("10.0.0.2", "198.51.100.7, unknown", proxies), "10.0.0.2");
    assert.equal(
      clientAddress("10.0.0.2", "198.51.100.7, garbage, 10.0.0.5", proxies),
      "10.0.0.5",
    );
  });

  await t.step("ports and brackets are stripped, mapped addresses normalized", () => {
    assert.equal(clientAddress("10.0.0.2", "198.51.100.7:4711", proxies), "198.51.100.7");
    assert.equal(clientAddress("10.0.0.2", "[2001:db8::7]:443", proxies), "2001:db8::7");
    assert.equal(clientAddress("::ffff:10.0.0.2", "2001:db8::7", proxies), "2001:db8::7");
    assert.equal(clientAddress("fd00::1", "::ffff:198.51.100.7", proxies), "198.51.100.7");
  });

  await t.step("the peer comes back normalized, or as given when not an address", () => {
    assert.equal(clientAddress("::ffff:203.0.113.1", null, proxies), "203.0.113.1");
    assert.equal(clientAddress("2001:DB8:0::1", null, proxies), "2001:db8::1");
    assert.equal(clientAddress("/run/hookd.sock", "198.51.100.7", proxies), "/run/hookd.sock");
  });
});
