// pulse-jobs inside a module Web Worker (www/worker/): the worker imports the
// browser entry, runs waitForJob against the mock and posts the result back.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, mockRequests, newPage, nonce, screenshot, startServer } from "./helpers.js";

let demo;
let browser;
let context;
let page;
let log;

before(async () => {
  demo = await startServer();
  browser = await launchBrowser();
  ({ context, page, log } = await newPage(browser, { width: 1280, height: 800 }));
  const response = await page.goto(new URL("worker/", demo.url).href);
  assert.equal(response.headers()["content-security-policy"], "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'");
});

after(async () => {
  await context?.close();
  await browser?.close();
  await demo?.close();
});

test("the module worker imports the browser entry", async () => {
  const ready = await page.evaluate(() => window.pulseWorker.ready);
  assert.equal(ready.type, "ready", `worker failed: ${JSON.stringify(ready)}; console: ${log.console.join("\n")}`);
  assert.equal(ready.scope, "DedicatedWorkerGlobalScope");
  assert.equal(ready.hasWindow, false);
  assert.deepEqual(ready.exports, { waitForJob: "function", PulseError: "function" });
  // the worker fetched the package and its wasm from the same server
  assert.ok(log.requests.some((r) => r.url.endsWith("/pulse-jobs/web/index.js")));
  // the wasm waits for the first call
  assert.ok(!log.requests.some((r) => r.url.endsWith("/pulse-jobs/web/wasm.js")));
});

test("waitForJob in the worker polls until completed and posts the job back", async () => {
  const jobId = `steps_2-${nonce()}`;
  const out = await page.evaluate((id) => window.pulseWorker.run(id), jobId);
  assert.equal(out.ok, true, JSON.stringify(out.error));
  assert.equal(out.job.job_id, jobId);
  assert.equal(out.job.status, "completed");
  assert.ok(out.job.markdownLength > 0);
  assert.deepEqual(out.progress.map((p) => p.status), ["pending", "processing", "completed"]);
  assert.deepEqual(out.progress.map((p) => p.attempt), [1, 2, 3]);
  assert.equal(out.progress.at(-1).nextDelayMs, null);
  assert.ok(out.progress[0].nextDelayMs >= 0);
  const recs = await mockRequests(demo, jobId);
  assert.equal(recs.filter((r) => r.method === "GET").length, 3);
  assert.ok(log.requests.some((r) => r.url.endsWith("/pulse-jobs/web/wasm.js")), "the first call fetched the wasm");
});

test("a large result is downloaded by URL inside the worker", async () => {
  const jobId = `large_6000000-${nonce()}`;
  const out = await page.evaluate((id) => window.pulseWorker.run(id), jobId);
  assert.equal(out.ok, true, JSON.stringify(out.error));
  assert.equal(out.job.resultIsUrl, false, "the result was downloaded, not left as a pointer");
  assert.ok(out.job.markdownLength > 0);
  assert.ok(out.download && out.download.loaded >= 6000000, `download progress: ${JSON.stringify(out.download)}`);
  assert.equal(out.download.loaded, out.download.total);
  const recs = await mockRequests(demo, jobId);
  assert.equal(recs.filter((r) => r.side === "storage").length, 1);
});

test("an abort inside the worker rejects ABORTED and ends the request in flight", async () => {
  const jobId = `hang-${nonce()}`;
  const t0 = Date.now();
  const out = await page.evaluate((id) => window.pulseWorker.run(id, {}, { abortAfterMs: 300 }), jobId);
  assert.ok(Date.now() - t0 < 3000, "the abort settled the wait promptly");
  assert.equal(out.ok, false);
  assert.equal(out.error.isPulseError, true);
  assert.equal(out.error.code, "ABORTED");
  assert.equal(out.error.name, "AbortError");
  assert.equal(out.error.causeIsSignalReason, true, "cause === signal.reason");
  let recs = [];
  for (let i = 0; i < 20; i++) {
    recs = await mockRequests(demo, jobId);
    if (recs.length && recs[0].closedEarly) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(recs.length, 1);
  assert.equal(recs[0].closedEarly, true, "the hanging poll was aborted");
});

test("a failed job rejects with a PulseError JOB_FAILED inside the worker", async () => {
  const jobId = `failed-${nonce()}`;
  const out = await page.evaluate((id) => window.pulseWorker.run(id), jobId);
  assert.equal(out.ok, false);
  assert.equal(out.error.isPulseError, true);
  assert.equal(out.error.code, "JOB_FAILED");
  assert.equal(out.error.jobStatus, "failed");
  assert.match(out.error.message, /Document could not be parsed/);
  await page.waitForSelector('#state[data-state="error"]');
  await screenshot(page, "worker-1280");
  assert.deepEqual(log.errors, []);
  assert.deepEqual(log.csp, [], "CSP violations");
});
