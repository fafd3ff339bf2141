/**
 * The deliveries pages in a real browser: Debian's Chromium, driven by
 * puppeteer-core, against the real daemon (`main.ts serve`). Opens `/`,
 * sees the chart and the deliveries the test sent, filters by state, opens
 * one, presses Replay and waits for the new run; no console errors and no
 * CSP violations on the way. Screenshots go to `.screenshots/` (ignored).
 *
 * Skipped when Chromium is missing, unless `HOOKD_TEST_STRICT=1` (CI),
 * where a missing browser fails the test.
 *
 * @module
 */

import assert from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { githubSignature, integrationTest, startDaemon, tempDir } from "../harness.ts";

const CHROMIUM = Deno.env.get("HOOKD_TEST_CHROMIUM") ?? "/usr/bin/chromium";
const STRICT = Deno.env.get("HOOKD_TEST_STRICT") === "1";
const SCREENSHOTS = new URL("../../.screenshots/", import.meta.url).pathname;
const SECRET = "browser-test-secret-0123456789";

function chromiumPresent(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

const present = chromiumPresent();
if (!present && !STRICT) {
  console.warn(`browser_test: ${CHROMIUM} is missing, skipped (apt-get install chromium)`);
}

const test = present || STRICT
  ? integrationTest
  : (name: string) => Deno.test.ignore(name, () => {});

test("the deliveries page works in Chromium: chart, rows, filter, detail, replay", async (t) => {
  assert.ok(
    present,
    `HOOKD_TEST_STRICT=1 but ${CHROMIUM} is missing: apt-get install -y chromium`,
  );
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "github",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: SECRET,
    HOOKD_GITHUB_HOOK_PUSH: "echo deployed $HOOKD_EVENT",
    HOOKD_GITHUB_HOOK_RELEASE: "echo release failed >&2; exit 3",
  });
  assert.ok(daemon.adminUrl);

  const sent: { id: string; event: string }[] = [];
  const send = async (event: string, sourceId: string) => {
    // A body of its own per delivery id: GitHub signs the body only, so a repeated one is a duplicate.
    const body = JSON.stringify({ zen: "<script>alert(1)</script>", event, sourceId });
    const res = await daemon.post("github", body, {
      "Content-Type": "application/json",
      "X-GitHub-Event": event,
      "X-GitHub-Delivery": sourceId,
      "X-Hub-Signature-256": await githubSignature(body, SECRET),
    });
    const answer = await res.json();
    if (res.status === 202) sent.push({ id: answer.id, event });
    return res.status;
  };
  for (const event of ["push", "release", "push", "ping", "release", "push"]) {
    assert.equal(await send(event, crypto.randomUUID()), 202);
  }
  const repeated = crypto.randomUUID();
  assert.equal(await send("push", repeated), 202);
  assert.equal(await send("push", repeated), 200, "a duplicate is answered, not stored");
  await daemon.waitForRecords((r) => r.type === "hook", 6);

  await using profile = await tempDir("hookd_chromium_");
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const browser: Browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile.path,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page: Page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error}`));
    page.on("requestfailed", (request) => {
      // The page's script closes the output stream at its `end` event, which the browser
      // reports as an aborted request when the server's end of stream has not arrived yet.
      const closedStream = request.url().endsWith("/output") &&
        request.failure()?.errorText === "net::ERR_ABORTED";
      if (!closedStream) {
        problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
      }
    });
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    // Collected by a listener the browser installs itself (not a page script, so the CSP
    // does not apply to it), read back after each page.
    await page.evaluateOnNewDocument(`
      globalThis.cspViolations = [];
      document.addEventListener("securitypolicyviolation", (event) => {
        globalThis.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
      });
    `);
    const violations = () =>
      page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations);

    await t.step("/ shows the chart and a row for every delivery sent", async () => {
      await page.goto(`${daemon.adminUrl}/`, { waitUntil: "load" });
      await page.waitForSelector("figure.chart svg rect[class^=bar-]");
      const ids = await page.$$eval("tr[data-id]", (rows) => rows.map((r) => r.dataset.id));
      assert.deepEqual(ids, sent.map((s) => s.id).reverse());
      const caption = await page.$eval("figure.chart figcaption", (e) => e.textContent ?? "");
      assert.match(caption, /Last hour: 7 deliveries stored \(4 done, 2 failed/);
      assert.match(caption, /1 duplicates answered/);
      // The stylesheet applied: a done badge is green, not the default.
      const colour = await page.evaluate(
        `getComputedStyle(document.querySelector(".state-done")).backgroundColor`,
      );
      assert.equal(colour, "rgb(47, 158, 68)");
      await page.screenshot({ path: `${SCREENSHOTS}deliveries.png` });
      assert.deepEqual(await violations(), []);
    });

    await t.step("filtering by state leaves the failed ones, in a bookmarkable URL", async () => {
      await page.select("select[name=state]", "failed");
      await Promise.all([page.waitForNavigation(), page.click("form.filters button")]);
      assert.match(page.url(), /[?&]state=failed(&|$)/);
      const states = await page.$$eval("tr[data-id]", (rows) => rows.map((r) => r.dataset.state));
      assert.deepEqual(states, ["failed", "failed"]);
      await page.screenshot({ path: `${SCREENSHOTS}deliveries-failed.png` });
      assert.deepEqual(await violations(), []);
    });

    await t.step("a delivery opens with its run, and Replay adds a new run", async () => {
      const id = await page.$eval("tr[data-id]", (row) => row.dataset.id!);
      await Promise.all([page.waitForNavigation(), page.click(`tr[data-id="${id}"] a`)]);
      assert.equal(new URL(page.url()).pathname, `/deliveries/${id}`);
      await page.waitForSelector('section.run[data-attempt="1"]');
      const body = await page.$eval("pre.body", (e) => e.textContent ?? "");
      assert.match(body, /"zen": "<script>alert\(1\)<\/script>"/, "the body as text");
      assert.equal(await page.$("pre.body script"), null);

      await Promise.all([page.waitForNavigation(), page.click("form.replay button")]);
      // The page says what `hookd replay ID` prints.
      assert.equal(
        await page.$eval("p.notice", (e) => e.textContent ?? ""),
        `${id} queued`,
        await page.$eval("main", (e) => e.textContent ?? ""),
      );
      // The page refreshes itself while the delivery is queued or running; wait for the run.
      const run = await page.waitForSelector('section.run[data-attempt="2"]', { timeout: 15_000 });
      assert.ok(run);
      await page.waitForFunction(
        `document.querySelector("h1 .state")?.textContent === "failed"`,
        { timeout: 15_000 },
      );
      const text = await page.$eval('section.run[data-attempt="2"]', (e) => e.textContent ?? "");
      assert.match(text, /Exit3/);
      assert.match(text, /release failed/);
      await page.screenshot({ path: `${SCREENSHOTS}delivery.png`, fullPage: true });
      assert.deepEqual(await violations(), []);
    });

    await t.step("no console errors and no CSP violations", () => {
      assert.deepEqual(problems, []);
    });
  } finally {
    await browser.close();
  }
});

test("a DNS-rebinding page cannot read the deliveries page in Chromium", async (t) => {
  assert.ok(present, `HOOKD_TEST_STRICT=1 but ${CHROMIUM} is missing: apt-get install -y chromium`);
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "github",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: SECRET,
    HOOKD_GITHUB_HOOK_PUSH: "true",
  });
  const body = JSON.stringify({ zen: "rebinding-canary" });
  const res = await daemon.post("github", body, {
    "Content-Type": "application/json",
    "X-GitHub-Event": "push",
    "X-GitHub-Delivery": crypto.randomUUID(),
    "X-Hub-Signature-256": await githubSignature(body, SECRET),
  });
  assert.equal(res.status, 202);
  const { id } = await res.json();
  const port = new URL(daemon.adminUrl!).port;

  await using profile = await tempDir("hookd_chromium_rebind_");
  // The attacker's name now resolves to this machine, as a rebinding DNS server would make it.
  const browser = await launch(profile.path, [
    "--host-resolver-rules=MAP rebind.attacker.test 127.0.0.1",
  ]);
  try {
    const page = await browser.newPage();
    await t.step("the attacker's name gets 421 and nothing of the deliveries", async () => {
      for (const path of ["/", `/deliveries/${id}`]) {
        const response = await page.goto(`http://rebind.attacker.test:${port}${path}`);
        assert.equal(response?.status(), 421, path);
        const text = await page.$eval("body", (e) => e.textContent ?? "");
        assert.ok(!text.includes(id), "no delivery id");
        assert.ok(!text.includes("rebinding-canary"), "no body");
      }
    });
    await t.step("a script on the attacker's page cannot read it with fetch either", async () => {
      const status = await page.evaluate(`fetch("/deliveries/${id}").then((r) => r.status)`);
      assert.equal(status, 421);
    });
    await t.step("the admin's own address still works", async () => {
      const response = await page.goto(`${daemon.adminUrl}/deliveries/${id}`);
      assert.equal(response?.status(), 200);
      assert.match(await page.$eval("pre.body", (e) => e.textContent ?? ""), /rebinding-canary/);
    });
  } finally {
    await browser.close();
  }
});

test("HOOKD_ADMIN_HOSTS lets an alias the operator uses reach the page in Chromium", async () => {
  assert.ok(present, `HOOKD_TEST_STRICT=1 but ${CHROMIUM} is missing: apt-get install -y chromium`);
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "github",
    HOOKD_GITHUB_PROVIDER: "github",
    HOOKD_GITHUB_SECRET: SECRET,
    HOOKD_ADMIN_HOSTS: "hookd-admin.test",
  });
  const port = new URL(daemon.adminUrl!).port;
  await using profile = await tempDir("hookd_chromium_alias_");
  const browser = await launch(profile.path, [
    "--host-resolver-rules=MAP hookd-admin.test 127.0.0.1, MAP other.test 127.0.0.1",
  ]);
  try {
    const page = await browser.newPage();
    const alias = await page.goto(`http://hookd-admin.test:${port}/`);
    assert.equal(alias?.status(), 200);
    assert.match(await page.$eval("h1", (e) => e.textContent ?? ""), /Deliveries/);
    const other = await page.goto(`http://other.test:${port}/`);
    assert.equal(other?.status(), 421);
  } finally {
    await browser.close();
  }
});

/** Debian's Chromium, headless, with a throwaway profile and any extra flags. */
function launch(profile: string, args: string[] = []): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...args,
    ],
  });
}

test("a running hook's output shows on the page as it is written", async () => {
  assert.ok(present, `HOOKD_TEST_STRICT=1 but ${CHROMIUM} is missing`);
  await using dir = await tempDir("hookd_live_");
  const gate = `${dir.path}/gate`;
  await Deno.writeTextFile(
    `${dir.path}/deploy.sh`,
    `echo first\necho "building…" >&2\nwhile [ ! -e ${gate} ]; do sleep 0.05; done\necho second\n`,
  );
  await using daemon = await startDaemon({
    HOOKD_ENDPOINTS: "deploy",
    HOOKD_DEPLOY_PROVIDER: "none",
    HOOKD_DEPLOY_HOOK_DEFAULT: `sh ${dir.path}/deploy.sh`,
  });
  const res = await daemon.post("deploy", '{"ref":"main"}', { "Content-Type": "application/json" });
  const { id } = await res.json();
  await using profile = await tempDir("hookd_chromium_");
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const browser: Browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile.path,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
  });
  try {
    const page: Page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 700 });
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    await page.evaluateOnNewDocument(`
      globalThis.cspViolations = [];
      document.addEventListener("securitypolicyviolation", (event) => {
        globalThis.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
      });
    `);
    await page.goto(`${daemon.adminUrl}/deliveries/${id}`, { waitUntil: "load" });
    // `second` is not written yet: the hook waits for the gate file, which only the test creates.
    await page.waitForFunction(
      `document.querySelector('[data-field="stdout"]')?.textContent === "first\\n"`,
    );
    assert.equal(await page.$eval("h1 .state", (e) => e.textContent), "running");
    await page.screenshot({ path: `${SCREENSHOTS}live-output.png` });
    await Deno.writeTextFile(gate, "");
    await page.waitForSelector("[data-ended]");
    assert.equal(
      await page.$eval('[data-field="stdout"]', (e) => e.textContent),
      "first\nsecond\n",
    );
    assert.equal(await page.$eval("h1 .state", (e) => e.textContent), "done");
    assert.equal(await page.$eval('[data-field="exit"]', (e) => e.textContent), "0");
    const violations = await page.evaluate(() =>
      (globalThis as unknown as { cspViolations: string[] }).cspViolations
    );
    assert.deepEqual([...problems, ...violations], []);
  } finally {
    await browser.close();
  }
});
