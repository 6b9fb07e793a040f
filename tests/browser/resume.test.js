// Resume in Chromium: the demo page keeps the wait's state in sessionStorage
// (never the key) and, reloaded mid-wait, carries on with `resume`: the
// first poll at once, the attempts going on, the job completed in the end.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, mockRequests, newPage, startServer } from "./helpers.js";

const SECRET = "demo-key-resume-6a1f";
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

const saved = (page) => page.evaluate(() => sessionStorage.getItem("pulse-jobs-demo:wait"));

test("a reload during a wait resumes it, and the key is never stored", async () => {
  const { context, page, log } = await newPage(browser, { width: 1280, height: 900 });
  try {
    await page.goto(demo.url);
    await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
    await page.fill("#api-key", SECRET);
    await page.locator("details.advanced summary").click();
    await page.fill("#opt-initial", "200");
    await page.fill("#opt-max", "300");
    await page.check('input[name="scenario"][value="quick"]');
    await page.click("#start");
    await page.waitForFunction(() => Number(document.getElementById("fact-polls").textContent) >= 2, null, { timeout: 10000 });

    const state = JSON.parse(await saved(page));
    assert.deepEqual(Object.keys(state).sort(), ["attempt", "jobId", "startedAt"]);
    assert.ok(state.attempt >= 2, `attempt ${state.attempt}`);
    assert.ok(!(await saved(page)).includes(SECRET), "the key is not in sessionStorage");
    const before = (await mockRequests(demo, state.jobId)).filter((r) => r.method === "GET").length;

    await page.reload();
    await page.waitForSelector('#state[data-state="completed"]', { timeout: 15000 });
    const timeline = await page.textContent("#timeline");
    assert.match(timeline, /Resumed after a reload, from poll \d+/);
    const polls = Number(await page.textContent("#fact-polls"));
    assert.ok(polls > state.attempt, `polls went on from ${state.attempt} to ${polls}`);
    const gets = (await mockRequests(demo, state.jobId)).filter((r) => r.method === "GET");
    assert.ok(gets.length > before, "polls after the reload");
    assert.equal(await saved(page), null, "the saved state is gone once the wait settled");
    assert.deepEqual(log.errors, []);
  } finally {
    await context.close();
  }
});
