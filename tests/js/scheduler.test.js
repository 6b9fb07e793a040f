// A client's caps and rate-limit pause (docs/contract.md, "Client-wide caps"):
// maxConcurrentRequests (default 8) and maxRequestsPerSecond hold across all
// of a client's calls, as the mock counts them; a 429 with Retry-After pauses
// the client's new requests, while each call keeps its own deadline; top-level
// calls share nothing. And 10,000 waits through one client.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, load, startMockServer } from "./support/mock.js";
import { exitGuard, rejectsWith } from "./support/util.js";

exitGuard(20_000);
const { esm: P } = await loadPulse();
const { PulseClient, PulseError, waitForJob } = P;

let m;
before(async () => {
  m = await startMockServer();
  fast = { baseUrl: m.apiUrl, initialDelayMs: 10, multiplier: 1, jitter: 0 };
});
after(() => m?.close());
let fast;
const client = (o = {}) => new PulseClient({ baseUrl: m.apiUrl, ...o });
const recsOf = (ids) => m.mock.requests.filter((r) => r.side === "api" && ids.includes(r.jobId));

// One test at a time: the mock measures the load, which other tests' requests would blur.
describe("client-wide caps", { concurrency: false }, () => {
  test("the constructor refuses bad caps at once", () => {
    for (const options of [
      { maxConcurrentRequests: 0 },
      { maxConcurrentRequests: 2.5 },
      { maxConcurrentRequests: "4" },
      { maxRequestsPerSecond: 0 },
      { maxRequestsPerSecond: -1 },
      { maxRequestsPerSecond: Infinity },
    ]) {
      assert.throws(() => new PulseClient(options), (e) => e instanceof PulseError && e.code === "INVALID_ARGUMENT", JSON.stringify(options));
    }
    assert.throws(() => new PulseClient({ maxConcurrentRequests: 0 }), { message: "options.maxConcurrentRequests must be a whole number of at least 1" });
  });

  test("maxConcurrentRequests holds across every call of the client (default 8)", async () => {
    for (const [options, cap] of [[{}, 8], [{ maxConcurrentRequests: 3 }, 3]]) {
      const c = client(options);
      const ids = Array.from({ length: 24 }, () => jid("slow_60"));
      const jobs = await Promise.all(ids.map((id) => c.waitForJob(id, fast)));
      assert.ok(jobs.every((j) => j.status === "completed"));
      const { maxInFlight } = load(recsOf(ids));
      assert.equal(maxInFlight, cap, `in flight at most ${cap}, and the cap was reached`);
    }
  });

  test("maxRequestsPerSecond holds across every call of the client", async () => {
    const c = client({ maxRequestsPerSecond: 20 });
    const ids = Array.from({ length: 15 }, () => jid("steps_1"));
    const started = Date.now();
    await Promise.all(ids.map((id) => c.waitForJob(id, fast)));
    const { maxPerSecond } = load(recsOf(ids));
    assert.ok(maxPerSecond <= 20, `at most 20 a second, saw ${maxPerSecond}`);
    assert.ok(Date.now() - started >= 1400, "30 requests at 20 a second take 1.45 s at least");
  });

  test("a 429 with Retry-After pauses all of the client's new requests; a deadline inside the pause still rejects TIMEOUT", async () => {
    const c = client({ maxConcurrentRequests: 100 });
    const limited = jid("retry429_1");
    const other = jid("steps_1000");
    const short = jid("steps_1000");
    const outcomes = Promise.allSettled([
      c.waitForJob(limited, fast),
      c.waitForJob(other, { ...fast, timeoutMs: 1500 }),
    ]);
    await m.waitFor(limited, (recs) => recs.length >= 1);
    const pausedAt = m.requestsFor(limited)[0].at;
    const started = Date.now();
    await rejectsWith(PulseError, c.waitForJob(short, { ...fast, timeoutMs: 300 }), "TIMEOUT");
    assert.ok(Date.now() - started < 800, "the call's own deadline, not the pause");
    const [done] = await outcomes;
    assert.equal(done.value.status, "completed");
    const during = m.requestsFor(other).filter((r) => r.at > pausedAt + 20 && r.at < pausedAt + 950);
    assert.deepEqual(during, [], "no request of the client during the pause");
    assert.ok(m.requestsFor(other).some((r) => r.at >= pausedAt + 950), "polling resumed after the pause");
  });

  test("top-level waits and watches have no caps", async () => {
    const ids = Array.from({ length: 12 }, () => jid("slow_60"));
    await Promise.all(
      ids.map(async (id, i) => {
        if (i < 2) return P.waitForJob(id, fast); // and ten watches: more than a client's 8
        for await (const job of P.watchJob(id, fast)) void job;
      }),
    );
    assert.equal(load(recsOf(ids)).maxInFlight, 12, "all twelve in flight at once");
  });

  test("top-level calls share no pause", async () => {
    const limited = jid("retry429_2");
    const free = jid("steps_3");
    const first = waitForJob(limited, fast);
    await m.waitFor(limited, (recs) => recs.length >= 1);
    const started = Date.now();
    await waitForJob(free, fast);
    assert.ok(Date.now() - started < 1000, "another top-level wait goes on during the first one's Retry-After");
    await first;
  });

  test("10,000 waits through one client: the cap holds and every job settles with its own outcome", async () => {
    const c = client({ maxConcurrentRequests: 16 });
    const kinds = ["ok", "steps_1", "failed", "status_404"];
    const ids = Array.from({ length: 10_000 }, (_, i) => jid(kinds[i % kinds.length]));
    const heap = process.memoryUsage().heapUsed;
    const results = await Promise.allSettled(ids.map((id) => c.waitForJob(id, fast)));
    results.forEach((r, i) => {
      const kind = kinds[i % kinds.length];
      if (kind === "ok" || kind === "steps_1") assert.equal(r.value?.job_id, ids[i]);
      else assert.equal(r.reason?.code, kind === "failed" ? "JOB_FAILED" : "HTTP_ERROR", `${ids[i]}`);
      if (r.status === "rejected") assert.equal(r.reason.jobId, ids[i]);
    });
    const { maxInFlight } = load(recsOf(ids));
    assert.ok(maxInFlight <= 16, `in flight at most 16, saw ${maxInFlight}`);
    assert.ok(process.memoryUsage().heapUsed - heap < 500e6);
  });
});

describe("waitForJobs", { concurrency: true }, () => {
  test("settles every job in input order, never rejecting for a job's failure; onJobSettled reports each", async () => {
    const ids = [jid("steps_1"), jid("failed"), "", jid("ok")];
    const seen = [];
    const results = await P.waitForJobs(ids, { ...fast, onJobSettled: (result, index) => seen.push([index, result.status]) });
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "rejected", "fulfilled"]);
    assert.equal(results[0].value.job_id, ids[0]);
    assert.equal(results[1].reason.code, "JOB_FAILED");
    assert.equal(results[2].reason.code, "INVALID_ARGUMENT", "an invalid id settles its own entry");
    assert.deepEqual(seen.map(([i]) => i).sort(), [0, 1, 2, 3]);
    assert.deepEqual(Object.fromEntries(seen), { 0: "fulfilled", 1: "rejected", 2: "rejected", 3: "fulfilled" });
  });

  test("a jobIds that is not an array, or a bad option, rejects INVALID_ARGUMENT before any request", async () => {
    const id = jid("ok");
    for (const [jobIds, options, message] of [
      [id, fast, "jobIds must be an array"],
      [[id], { ...fast, multiplier: 0.5 }, /multiplier/],
      [[id], { ...fast, maxConcurrentRequests: 0 }, /maxConcurrentRequests/],
      [[id], { ...fast, onJobSettled: 5 }, "options.onJobSettled must be a function"],
    ]) {
      const err = await rejectsWith(PulseError, P.waitForJobs(jobIds, options), "INVALID_ARGUMENT");
      if (message instanceof RegExp) assert.match(err.message, message);
      else assert.equal(err.message, message);
    }
    assert.equal(m.requestsFor(id).length, 0);
  });

  test("the top-level call's caps hold for its waits; a client's waitForJobs uses the client's", async () => {
    const ids = Array.from({ length: 12 }, () => jid("slow_60"));
    await P.waitForJobs(ids, { ...fast, maxConcurrentRequests: 2 });
    assert.equal(load(recsOf(ids)).maxInFlight, 2);
    const more = Array.from({ length: 12 }, () => jid("slow_60"));
    const results = await client({ maxConcurrentRequests: 3 }).waitForJobs(more, fast);
    assert.ok(results.every((r) => r.status === "fulfilled"));
    assert.equal(load(recsOf(more)).maxInFlight, 3);
  });
});
