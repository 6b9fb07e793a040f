// watchJob (docs/contract.md, "watchJob"): every poll's job as an async
// iterator, on the same wait as waitForJob; the completed job last with its
// large result downloaded, a failed job yielded before its PulseError, bad
// input thrown on the first next(), and `break` stopping the wait at once.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard, rejectsWith, sleep } from "./support/util.js";

exitGuard();
const { esm, cjs } = await loadPulse();
const KEY = "watch-key-51c2";

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, initialDelayMs: 20, multiplier: 1, jitter: 0, ...o });

async function collect(iterator) {
  const jobs = [];
  for await (const job of iterator) jobs.push(job);
  return jobs;
}

describe("watchJob", { concurrency: true }, () => {
  for (const [name, P] of [["ESM", esm], ["CJS", cjs], ["PulseClient", { watchJob: (id, o) => new esm.PulseClient({ apiKey: KEY, baseUrl: m.apiUrl }).watchJob(id, o) }]]) {
    test(`${name}: yields the job after every poll, the completed job last`, async () => {
      const id = jid("steps_2");
      const jobs = await collect(P.watchJob(id, opts()));
      assert.deepEqual(jobs.map((j) => j.status), ["pending", "processing", "completed"]);
      assert.ok(jobs.every((j) => j.job_id === id));
      assert.match(jobs[2].result.markdown, /^# Mock extraction result/);
      assert.equal(m.pollsFor(id).length, 3);
    });
  }

  test("a large result is downloaded before the completed job is yielded", async () => {
    const id = jid("large_6000000");
    const jobs = await collect(esm.watchJob(id, opts()));
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].status, "completed");
    assert.equal(typeof jobs[0].result.markdown, "string");
    assert.equal(jobs[0].result.is_url, undefined, "the pointer was replaced by the result");
  });

  test("a failed job is yielded, then the iteration throws JOB_FAILED", async () => {
    const id = jid("failed");
    const seen = [];
    const err = await rejectsWith(
      esm.PulseError,
      (async () => {
        for await (const job of esm.watchJob(id, opts())) seen.push(job.status);
      })(),
      "JOB_FAILED",
    );
    assert.deepEqual(seen, ["failed"]);
    assert.equal(err.job.status, "failed");
  });

  test("bad input throws INVALID_ARGUMENT on the first next(), before any request", async () => {
    const id = jid("ok");
    const iterator = esm.watchJob(id, opts({ multiplier: 0.5 }));
    await rejectsWith(esm.PulseError, iterator.next(), "INVALID_ARGUMENT");
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    await rejectsWith(esm.PulseError, esm.watchJob("", opts()).next(), "INVALID_ARGUMENT");
    assert.equal(m.requestsFor(id).length, 0);
  });

  test("break stops polling at once: no later request", async () => {
    const id = jid("steps_1000");
    let count = 0;
    for await (const job of esm.watchJob(id, opts())) {
      assert.equal(job.job_id, id);
      if (++count === 2) break;
    }
    const polls = m.pollsFor(id).length;
    await sleep(200); // ten poll intervals
    assert.equal(m.pollsFor(id).length, polls, "no poll after break");
    assert.equal(m.apiFor(id).filter((r) => r.method === "DELETE").length, 0, "no cancel without cancelOnAbort");
  });

  test("the caller's signal ends the iteration with ABORTED; onProgress still sees every poll", async () => {
    const id = jid("steps_1000");
    const ac = new AbortController();
    const progress = [];
    const statuses = [];
    const err = await rejectsWith(
      esm.PulseError,
      (async () => {
        for await (const job of esm.watchJob(id, opts({ signal: ac.signal, onProgress: (j, info) => progress.push(info.attempt) }))) {
          statuses.push(job.status);
          if (statuses.length === 3) ac.abort("enough");
        }
      })(),
      "ABORTED",
    );
    assert.equal(err.cause, "enough");
    assert.deepEqual(progress.slice(0, 3), [1, 2, 3]);
  });

  test("return() before the first next() sends nothing", async () => {
    const id = jid("ok");
    const iterator = esm.watchJob(id, opts());
    assert.deepEqual(await iterator.return(), { value: undefined, done: true });
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    await sleep(50);
    assert.equal(m.requestsFor(id).length, 0);
  });
});
