// watchJob in Chromium: the demo server's page imports the browser entry
// (under its CSP) and iterates a watch against the embedded mock: every
// state in order, the large result downloaded before the last value, and
// `break` with cancelOnAbort stopping the polls and cancelling the job.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, mockRequests, newPage, nonce, startServer } from "./helpers.js";

let demo;
let browser;
let context;
let page;
let log;

before(async () => {
  demo = await startServer();
  browser = await launchBrowser();
  ({ context, page, log } = await newPage(browser, { width: 1000, height: 700 }));
  await page.goto(demo.url);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await demo?.close();
});

/** Runs a watch in the page; resolves with the statuses seen and the outcome. */
function watchInPage(jobId, { stopAt = null, cancelOnAbort = false } = {}) {
  return page.evaluate(
    async ({ jobId, baseUrl, stopAt, cancelOnAbort }) => {
      const { watchJob, PulseError } = await import("/pulse-jobs/web/index.js");
      const statuses = [];
      let markdownChars = null;
      try {
        for await (const job of watchJob(jobId, { baseUrl, initialDelayMs: 20, multiplier: 1, cancelOnAbort })) {
          statuses.push(job.status);
          if (job.status === "completed") markdownChars = job.result.markdown.length;
          if (job.status === stopAt) break;
        }
        return { statuses, markdownChars };
      } catch (error) {
        return { statuses, error: { isPulseError: error instanceof PulseError, code: error.code } };
      }
    },
    { jobId, baseUrl: demo.apiBase, stopAt, cancelOnAbort },
  );
}

test("a watch yields every state, the large result downloaded before the last", async () => {
  const id = `large_6000000-${nonce()}`;
  const { statuses, markdownChars } = await watchInPage(id);
  assert.deepEqual(statuses, ["completed"]);
  assert.ok(markdownChars > 1_000_000, `markdown of ${markdownChars} chars`);
  const steps = await watchInPage(`steps_2-${nonce()}`);
  assert.deepEqual(steps.statuses, ["pending", "processing", "completed"]);
});

test("a failed job is yielded, then the PulseError is thrown", async () => {
  const outcome = await watchInPage(`failed-${nonce()}`);
  assert.deepEqual(outcome, { statuses: ["failed"], error: { isPulseError: true, code: "JOB_FAILED" } });
});

test("break with cancelOnAbort stops polling and cancels the job before the loop ends", async () => {
  const id = `steps_1000-${nonce()}`;
  const { statuses } = await watchInPage(id, { stopAt: "processing", cancelOnAbort: true });
  assert.deepEqual(statuses, ["pending", "processing"]);
  const requests = await mockRequests(demo, id);
  assert.equal(requests.filter((r) => r.method === "DELETE").length, 1);
  const polls = requests.filter((r) => r.method === "GET").length;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await mockRequests(demo, id)).filter((r) => r.method === "GET").length, polls, "no poll after break");
  assert.deepEqual(log.errors, []);
});
