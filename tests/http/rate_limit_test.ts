import assert from "node:assert/strict";
import { parseRateLimit } from "../../lib/config/rate_limit_spec.ts";
import { createRateLimiter, rateLimitKey } from "../../lib/http/rate_limit.ts";

Deno.test("createRateLimiter() allows a burst, then one request per token", async (t) => {
  const limiter = createRateLimiter({ rate: 2, burst: 3 });

  await t.step("the burst goes through at once", () => {
    for (let i = 0; i < 3; i++) assert.equal(limiter.take("a", 1000).ok, true, `request ${i}`);
  });

  await t.step("the next is refused with Retry-After in whole seconds", () => {
    assert.deepEqual(limiter.take("a", 1000), { ok: false, retryAfterSeconds: 1 });
  });

  await t.step("refused requests cost nothing; a token is back after 1/rate s", () => {
    assert.equal(limiter.take("a", 1499).ok, false);
    assert.equal(limiter.take("a", 1500).ok, true);
    assert.equal(limiter.take("a", 1500).ok, false);
  });

  await t.step("other keys have their own bucket", () => {
    assert.equal(limiter.take("b", 1500).ok, true);
  });

  await t.step("a long pause refills up to the burst, not beyond", () => {
    for (let i = 0; i < 3; i++) assert.equal(limiter.take("a", 600_000).ok, true);
    assert.equal(limiter.take("a", 600_000).ok, false);
  });
});

Deno.test("createRateLimiter() rounds Retry-After up for slow rates", () => {
  const limiter = createRateLimiter({ rate: 1 / 60, burst: 1 });
  assert.equal(limiter.take("a", 0).ok, true);
  assert.deepEqual(limiter.take("a", 0), { ok: false, retryAfterSeconds: 60 });
  assert.deepEqual(limiter.take("a", 30_500), { ok: false, retryAfterSeconds: 30 });
});

Deno.test("createRateLimiter() survives a clock that steps back", () => {
  const limiter = createRateLimiter({ rate: 1, burst: 1 });
  assert.equal(limiter.take("a", 10_000).ok, true);
  assert.equal(limiter.take("a", 5_000).ok, false);
  assert.equal(limiter.take("a", 11_000).ok, true);
});

Deno.test("createRateLimiter() keeps at most maxKeys buckets, dropping the least recent", () => {
  const limiter = createRateLimiter({ rate: 1, burst: 1, maxKeys: 3 });
  for (const key of ["a", "b", "c"]) limiter.take(key, 0);
  limiter.take("a", 0); // refused, but now the most recent
  limiter.take("d", 0); // drops b
  assert.equal(limiter.size, 3);
  assert.equal(limiter.take("a", 0).ok, false, "a was kept, still empty");
  assert.equal(limiter.take("c", 0).ok, false, "c was kept, still empty");
  assert.equal(limiter.take("b", 0).ok, true, "b was dropped, so it starts full");
  for (let i = 0; i < 1000; i++) limiter.take(`flood-${i}`, 0);
  assert.equal(limiter.size, 3);
});

Deno.test("createRateLimiter() validates its options when built", () => {
  assert.throws(() => createRateLimiter({ rate: 0, burst: 1 }), RangeError);
  assert.throws(() => createRateLimiter({ rate: Infinity, burst: 1 }), RangeError);
  assert.throws(() => createRateLimiter({ rate: 1, burst: 0.5 }), RangeError);
  assert.throws(() => createRateLimiter({ rate: 1, burst: 1, maxKeys: 0 }), RangeError);
});

Deno.test("parseRateLimit() reads count/unit with an optional burst", async (t) => {
  const VAR = "HOOKD_RATE_LIMIT";
  await t.step("units and default burst", () => {
    assert.deepEqual(parseRateLimit("10/s", VAR), { rate: 10, burst: 10 });
    assert.deepEqual(parseRateLimit("60/m", VAR), { rate: 1, burst: 60 });
    assert.deepEqual(parseRateLimit("3600/h", VAR), { rate: 1, burst: 3600 });
  });
  await t.step("burst", () => {
    assert.deepEqual(parseRateLimit("10/s burst=20", VAR), { rate: 10, burst: 20 });
    assert.deepEqual(parseRateLimit(" 120 / m, burst = 5 ", VAR), { rate: 2, burst: 5 });
  });
  await t.step("off", () => {
    assert.equal(parseRateLimit("", VAR), undefined);
    assert.equal(parseRateLimit("off", VAR), undefined);
  });
  await t.step("mistakes name the variable and the format", () => {
    for (const value of ["10", "0/s", "10/d", "10/s burst=0", "ten/s", "10/s burst", "-1/s"]) {
      assert.throws(
        () => parseRateLimit(value, VAR),
        new RangeError(
          `HOOKD_RATE_LIMIT is "${value}": write requests per second, minute or hour, e.g. 60/m or 10/s burst=20, or off`,
        ),
        value,
      );
    }
  });
});

Deno.test("rateLimitKey() groups an IPv6 /64 and leaves IPv4 alone", () => {
  assert.equal(rateLimitKey("198.51.100.7"), "198.51.100.7");
  assert.equal(rateLimitKey("::ffff:198.51.100.7"), "198.51.100.7");
  assert.equal(rateLimitKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(rateLimitKey("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
  assert.notEqual(rateLimitKey("2001:db8:1:3::1"), rateLimitKey("2001:db8:1:2::1"));
  assert.equal(rateLimitKey("not-an-address"), "not-an-address");
});
