/**
 * Handler tests for the deliveries pages (`app.request()`, no sockets):
 * the list and its filters, the detail page, replay with its CSRF checks,
 * the security headers, and escaping of what senders and hooks wrote.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PAGE_SIZE } from "../../lib/http/deliveries_page.tsx";

const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
import { delivery, fixture, NOW, rowIds, seed } from "./_fixtures.ts";

const HOSTILE = `<script>alert(1)</script></textarea>"onerror=alert(2)`;

/** A GET of the detail page, then the cookie and token its replay form carries. */
async function replayForm(
  app: ReturnType<typeof fixture>["app"],
  id: string,
): Promise<{ cookie: string | undefined; token: string }> {
  const res = await app.request(`/deliveries/${id}`);
  assert.equal(res.status, 200);
  const html = await res.text();
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(token, "the detail page has a CSRF field");
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  return { cookie, token };
}

function postReplay(
  app: ReturnType<typeof fixture>["app"],
  id: string,
  options: { token?: string; cookie?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const body = new URLSearchParams(options.token === undefined ? {} : { csrf: options.token });
  return Promise.resolve(app.request(`http://admin.test/deliveries/${id}/replay`, {
    method: "POST",
    body,
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      ...(options.cookie ? { Cookie: options.cookie } : {}),
      ...options.headers,
    },
  }));
}

Deno.test("GET / lists the newest deliveries with their run, under the chart", async (t) => {
  using f = fixture();
  const done = await seed(f.store, delivery({ sourceId: "gh-done", receivedAt: NOW - 300_000 }), {
    outcome: "succeeded",
    durationMs: 1500,
  });
  const failed = await seed(
    f.store,
    delivery({ sourceId: "gh-failed", event: "release", receivedAt: NOW - 120_000 }),
    { outcome: "failed", exitCode: 3 },
  );
  const ignored = await seed(f.store, delivery({ endpoint: "gitea", event: "ping", hook: null }));
  const res = await f.app.request("/");
  const html = await res.text();

  await t.step("200 HTML with exactly the security headers", () => {
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(res.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.ok(html.startsWith("<!DOCTYPE html>"));
  });

  await t.step("rows newest first, each linking to its detail page", () => {
    assert.deepEqual(rowIds(html), [ignored, failed, done]);
    for (const id of [done, failed, ignored]) assert.ok(html.includes(`href="/deliveries/${id}"`));
  });

  await t.step(
    "a row shows time (relative, exact on hover), state, exit, duration, sender id",
    () => {
      const row = html.slice(
        html.indexOf(`data-id="${failed}"`),
        html.indexOf(`data-id="${done}"`),
      );
      const exact = new Date(NOW - 120_000).toISOString();
      assert.ok(row.includes(`<time datetime="${exact}" title="${exact}">2 min ago</time>`));
      assert.ok(row.includes(">failed</span>"));
      assert.ok(row.includes("<td>github</td>"));
      assert.ok(row.includes(">release</td>"));
      assert.ok(row.includes('<td class="num">3</td>'), "exit code");
      assert.ok(row.includes(">gh-failed</td>"));
      const doneRow = html.slice(html.indexOf(`data-id="${done}"`));
      assert.ok(doneRow.includes('<td class="num">1.5 s</td>'), "duration");
    },
  );

  await t.step("the chart is inline SVG with a summary in words, no script anywhere", () => {
    assert.match(html, /<svg [^>]*role="img"/);
    assert.ok(html.includes("Last hour: 3 deliveries stored (1 done, 1 failed"));
    assert.equal(html.match(/<rect class="bar-/g)?.length, 3, "one bar segment per outcome");
    assert.ok(!/<script|style="| on[a-z]+=/i.test(html), "no script, inline style or handler");
  });

  await t.step("the stylesheet is served by the admin listener", async () => {
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
    assert.ok(href);
    const css = await f.app.request(href);
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    assert.equal(css.headers.get("x-content-type-options"), "nosniff");
    assert.match(await css.text(), /\.bar-done/);
  });
});

Deno.test("the chart counts duplicates from the counter, or says it cannot", async (t) => {
  await t.step("with a counter: its minutes are stacked on top", async () => {
    using f = fixture({
      pages: { duplicates: (since, until) => Array(Math.ceil((until - since) / 60_000)).fill(2) },
    });
    const html = await (await f.app.request("/")).text();
    assert.ok(html.includes("120 duplicates answered (counted in memory since hookd started)"));
  });
  await t.step("without: the caption says they are not counted", async () => {
    using f = fixture({ pages: { duplicates: undefined } });
    const html = await (await f.app.request("/")).text();
    assert.ok(html.includes("duplicates are answered, not stored, and are not counted here"));
  });
});

Deno.test("the chart stacks filtered deliveries apart from ignored ones", async () => {
  using f = fixture();
  await seed(
    f.store,
    delivery({ filteredBy: "HOOKD_GITHUB_MATCH_PUSH: ref=refs/heads/main" }),
    null,
  );
  const html = await (await f.app.request("/")).text();
  assert.equal(html.match(/<rect class="bar-filtered/g)?.length, 1);
  assert.ok(html.includes("filtered (a filter failed)"));
});

Deno.test("GET / pages by 50, and the next page's link keeps the filters", async () => {
  using f = fixture();
  const ids: string[] = [];
  for (let i = 0; i < PAGE_SIZE + 5; i++) {
    ids.push(await seed(f.store, delivery({ receivedAt: NOW - 1000 * (PAGE_SIZE + 5 - i) })));
  }
  const first = await (await f.app.request("/?state=done")).text();
  assert.deepEqual(rowIds(first), ids.slice(-PAGE_SIZE).reverse());
  const next = /<a rel="next" href="([^"]+)"/.exec(first)?.[1]?.replaceAll("&amp;", "&");
  assert.equal(next, `/?state=done&before=${ids[5]}`);
  const second = await (await f.app.request(next)).text();
  assert.deepEqual(rowIds(second), ids.slice(0, 5).reverse());
  assert.ok(!second.includes('rel="next"'), "the last page has no next link");
});

Deno.test("GET / filters by endpoint, state and time window, as a bookmarkable GET", async (t) => {
  using f = fixture();
  const oldDone = await seed(f.store, delivery({ receivedAt: NOW - 3 * 3_600_000 }));
  const failed = await seed(f.store, delivery({ receivedAt: NOW - 600_000 }), {
    outcome: "failed",
  });
  const gitea = await seed(f.store, delivery({ endpoint: "gitea", receivedAt: NOW - 60_000 }));
  const queued = await seed(f.store, delivery({ receivedAt: NOW - 30_000 }), null);
  const ids = async (query: string) => rowIds(await (await f.app.request(query)).text());

  await t.step("the form submits with GET to /", async () => {
    const html = await (await f.app.request("/")).text();
    assert.match(html, /<form class="filters" method="get" action="\/">/);
  });
  await t.step("?state=", async () => {
    assert.deepEqual(await ids("/?state=failed"), [failed]);
    assert.deepEqual(await ids("/?state=queued"), [queued]);
  });
  await t.step("?endpoint=", async () => {
    assert.deepEqual(await ids("/?endpoint=gitea"), [gitea]);
    assert.deepEqual(await ids("/?endpoint=github"), [queued, failed, oldDone]);
  });
  await t.step("?since=", async () => {
    assert.deepEqual(await ids("/?since=1h"), [queued, gitea, failed]);
    assert.deepEqual(await ids("/?since=5m"), [queued, gitea]);
  });
  await t.step("all three together, and empty fields mean any", async () => {
    assert.deepEqual(await ids("/?endpoint=github&state=done&since=7d"), [oldDone]);
    assert.deepEqual(await ids("/?endpoint=&state=&since="), [queued, gitea, failed, oldDone]);
  });
  await t.step("the chosen filters are selected in the form", async () => {
    const html = await (await f.app.request("/?endpoint=gitea&state=done&since=1h")).text();
    assert.ok(html.includes('<option value="gitea" selected>gitea</option>'));
    assert.ok(html.includes('<option value="done" selected>done</option>'));
    assert.ok(html.includes('<option value="1h" selected>1h</option>'));
  });
  await t.step("a wrong filter is a 400 that names it and the fix", async () => {
    for (
      const [query, message] of [
        ["/?state=weird", "?state= must be one of queued, running, done, failed"],
        ["/?since=yesterday", "?since= must be a duration such as 15m, 1h or 7d"],
        ["/?endpoint=Not%20One", "?endpoint= must be an endpoint name"],
        ["/?before=1", "?before= must be a delivery id"],
      ]
    ) {
      const res = await f.app.request(query);
      assert.equal(res.status, 400, query);
      const html = await res.text();
      assert.ok(html.includes(message), `${query}: ${message}`);
      assert.deepEqual(rowIds(html), []);
    }
  });
});

Deno.test("GET /deliveries/:id shows headers, the body and every run", async (t) => {
  using f = fixture();
  const id = await seed(f.store, delivery({ sourceId: "gh-1" }), {
    outcome: "failed",
    exitCode: 2,
    durationMs: 250,
    stdout: "step 1\n",
    stderr: "error: no disk\n",
  });
  // A second run that was killed by a signal.
  await f.store.requeue([id]);
  const claimed = (await f.store.claim(id))!;
  await f.store.finishRun(claimed, {
    outcome: "timed_out",
    endedAt: NOW,
    durationMs: 60_000,
    exitCode: null,
    signal: "SIGKILL",
    stdout: "",
    stderr: "",
    stdoutTruncated: false,
    stderrTruncated: false,
  }, { state: "failed" });
  const res = await f.app.request(`/deliveries/${id}`);
  const html = await res.text();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);

  await t.step("headers as stored: credentials stay redacted", () => {
    assert.ok(html.includes(">x-hub-signature-256</th>"));
    assert.ok(html.includes(">[redacted]</td>"));
  });
  await t.step("a JSON body pretty-printed", () => {
    assert.ok(
      html.includes("{\n  &quot;ref&quot;: &quot;refs/heads/main&quot;,\n  &quot;commits&quot;: ["),
    );
  });
  await t.step("each run: exit code or signal, duration, output", () => {
    const runs = html.split('<section class="run"').slice(1);
    assert.equal(runs.length, 2);
    // The latest run first, above the headers and the body; the earlier ones after them.
    assert.ok(html.indexOf("Run 2: timed_out") < html.indexOf("<h2>Headers</h2>"));
    assert.ok(html.indexOf("Run 1: failed") > html.indexOf("<h2>Body"));
    // The hook as accepted is said once, above; a run uses the one configured when it starts.
    assert.ok(html.includes('<dt>Hook when accepted</dt><dd class="mono">./deploy.sh</dd>'));
    assert.ok(!html.includes("<dt>Time limit</dt>"));
    assert.ok(runs[1].includes('<dt>Exit</dt><dd data-field="exit">2</dd>'));
    assert.ok(runs[1].includes('<dd data-field="duration">250 ms</dd>'));
    assert.ok(runs[1].includes('<pre class="stdout">step 1\n</pre>'));
    assert.ok(runs[1].includes('<pre class="stderr">error: no disk\n</pre>'));
    assert.ok(runs[0].includes("Run 2: timed_out"));
    assert.ok(runs[0].includes('<dt>Exit</dt><dd data-field="exit">SIGKILL</dd>'));
    assert.ok(runs[0].includes('<dd data-field="duration">1.0 min</dd>'));
    assert.ok(!runs[0].includes("data-live"), "a finished run is not followed");
  });
  await t.step("an unknown or malformed id is a 404 page", async () => {
    for (const path of ["/deliveries/01M8ZZZZZZZZZZZZZZZZZZZZZZ", "/deliveries/nope"]) {
      const res = await f.app.request(path);
      assert.equal(res.status, 404);
      assert.ok((await res.text()).includes("There is no delivery"));
    }
  });
});

Deno.test("what senders and hooks wrote appears as text only, never as markup", async () => {
  using f = fixture();
  const id = await seed(
    f.store,
    delivery({
      event: HOSTILE,
      sourceId: HOSTILE,
      headers: { "x-evil": HOSTILE },
      body: new TextEncoder().encode(JSON.stringify({ comment: HOSTILE })),
    }),
    { outcome: "failed", stdout: HOSTILE, stderr: HOSTILE },
  );
  const plain = await seed(f.store, delivery({ body: new TextEncoder().encode(HOSTILE) }));
  for (const path of ["/", `/deliveries/${id}`, `/deliveries/${plain}`]) {
    const html = await (await f.app.request(path)).text();
    assert.ok(!html.includes("<script>"), `${path}: a raw <script>`);
    assert.ok(!html.includes("</textarea>"), `${path}: a raw </textarea>`);
    assert.ok(!html.includes('"onerror='), `${path}: a raw "onerror=`);
    assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/textarea&gt;"), path);
  }
});

Deno.test("replay: a same-origin form post requeues like `hookd replay ID`, then 303 back", async (t) => {
  using f = fixture();
  const id = await seed(f.store, delivery(), { outcome: "failed" });

  await t.step("the form posts to /deliveries/:id/replay with a token", async () => {
    const html = await (await f.app.request(`/deliveries/${id}`)).text();
    assert.match(
      html,
      new RegExp(`<form class="replay" method="post" action="/deliveries/${id}/replay">`),
    );
  });
  await t.step("queued again, the queue told, redirected to the detail page", async () => {
    const { cookie, token } = await replayForm(f.app, id);
    assert.ok(cookie?.startsWith("hookd_csrf="));
    const res = await postReplay(f.app, id, {
      token,
      cookie,
      headers: { "Sec-Fetch-Site": "same-origin", Origin: "http://admin.test" },
    });
    assert.equal(res.status, 303);
    assert.match(
      res.headers.get("location")!,
      new RegExp(`^/deliveries/${id}\\?replayed=[\\w-]{22}$`),
    );
    assert.equal((await f.store.get(id))?.state, "queued");
    assert.equal(f.notified(), 1);
    const page = await (await f.app.request(res.headers.get("location")!, {
      headers: { Cookie: cookie! },
    })).text();
    assert.match(page, new RegExp(`<p class="notice" role="status">${id} queued</p>`));
    assert.match(
      page,
      /<noscript><meta http-equiv="refresh" content="2"><\/noscript>/,
      "without JavaScript it reloads while queued",
    );
    assert.match(page, /<script src="\/static\/live-1\.js" defer><\/script>/);
    assert.ok(!page.includes("<script>"), "no inline script");
    assert.match(page, new RegExp(`data-live="/deliveries/${id}/output"`));
    assert.match(page, /<button type="submit" disabled>Replay<\/button>/);
  });
  await t.step(
    "a browser's Origin: null (no-referrer) with Sec-Fetch-Site: same-origin passes",
    async () => {
      await seed(f.store, delivery(), { outcome: "failed" }).then(async (other) => {
        const { cookie, token } = await replayForm(f.app, other);
        const res = await postReplay(f.app, other, {
          token,
          cookie,
          headers: { "Sec-Fetch-Site": "same-origin", Origin: "null" },
        });
        assert.equal(res.status, 303);
        assert.equal((await f.store.get(other))?.state, "queued");
      });
    },
  );
  await t.step("a queued delivery is not queued twice: a notice says why", async () => {
    const { cookie, token } = await replayForm(f.app, id);
    const res = await postReplay(f.app, id, { token, cookie });
    assert.equal(res.status, 303);
    const page = await (await f.app.request(res.headers.get("location")!)).text();
    assert.match(
      page,
      new RegExp(`class="notice warn" role="status">${id} skipped: already queued<`),
    );
    assert.equal(f.notified(), 2);
  });
  await t.step("a delivery whose event has no hook configured now is skipped", async () => {
    const ignored = await seed(f.store, delivery({ endpoint: "gitea", event: "ping", hook: null }));
    const { cookie, token } = await replayForm(f.app, ignored);
    const res = await postReplay(f.app, ignored, { token, cookie });
    const page = await (await f.app.request(res.headers.get("location")!)).text();
    assert.ok(page.includes(`${ignored} skipped: no hook to run`));
    assert.equal((await f.store.get(ignored))?.state, "ignored");
  });
  await t.step("an unknown delivery is a 404", async () => {
    const unknown = "01M8ZZZZZZZZZZZZZZZZZZZZZZ";
    const { cookie, token } = await replayForm(f.app, id);
    // The cookie's token does not depend on the delivery.
    const res = await postReplay(f.app, unknown, { token, cookie });
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
  await t.step("GET on the replay path is 405", async () => {
    const res = await f.app.request(`/deliveries/${id}/replay`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    await res.body?.cancel();
  });
});

Deno.test("replay refuses cross-site requests and missing or wrong tokens with 403", async (t) => {
  using f = fixture();
  const id = await seed(f.store, delivery(), { outcome: "failed" });
  const { cookie, token } = await replayForm(f.app, id);
  const refused = async (
    options: Parameters<typeof postReplay>[2],
    message: RegExp,
  ) => {
    const res = await postReplay(f.app, id, options);
    assert.equal(res.status, 403);
    assert.match(await res.text(), message);
    assert.equal((await f.store.get(id))?.state, "failed", "nothing was requeued");
  };
  await t.step("Sec-Fetch-Site: cross-site, even with the right token", async () => {
    await refused(
      { token, cookie, headers: { "Sec-Fetch-Site": "cross-site" } },
      /Cross-site request refused: Sec-Fetch-Site is &quot;cross-site&quot;/,
    );
  });
  await t.step("an Origin that is not the admin listener's", async () => {
    await refused(
      { token, cookie, headers: { Origin: "https://evil.example" } },
      /Origin https:\/\/evil.example is not http:\/\/admin.test/,
    );
  });
  await t.step(
    "Origin: null without Sec-Fetch-Site (an old browser, or a sandboxed frame)",
    async () => {
      await refused({ token, cookie, headers: { Origin: "null" } }, /Origin null is not/);
    },
  );
  await t.step("no token in the form", async () => {
    await refused({ cookie }, /CSRF token is missing/);
  });
  await t.step("a token that is not the cookie's", async () => {
    await refused({ token: "A".repeat(43), cookie }, /CSRF token is wrong/);
  });
  await t.step("the right token without its cookie", async () => {
    await refused({ token }, /CSRF token is wrong/);
  });
});

Deno.test("with HOOKD_ADMIN_TOKEN the replay token is an HMAC every instance accepts", async (t) => {
  using a = fixture({ adminToken: "cluster-admin-token-0123456789" });
  const id = await seed(a.store, delivery(), { outcome: "failed" });
  const { cookie, token } = await replayForm(a.app, id);
  assert.equal(cookie, undefined, "no cookie is needed");

  await t.step("a second instance with the same token and store accepts it", async () => {
    using b = fixture({ adminToken: "cluster-admin-token-0123456789", store: a.store });
    const res = await postReplay(b.app, id, { token });
    assert.equal(res.status, 303);
    assert.equal((await a.store.get(id))?.state, "queued");
  });
  await t.step("an instance with another token refuses it", async () => {
    const other = await seed(a.store, delivery(), { outcome: "failed" });
    const { token: otherToken } = await replayForm(a.app, other);
    using c = fixture({ adminToken: "another-admin-token-0123456789", store: a.store });
    const res = await postReplay(c.app, other, { token: otherToken });
    assert.equal(res.status, 403);
    await res.body?.cancel();
    assert.equal((await a.store.get(other))?.state, "failed");
  });
  await t.step("the token of one delivery does not replay another", async () => {
    const other = await seed(a.store, delivery(), { outcome: "failed" });
    const res = await postReplay(a.app, other, { token });
    assert.equal(res.status, 403);
    await res.body?.cancel();
  });
});

Deno.test("GET /deliveries/:id hides a secret-looking header stored before the rule held", async () => {
  using f = fixture();
  const id = await seed(
    f.store,
    delivery({
      headers: { "x-passphrase": "hunter2", "x-authtoken": "tok-123", "x-github-event": "push" },
    }),
  );
  const html = await (await f.app.request(`/deliveries/${id}`)).text();
  assert.ok(!html.includes("hunter2"), "a passphrase is not shown");
  assert.ok(!html.includes("tok-123"), "a token is not shown");
  assert.ok(html.includes("x-passphrase"), "the header's name still is");
  assert.ok(html.includes("push"));
});

Deno.test("GET /deliveries/:id shows a bounded excerpt of any body", async (t) => {
  using f = fixture();
  const encoder = new TextEncoder();
  const shown = async (id: string) => {
    const res = await f.app.request(`/deliveries/${id}`);
    return { status: res.status, html: await res.text() };
  };
  const bodyOf = (html: string) =>
    (/<pre class="body">([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? "").replaceAll("&quot;", '"');

  await t.step("8 KB of nested arrays: shown as sent, not pretty-printed", async () => {
    // Deep enough that indenting it is quadratic (tens of MB), shallow enough for V8 to parse.
    const nested = "[".repeat(4_000) + "]".repeat(4_000);
    const id = await seed(f.store, delivery({ body: encoder.encode(nested) }));
    const { status, html } = await shown(id);
    assert.equal(status, 200);
    assert.ok(html.length < 300_000, `the page is ${html.length} characters`);
    assert.ok(bodyOf(html).startsWith("[[[["), "the raw text, no indentation");
  });

  await t.step("a 1 MB body: the first 256 KiB, and the page says so", async () => {
    const big = JSON.stringify({ data: "x".repeat(1_000_000) });
    const id = await seed(f.store, delivery({ body: encoder.encode(big) }));
    const { html } = await shown(id);
    assert.ok(html.length < 300_000, `the page is ${html.length} characters`);
    assert.equal(bodyOf(html).length, 256 * 1024);
    assert.match(html, /first 256 KiB of 1,000,011 bytes/);
    assert.match(html, /hookd show/, "where to get all of it");
  });

  await t.step("a small, shallow JSON body is still pretty-printed", async () => {
    const id = await seed(f.store, delivery({ body: encoder.encode('{"a":{"b":[1]}}') }));
    assert.equal(bodyOf((await shown(id)).html), '{\n  "a": {\n    "b": [\n      1\n    ]\n  }\n}');
  });
});
