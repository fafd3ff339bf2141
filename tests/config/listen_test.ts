import assert from "node:assert/strict";
import { isLoopback } from "../../lib/config/listen.ts";

Deno.test("isLoopback() knows loopback from everything else", () => {
  for (
    const host of ["127.0.0.1", "127.255.255.254", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]
  ) {
    assert.equal(isLoopback(host), true, host);
  }
  for (
    const host of ["0.0.0.0", "", "::", "192.0.2.1", "128.0.0.1", "127.0.0.256", "example.org"]
  ) {
    assert.equal(isLoopback(host), false, host);
  }
});
