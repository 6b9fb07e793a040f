// The demo page in proxy mode, in Debian's Chromium: the demo server started
// with an API key forwards /pulse/* to an upstream (here the mock, started on
// its own origin as the real API would be) and adds the key there. The page
// must say which backend it uses, never hold the key, and finish jobs through
// the proxy, large results included.
// Run: node --test tests/browser/proxy.test.js   (needs pkg/ built and /usr/bin/chromium)
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";

import { CHROMIUM, ROOT, launchBrowser, newPage, nonce, screenshot, waitReady, waitState } from "./helpers.js";

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'";
const KEY = "server-side-pulse-key-5e0b9d7a41";
const PKG_DIR = process.env.PULSE_JOBS_PKG_DIR ? resolve(process.env.PULSE_JOBS_PKG_DIR) : join(ROOT, "pkg");

let upstream;
let demo;
let browser;

before(async () => {
  if (!existsSync(join(PKG_DIR, "web", "index.js"))) throw new Error(`${join(PKG_DIR, "web", "index.js")} is missing: run make pkg first`);
  const { startMock } = await import(pathToFileURL(join(ROOT, "mock", "server.js")).href);
  const { startDemo } = await import(pathToFileURL(join(ROOT, "www", "serve.js")).href);
  upstream = await startMock();
  demo = await startDemo({ port: 0, pkgDir: PKG_DIR, apiKey: KEY, upstream: upstream.apiUrl, log: () => {} });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.close();
  await upstream?.close();
});

/** Open the page; every request's headers are kept to check that none carries the key. */
async function openDemo(width = 1280, height = 900) {
  const p = await newPage(browser, { width, height });
  p.sent = [];
  p.page.on("request", (r) => p.sent.push({ url: r.url(), headers: r.headers() }));
  const response = await p.page.goto(demo.url);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()["content-security-policy"], CSP);
  assert.equal(response.headers()["x-frame-options"], "DENY");
  await waitReady(p.page);
  return p;
}

async function shortDelays(page) {
  await page.locator("details.advanced summary").click();
  await page.fill("#opt-initial", "300");
  await page.fill("#opt-max", "1000");
}

/** The key is nowhere the browser can see: requests it sent, the page, its storage. */
async function assertKeyNotInBrowser({ page, log, sent }) {
  assert.deepEqual(log.errors, [], "uncaught page errors");
  assert.deepEqual(log.csp, [], "CSP violations");
  const origin = new URL(demo.url).origin;
  assert.deepEqual(sent.filter((r) => !r.url.startsWith(origin)).map((r) => r.url), [], "requests to other origins");
  assert.ok(!sent.some((r) => r.url.includes(KEY) || JSON.stringify(r.headers).includes(KEY)), "a request carried the key");
  assert.ok(!sent.some((r) => r.headers["x-api-key"] !== undefined), "the page sent an x-api-key of its own");
  const seen = await page.evaluate(() => document.documentElement.outerHTML + JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!seen.includes(KEY), "the key is in the page or its storage");
  assert.ok(!log.console.some((m) => m.includes(KEY)), "the key is in the console");
}

describe(`demo page with the Pulse proxy in ${CHROMIUM}`, () => {
  test("says it uses the Pulse API through the proxy and offers a file-URL submit instead of scenarios", async () => {
    for (const width of [375, 1280]) {
      const p = await openDemo(width);
      try {
        const { page } = p;
        assert.equal(await page.getAttribute("#backend", "data-backend"), "pulse");
        assert.equal(await page.textContent("#backend-name"), "Pulse API");
        const text = await page.textContent("#backend-text");
        assert.ok(text.includes(upstream.apiUrl), `the label names the upstream: ${text}`);
        assert.match(text, /\/pulse/);
        assert.match(text, /CSP/, "says that links on other origins are blocked");
        assert.equal(await page.inputValue("#base-url"), `${new URL(demo.url).origin}/pulse`);
        assert.equal(await page.isHidden("#key-field"), true, "no key field: the server holds the key");
        assert.equal(await page.isVisible("#key-note"), true);
        assert.equal(await page.isHidden("#scenario-set"), true, "the mock's scenarios make no sense here");
        assert.equal(await page.isVisible("#file-url"), true);
        assert.equal(await page.textContent("#use-mock"), "Use the proxy");
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
        assert.ok(scrollWidth <= innerWidth, `page is ${scrollWidth}px wide in a ${innerWidth}px viewport`);
        await screenshot(page, `proxy-initial-${width}`);
        await assertKeyNotInBrowser(p);
      } finally {
        await p.context.close();
      }
    }
  });

  test("a file URL is submitted through the proxy and the job completes", async () => {
    const p = await openDemo(1280);
    const { page } = p;
    try {
      await shortDelays(page);
      await page.fill("#file-url", "not a url");
      await page.click("#start");
      assert.equal(await page.getAttribute("#file-url", "aria-invalid"), "true", "a non-URL is refused on the page");
      const fileUrl = `https://example.com/${nonce()}.pdf`;
      await page.fill("#file-url", fileUrl);
      await page.click("#start");
      await waitState(page, "completed", 30000);
      const jobId = await page.textContent("#fact-job");
      assert.match(await page.textContent("#timeline"), /POST \/extract \(file_url\)/);
      const recs = upstream.mock.requests.filter((r) => r.jobId === jobId);
      const post = recs.find((r) => r.method === "POST");
      assert.equal(post.path, "/extract");
      assert.equal(post.headers["x-api-key"], KEY, "the server added the key");
      assert.deepEqual(post.body.fields, { file_url: fileUrl, async: true });
      const polls = recs.filter((r) => r.method === "GET");
      assert.ok(polls.length >= 1 && polls.every((r) => r.headers["x-api-key"] === KEY), "every poll carried the key upstream");
      assert.equal(await page.isVisible("#result"), true);
      await screenshot(page, "proxy-file-url-completed-1280");
      await assertKeyNotInBrowser(p);
    } finally {
      await p.context.close();
    }
  });

  test("a large result on the API origin is downloaded through the proxy", async () => {
    const p = await openDemo(1280);
    const { page } = p;
    try {
      await shortDelays(page);
      const jobId = `singleuse_3000000-${nonce()}`;
      await page.fill("#job-id", jobId);
      await page.click("#watch");
      await waitState(page, "completed", 30000);
      assert.equal(await page.getAttribute("#download-progress", "data-percent"), "100");
      assert.equal(await page.isVisible("#result"), true);
      const origin = new URL(demo.url).origin;
      assert.ok(p.sent.some((r) => r.url === `${origin}/pulse/large_results/${jobId}`), "the page downloaded through the proxy");
      const dl = upstream.mock.requests.filter((r) => r.jobId === jobId && r.path.startsWith("/large_results/"));
      assert.equal(dl.length, 1);
      assert.equal(dl[0].headers["x-api-key"], KEY);
      await screenshot(page, "proxy-large-completed-1280");
      await assertKeyNotInBrowser(p);
    } finally {
      await p.context.close();
    }
  });
});
