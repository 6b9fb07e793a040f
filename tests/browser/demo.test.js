// End-to-end tests of the demo page (www/) in Debian's Chromium via playwright-core.
// Run: node --test tests/browser/   (needs pkg/ built and /usr/bin/chromium)
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  CHROMIUM, isBlank, launchBrowser, mockRequests, newPage, nonce, pngStats, screenshot, startServer, waitReady, waitState,
} from "./helpers.js";

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'";
const SECRET = "demo-secret-key-4c1d";

let demo;
let browser;

before(async () => {
  demo = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.close();
});

/** Open the demo at `width` px and wait for the package to load. */
async function openDemo(width = 1280, height = 900) {
  const p = await newPage(browser, { width, height });
  const response = await p.page.goto(demo.url);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()["content-security-policy"], CSP);
  await waitReady(p.page);
  return p;
}

/** Choose a scenario, use short poll delays and start the demo job; returns nothing (read the job id from the page). */
async function startDemoJob(page, scenario, { maxDelayMs = 1000 } = {}) {
  await page.locator("details.advanced summary").click();
  await page.fill("#opt-initial", "300");
  await page.fill("#opt-max", String(maxDelayMs));
  await page.check(`input[name="scenario"][value="${scenario}"]`);
  await page.click("#start");
}

function assertClean(log) {
  assert.deepEqual(log.errors, [], "uncaught page errors");
  assert.deepEqual(log.csp, [], "CSP violations");
}

/** No horizontal scrolling: the layout fits the viewport. */
async function assertFitsWidth(page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `page is ${scrollWidth}px wide in a ${innerWidth}px viewport`);
}

describe(`demo page in ${CHROMIUM}`, () => {
  test("the not-blank screenshot check fails on a blank page", async () => {
    const { context, page } = await newPage(browser, { width: 400, height: 300 });
    try {
      await page.setContent("<html><body></body></html>");
      const stats = pngStats(await page.screenshot());
      assert.equal(stats.width, 400);
      assert.ok(isBlank(stats), `a blank page must count as blank: ${JSON.stringify(stats)}`);
    } finally {
      await context.close();
    }
  });

  test("loads under the CSP with no errors, readable at 375 and 1280 px", async () => {
    for (const width of [375, 1280]) {
      const { context, page, log } = await openDemo(width);
      try {
        assert.equal(await page.locator("h1").textContent(), "pulse-jobs demo");
        assert.equal(await page.inputValue("#base-url"), new URL("api", demo.url).href.replace(/\/$/, ""));
        assert.equal(await page.isEnabled("#start"), true);
        assert.equal(await page.isDisabled("#cancel"), true);
        await assertFitsWidth(page);
        // every same-origin resource and nothing from another origin
        const origin = new URL(demo.url).origin;
        const foreign = log.requests.filter((r) => !r.url.startsWith(origin));
        assert.deepEqual(foreign, [], "requests to other origins");
        // app.js preloads the wasm as soon as the page is ready
        const fetchedWasm = () => log.requests.some((r) => r.url.endsWith("/pulse-jobs/web/wasm.js"));
        for (let i = 0; i < 100 && !fetchedWasm(); i += 1) await page.waitForTimeout(100);
        assert.ok(fetchedWasm(), "the package's wasm module was fetched");
        await screenshot(page, `demo-initial-${width}`);
        assertClean(log);
      } finally {
        await context.close();
      }
    }
  });

  test("a quick job reaches completed and renders its result", async () => {
    const { context, page, log } = await openDemo(1280);
    try {
      await startDemoJob(page, "quick");
      await waitState(page, "completed", 20000);
      const jobId = await page.textContent("#fact-job");
      assert.match(jobId, /\S/);
      assert.match(await page.textContent("#status-text"), /^Completed after \d+ polls? in /);
      const polls = await page.locator("#timeline li.tl-poll").count();
      assert.ok(polls >= 2, `timeline shows ${polls} polls`);
      assert.equal(await page.getAttribute("#timeline li.tl-poll:last-child", "data-status"), "completed");
      // earlier polls show a (frozen) countdown to the next poll
      assert.match(await page.textContent("#timeline li.tl-poll >> nth=0"), /next poll after/);
      assert.equal(await page.isVisible("#result"), true);
      assert.ok((await page.locator("#markdown").textContent()).trim().length > 0, "markdown preview is empty");
      assert.ok(await page.locator("#markdown :is(h4, h5, h6, p)").count() > 0, "markdown rendered to elements");
      await page.click("#json > summary");
      await page.waitForSelector("#json-tree .jt-key");
      assert.ok((await page.textContent("#json-tree")).includes(`"job_id": "${jobId}"`) || (await page.textContent("#json-tree")).includes(`"job_id": ${JSON.stringify(jobId)}`));
      assert.equal(await page.isHidden("#error"), true);
      // all polls of this job went to the mock through the same origin
      const recs = await mockRequests(demo, jobId);
      assert.equal(recs.filter((r) => r.method === "GET" && r.side === "api").length, polls);
      await screenshot(page, "demo-quick-completed-1280");
      await page.setViewportSize({ width: 375, height: 800 });
      await assertFitsWidth(page);
      await screenshot(page, "demo-quick-completed-375");
      assertClean(log);
    } finally {
      await context.close();
    }
  });

  test("a large job's progress bar reaches 100% and the 20 MB result shows, responsively", async () => {
    const { context, page, log } = await openDemo(1280);
    try {
      // sample the progress bar while the download runs
      await page.evaluate(() => {
        window.__progress = [];
        const bar = document.getElementById("download-progress");
        new MutationObserver(() => window.__progress.push([bar.value, bar.max])).observe(bar, { attributes: true });
      });
      await startDemoJob(page, "large");
      await waitState(page, "completed", 60000);
      const bar = await page.evaluate(() => {
        const p = document.getElementById("download-progress");
        return { value: p.value, max: p.max, percent: p.dataset.percent, visible: !p.closest("[hidden]") };
      });
      assert.ok(bar.visible, "progress bar visible");
      assert.ok(bar.max >= 19e6, `progress max is the total: ${bar.max}`);
      assert.equal(bar.value, bar.max, "progress reaches the total");
      assert.equal(bar.percent, "100");
      assert.match(await page.textContent("#download-text"), /MB of .*MB \(100%\)/);
      const samples = await page.evaluate(() => window.__progress.length);
      assert.ok(samples >= 1, "progress bar updated during the download");
      const jobId = await page.textContent("#fact-job");
      const recs = await mockRequests(demo, jobId);
      assert.equal(recs.filter((r) => r.side === "storage").length, 1, "one result download");

      // the result shows: truncated markdown with "show more", lazy JSON tree
      assert.equal(await page.isVisible("#result"), true);
      assert.ok(await page.locator("#markdown .md-more button").isVisible(), "markdown is truncated with a Show more button");
      assert.ok((await page.locator("#markdown").textContent()).length < 60000, "only a slice of the markdown is in the DOM");
      const timing = await page.evaluate(async () => {
        const t0 = performance.now();
        const json = document.getElementById("json");
        json.open = true;
        const tree = document.getElementById("json-tree");
        // open the job root's "result" node and every object/array inside it
        const result = [...tree.querySelectorAll("summary")].find((s) => s.textContent.startsWith('"result"'));
        result.parentElement.open = true;
        await new Promise((r) => setTimeout(r, 0));
        for (const d of result.parentElement.querySelectorAll(":scope > ul > li > details")) d.open = true;
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        return { ms: performance.now() - t0, nodes: tree.querySelectorAll("*").length };
      });
      assert.ok(timing.ms < 1500, `opening the 20 MB tree took ${timing.ms} ms`);
      assert.ok(timing.nodes < 5000, `the tree built ${timing.nodes} elements`);
      // the page still answers input at once
      const t0 = Date.now();
      await page.click("#markdown .md-more button");
      assert.ok(Date.now() - t0 < 2000, "Show more answered");
      await screenshot(page, "demo-large-completed-1280");
      assertClean(log);
    } finally {
      await context.close();
    }
  });

  test("a failing job shows its error code and message", async () => {
    const { context, page, log } = await openDemo(1280);
    try {
      await startDemoJob(page, "failing");
      await waitState(page, "failed", 20000);
      assert.equal(await page.textContent("#error-code"), "JOB_FAILED");
      assert.equal(await page.isVisible("#error"), true);
      assert.match(await page.textContent("#error-message"), /Document could not be parsed/);
      assert.match(await page.textContent("#error-extra"), /not retryable/);
      assert.equal(await page.getAttribute("#timeline li.tl-poll:last-child", "data-status"), "failed");
      assert.equal(await page.isHidden("#result"), true);
      await screenshot(page, "demo-failing-error-1280");
      await page.setViewportSize({ width: 375, height: 800 });
      await assertFitsWidth(page);
      await screenshot(page, "demo-failing-error-375");
      assertClean(log);
    } finally {
      await context.close();
    }
  });

  test("Cancel mid-wait aborts and no further requests reach the mock", async () => {
    const { context, page, log } = await openDemo(1280);
    try {
      await startDemoJob(page, "slow", { maxDelayMs: 1000 });
      await page.waitForSelector("#timeline li.tl-poll >> nth=1", { timeout: 15000 }); // two polls seen
      await waitState(page, "waiting");
      const jobId = await page.textContent("#fact-job");
      assert.equal(await page.isEnabled("#cancel"), true);
      await page.click("#cancel");
      await waitState(page, "aborted", 2000);
      assert.equal(await page.textContent("#error-code"), "ABORTED");
      assert.equal(await page.isDisabled("#cancel"), true);
      assert.equal(await page.isVisible("#cancel-server"), true, "offers to cancel the job on the server");

      const atAbort = await mockRequests(demo, jobId);
      // The next poll would have been due within maxDelayMs (1 s): wait 2.5 s.
      await page.waitForTimeout(2500);
      const later = await mockRequests(demo, jobId);
      assert.equal(later.length, atAbort.length, "requests reached the mock after the abort");
      assert.ok(atAbort.every((r) => r.method !== "DELETE"), "no DELETE before the user asks for it");
      await screenshot(page, "demo-canceled-1280");

      // The offer: cancel the job on the server (DELETE /job/{id})
      await page.click("#cancel-server");
      await page.waitForFunction(() => /Server:/.test(document.getElementById("server-cancel-result").textContent));
      const afterDelete = await mockRequests(demo, jobId);
      assert.deepEqual(afterDelete.slice(later.length).map((r) => r.method), ["DELETE"]);
      assertClean(log);
    } finally {
      await context.close();
    }
  });

  test("Cancel during a poll in flight aborts that request", async () => {
    const { context, page, log } = await openDemo(1280);
    try {
      const jobId = `hang-${nonce()}`;
      await page.fill("#job-id", jobId);
      await page.click("#watch");
      await waitState(page, "waiting");
      let recs = [];
      for (let i = 0; i < 40 && recs.length === 0; i++) {
        await page.waitForTimeout(50);
        recs = await mockRequests(demo, jobId);
      }
      assert.equal(recs.length, 1, "the poll reached the mock");
      const t0 = Date.now();
      await page.click("#cancel");
      await waitState(page, "aborted", 2000);
      assert.ok(Date.now() - t0 < 1500, "the abort settled at once");
      assert.equal(await page.textContent("#error-code"), "ABORTED");
      for (let i = 0; i < 20 && !recs[0].closedEarly; i++) {
        await page.waitForTimeout(50);
        recs = await mockRequests(demo, jobId);
      }
      assert.equal(recs[0].closedEarly, true, "the request in flight was aborted");
      await page.waitForTimeout(1200);
      assert.equal((await mockRequests(demo, jobId)).length, 1, "no request after the abort");
      assertClean(log);
    } finally {
      await context.close();
    }
  });

  test("a flaky network: failed requests show in the timeline and the job completes", async () => {
    const { context, page, log } = await openDemo(1280);
    try {
      await startDemoJob(page, "flaky", { maxDelayMs: 800 });
      await waitState(page, "completed", 40000);
      const jobId = await page.textContent("#fact-job");
      const recs = await mockRequests(demo, jobId);
      const gets = recs.filter((r) => r.method === "GET" && r.side === "api").length;
      const polls = await page.locator("#timeline li.tl-poll").count();
      assert.ok(gets > polls, `the mock saw ${gets} GETs for ${polls} successful polls`);
      assert.ok(await page.locator("#timeline li.tl-net, #timeline li.tl-retry").count() > 0, "failed requests are shown");
      await screenshot(page, "demo-flaky-completed-1280");
      assertClean(log);
    } finally {
      await context.close();
    }
  });

  test("the API key stays in memory; a wrong key shows HTTP_ERROR 401", async () => {
    const { context, page, log } = await openDemo(1280);
    try {
      await page.fill("#api-key", SECRET);
      await startDemoJob(page, "quick");
      await waitState(page, "completed", 20000);
      const jobId = await page.textContent("#fact-job");
      const recs = await mockRequests(demo, jobId);
      assert.ok(recs.every((r) => r.headers["x-api-key"] === SECRET), "the key is sent as x-api-key to the API");
      const leaks = await page.evaluate((secret) => ({
        url: location.href.includes(secret),
        local: JSON.stringify({ ...localStorage }).includes(secret),
        session: JSON.stringify({ ...sessionStorage }).includes(secret),
        text: document.body.innerText.includes(secret),
        named: document.getElementById("api-key").hasAttribute("name"),
      }), SECRET);
      assert.deepEqual(leaks, { url: false, local: false, session: false, text: false, named: false });
      assert.ok(!log.requests.some((r) => r.url.includes(SECRET)), "the key appears in a request URL");
      assert.ok(!log.console.some((m) => m.includes(SECRET)), "the key appears in the console");

      await page.fill("#api-key", "wrong");
      await page.fill("#job-id", "ok");
      await page.click("#watch");
      await waitState(page, "error", 10000);
      assert.equal(await page.textContent("#error-code"), "HTTP_ERROR");
      assert.match(await page.textContent("#error-extra"), /HTTP status 401/);
      assert.ok(!(await page.textContent("#error")).includes("wrong"), "the key appears in the error");
      assertClean(log);
    } finally {
      await context.close();
    }
  });

  test("a base URL on another origin is explained and never contacted", async () => {
    const { context, page, log } = await openDemo(375, 800);
    try {
      await page.fill("#base-url", "https://api.runpulse.com");
      await page.waitForSelector("#csp-note", { state: "visible" });
      assert.match(await page.textContent("#csp-note"), /Content-Security-Policy/);
      await page.fill("#api-key", SECRET);
      await page.fill("#job-id", "abc123");
      await page.click("#watch");
      await waitState(page, "blocked", 2000);
      assert.match(await page.textContent("#status-text"), /Content-Security-Policy/);
      await page.waitForTimeout(300);
      assert.deepEqual(log.requests.filter((r) => r.url.includes("runpulse")), []);
      await assertFitsWidth(page);
      await screenshot(page, "demo-foreign-origin-375");
      await page.click("#use-mock");
      assert.equal(await page.isHidden("#csp-note"), true);
      assertClean(log);
    } finally {
      await context.close();
    }
  });

  test("usable by keyboard: Tab to Start, Enter, Tab to the result tree", async () => {
    const { context, page, log } = await openDemo(1280);
    try {
      await page.focus("#base-url");
      let id = "";
      for (let i = 0; i < 30 && id !== "start"; i++) {
        await page.keyboard.press("Tab");
        id = await page.evaluate(() => document.activeElement.id);
      }
      assert.equal(id, "start", "Start demo job is reachable with Tab");
      await page.keyboard.press("Enter");
      assert.equal(await page.evaluate(() => document.activeElement.id), "cancel", "focus moves to Cancel");
      await waitState(page, "completed", 20000);
      await page.focus("#json > summary");
      await page.keyboard.press("Enter");
      assert.equal(await page.evaluate(() => document.getElementById("json").open), true, "JSON opens with Enter");
      assertClean(log);
    } finally {
      await context.close();
    }
  });
});
