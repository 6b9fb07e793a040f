// waitForJob polling (docs/contract.md, "Behaviour"): first
// GET at once, the backoff schedule, the deadline and TIMEOUT, Retry-After,
// unknown statuses and onProgress. Timing asserts are lower bounds plus loose
// upper bounds (SLACK): the machine may be busy.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { gaps, jid, startMockServer } from "./support/mock.js";
import { EARLY, SLACK, exitGuard, rejectsWith, spyFetch, timed } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { waitForJob, PulseError } = P;
const KEY = "polling-key-41af";

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, ...o });

describe("polling schedule", { concurrency: true }, () => {
  test("the first GET is sent at once", async () => {
    const id = jid("ok");
    const fetch = spyFetch();
    const start = Date.now();
    const job = await waitForJob(id, opts({ initialDelayMs: 5000, fetch }));
    assert.equal(job.status, "completed");
    assert.equal(fetch.calls.length, 1);
    assert.ok(fetch.calls[0].at - start < 1000, `first GET started ${fetch.calls[0].at - start} ms after the call (initialDelayMs 5000)`);
    const polls = m.pollsFor(id);
    assert.equal(polls.length, 1);
    assert.equal(polls[0].method, "GET");
    assert.equal(polls[0].path, `/job/${id}`);
    assert.equal(polls[0].headers["x-api-key"], KEY);
  });

  test("delays follow initialDelayMs * multiplier^(n-1) with jitter 0", async () => {
    const id = jid("steps_4");
    const delays = [];
    const job = await waitForJob(
      id,
      opts({ initialDelayMs: 20, multiplier: 2, jitter: 0, maxDelayMs: 10_000, onProgress: (_j, i) => delays.push(i.nextDelayMs) }),
    );
    assert.equal(job.status, "completed");
    assert.deepEqual(delays, [20, 40, 80, 160, null], "nextDelayMs is the exact schedule");
    const g = gaps(m.pollsFor(id));
    assert.equal(g.length, 4);
    [20, 40, 80, 160].forEach((want, i) => {
      assert.ok(g[i] >= want - EARLY, `gap ${i + 1} = ${g[i]} ms, expected >= ${want}`);
      assert.ok(g[i] <= want + SLACK, `gap ${i + 1} = ${g[i]} ms, expected about ${want}`);
    });
  });

  test("delays are capped at maxDelayMs", async () => {
    const id = jid("steps_4");
    const delays = [];
    await waitForJob(id, opts({ initialDelayMs: 20, multiplier: 3, jitter: 0, maxDelayMs: 50, onProgress: (_j, i) => delays.push(i.nextDelayMs) }));
    assert.deepEqual(delays, [20, 50, 50, 50, null]);
    const g = gaps(m.pollsFor(id));
    assert.ok(g[3] >= 50 - EARLY && g[3] < 50 + SLACK, `last gap ${g[3]} ms (uncapped would be 540)`);
  });

  test("multiplier 1 keeps a constant delay", async () => {
    const id = jid("steps_3");
    const delays = [];
    await waitForJob(id, opts({ initialDelayMs: 30, multiplier: 1, jitter: 0, onProgress: (_j, i) => delays.push(i.nextDelayMs) }));
    assert.deepEqual(delays, [30, 30, 30, null]);
  });

  test("jitter draws each delay from [base * (1 - jitter), base]", async () => {
    const id = jid("steps_6");
    const delays = [];
    await waitForJob(id, opts({ initialDelayMs: 40, multiplier: 1.5, jitter: 0.5, maxDelayMs: 100, onProgress: (_j, i) => delays.push(i.nextDelayMs) }));
    const bases = [40, 60, 90, 100, 100, 100];
    assert.equal(delays.length, 7);
    assert.equal(delays[6], null);
    bases.forEach((b, i) => {
      assert.equal(typeof delays[i], "number");
      assert.ok(delays[i] >= b * 0.5 - 1 && delays[i] <= b + 1, `delay ${i + 1} = ${delays[i]}, expected in [${b / 2}, ${b}]`);
    });
    const g = gaps(m.pollsFor(id));
    g.forEach((gap, i) => assert.ok(gap >= delays[i] - EARLY, `gap ${gap} < scheduled ${delays[i]}`));
  });

  test("jitter 1 actually randomises (not always the base)", async () => {
    const id = jid("steps_6");
    const delays = [];
    await waitForJob(id, opts({ initialDelayMs: 60, multiplier: 1, jitter: 1, onProgress: (_j, i) => delays.push(i.nextDelayMs) }));
    const drawn = delays.slice(0, 6);
    drawn.forEach((d) => assert.ok(d >= 0 && d <= 61, `delay ${d} outside [0, 60]`));
    assert.ok(drawn.some((d) => d < 59), `all delays at the base: ${drawn}`);
    assert.ok(new Set(drawn).size > 1, `all delays equal: ${drawn}`);
  });

  test("defaults: the second poll waits initialDelayMs 1000 with 20% jitter", async () => {
    const id = jid("steps_1");
    const info = [];
    await waitForJob(id, opts({ onProgress: (_j, i) => info.push(i) }));
    assert.ok(info[0].nextDelayMs >= 800 - 1 && info[0].nextDelayMs <= 1000 + 1, `default delay ${info[0].nextDelayMs}`);
    const g = gaps(m.pollsFor(id));
    assert.ok(g[0] >= info[0].nextDelayMs - EARLY && g[0] <= 1000 + SLACK, `gap ${g[0]}`);
  });

  test("maxDelayMs defaults to max(15000, initialDelayMs): a large initialDelayMs alone is valid", async () => {
    const id = jid("ok");
    const job = await waitForJob(id, opts({ initialDelayMs: 20_000 }));
    assert.equal(job.status, "completed");
  });
});

describe("deadline (timeoutMs)", { concurrency: true }, () => {
  test("rejects TIMEOUT promptly and starts no request after the deadline", async () => {
    const id = jid("steps_1000");
    const fetch = spyFetch();
    const start = Date.now();
    const { error, ms } = await timed(
      waitForJob(id, opts({ initialDelayMs: 50, multiplier: 1, jitter: 0, timeoutMs: 275, fetch })),
      start,
    );
    await rejectsWith(PulseError, Promise.reject(error), "TIMEOUT", { jobId: id, retryable: true });
    assert.ok(ms <= 275 + SLACK, `rejected after ${ms} ms, deadline 275`);
    assert.ok(ms >= 200, `rejected after only ${ms} ms (polls at 0, 50, ..., 250 fit before the deadline)`);
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(fetch.calls.length >= 1 && fetch.calls.length <= 6, `${fetch.calls.length} polls`);
    // `start` is read just before the call; allow the package's own clock start to be a couple of ms later.
    for (const c of fetch.calls) assert.ok(c.at - start <= 275 + EARLY, `request started ${c.at - start} ms after the call, past the 275 ms deadline`);
  });

  test("rejects at once when the next poll cannot start before the deadline", async () => {
    const id = jid("steps_1000");
    const { error, ms } = await timed(waitForJob(id, opts({ initialDelayMs: 2000, jitter: 0, timeoutMs: 1000 })));
    await rejectsWith(PulseError, Promise.reject(error), "TIMEOUT", { jobId: id });
    assert.ok(ms < 600, `rejected after ${ms} ms; the 2 s delay overshoots the 1 s deadline, so it should not sleep`);
    assert.equal(m.pollsFor(id).length, 1);
  });

  test("a poll in flight at the deadline is aborted and the wait rejects TIMEOUT", async () => {
    const id = jid("hang");
    const { error, ms } = await timed(waitForJob(id, opts({ timeoutMs: 300 })));
    await rejectsWith(PulseError, Promise.reject(error), "TIMEOUT", { retryable: true });
    assert.ok(ms >= 300 - EARLY && ms <= 300 + SLACK, `rejected after ${ms} ms, deadline 300`);
    const recs = await m.waitFor(id, (rs) => rs[0]?.closedEarly === true);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].closedEarly, true, "the hanging request was aborted");
  });

  test("a Retry-After beyond the deadline rejects TIMEOUT at once", async () => {
    const id = jid("retry429_30");
    const { error, ms } = await timed(waitForJob(id, opts({ initialDelayMs: 10, timeoutMs: 2000 })));
    await rejectsWith(PulseError, Promise.reject(error), "TIMEOUT");
    assert.ok(ms < 1000, `rejected after ${ms} ms`);
    assert.equal(m.pollsFor(id).length, 1);
  });

  test("timeoutMs 0 means no limit", async () => {
    const id = jid("steps_2");
    const job = await waitForJob(id, opts({ initialDelayMs: 20, jitter: 0, timeoutMs: 0 }));
    assert.equal(job.status, "completed");
    assert.equal(m.pollsFor(id).length, 3);
  });
});

describe("Retry-After", { concurrency: true }, () => {
  test("delta-seconds on a 429 poll delays the next poll, above maxDelayMs", async () => {
    const id = jid("retry429_1");
    const job = await waitForJob(id, opts({ initialDelayMs: 10, maxDelayMs: 50, jitter: 0 }));
    assert.equal(job.status, "completed");
    const g = gaps(m.pollsFor(id));
    assert.equal(g.length, 1);
    assert.ok(g[0] >= 1000 - EARLY && g[0] <= 1000 + SLACK, `gap ${g[0]} ms, Retry-After: 1`);
  });

  test("an HTTP-date on a 503 poll delays the next poll", async () => {
    const id = jid("retrydate_1");
    const job = await waitForJob(id, opts({ initialDelayMs: 10, maxDelayMs: 50, jitter: 0 }));
    assert.equal(job.status, "completed");
    const g = gaps(m.pollsFor(id));
    // The mock rounds the date up to a whole second: 1 to 2 s ahead.
    assert.ok(g[0] >= 1000 - 20, `gap ${g[0]} ms, Retry-After date >= 1 s ahead`);
    assert.ok(g[0] <= 2000 + SLACK, `gap ${g[0]} ms`);
  });

  test("Retry-After on a 200 poll applies too, and shows in nextDelayMs", async () => {
    const id = jid("retryok_1");
    const info = [];
    const job = await waitForJob(id, opts({ initialDelayMs: 10, maxDelayMs: 50, jitter: 0, onProgress: (j, i) => info.push([j.status, i.nextDelayMs]) }));
    assert.equal(job.status, "completed");
    assert.equal(info.length, 2);
    assert.equal(info[0][0], "processing");
    assert.ok(info[0][1] >= 1000 && info[0][1] <= 1001, `nextDelayMs ${info[0][1]} should include Retry-After: 1`);
    assert.deepEqual(info[1], ["completed", null]);
    const g = gaps(m.pollsFor(id));
    assert.ok(g[0] >= 1000 - EARLY && g[0] <= 1000 + SLACK, `gap ${g[0]} ms`);
  });

  test("Retry-After on a 429 result download delays the retry", async () => {
    const id = jid("dl429_1");
    const job = await waitForJob(id, opts({ initialDelayMs: 10, maxDelayMs: 50, jitter: 0 }));
    assert.equal(job.status, "completed");
    assert.notEqual(job.result?.is_url, true);
    const dl = m.storageFor(id);
    assert.equal(dl.length, 2);
    const g = gaps(dl);
    assert.ok(g[0] >= 1000 - EARLY && g[0] <= 1000 + SLACK, `download retry gap ${g[0]} ms, Retry-After: 1`);
  });
});

describe("unknown statuses and onProgress", { concurrency: true }, () => {
  test("unknown statuses are not terminal and go through onProgress", async () => {
    const id = jid("unknown_3");
    const seen = [];
    const job = await waitForJob(id, opts({ initialDelayMs: 10, jitter: 0, onProgress: (j, i) => seen.push([j.status, i.nextDelayMs === null]) }));
    assert.equal(job.status, "completed");
    assert.deepEqual(seen, [
      ["queued_for_review", false],
      ["queued_for_review", false],
      ["queued_for_review", false],
      ["completed", true],
    ]);
    assert.equal(m.pollsFor(id).length, 4);
  });

  test("onProgress gets the job and { attempt, elapsedMs, nextDelayMs }", async () => {
    const id = jid("steps_2");
    const calls = [];
    const start = Date.now();
    const job = await waitForJob(id, opts({ initialDelayMs: 20, multiplier: 2, jitter: 0, onProgress: (j, i) => calls.push({ j, i: { ...i }, at: Date.now() }) }));
    assert.equal(calls.length, 3);
    assert.deepEqual(calls.map((c) => c.j.status), ["pending", "processing", "completed"]);
    assert.deepEqual(calls.map((c) => c.i.attempt), [1, 2, 3]);
    assert.deepEqual(calls.map((c) => c.i.nextDelayMs), [20, 40, null]);
    for (const c of calls) {
      assert.equal(c.j.job_id, id);
      assert.equal(typeof c.i.elapsedMs, "number");
      assert.ok(c.i.elapsedMs >= 0 && c.i.elapsedMs <= c.at - start + 5, `elapsedMs ${c.i.elapsedMs}`);
    }
    assert.ok(calls[2].i.elapsedMs >= 60 - EARLY, `elapsedMs at the end ${calls[2].i.elapsedMs}, slept 60 ms`);
    assert.ok(calls[0].i.elapsedMs <= calls[1].i.elapsedMs && calls[1].i.elapsedMs <= calls[2].i.elapsedMs);
    assert.equal(calls[2].j.status, job.status);
  });

  test("attempt counts poll requests, failed ones included; failed polls do not fire onProgress", async () => {
    const id = jid("flaky_2");
    const calls = [];
    await waitForJob(id, opts({ initialDelayMs: 10, jitter: 0, onProgress: (j, i) => calls.push([j.status, i.attempt, i.nextDelayMs]) }));
    assert.deepEqual(calls, [["completed", 3, null]]);
  });

  test("onProgress fires on the terminal poll of a failed job too", async () => {
    const id = jid("failed");
    const calls = [];
    await rejectsWith(PulseError, waitForJob(id, opts({ onProgress: (j, i) => calls.push([j.status, i.attempt, i.nextDelayMs]) })), "JOB_FAILED");
    assert.deepEqual(calls, [["failed", 1, null]]);
  });
});
