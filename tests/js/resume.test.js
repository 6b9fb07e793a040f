// Resume (docs/contract.md, "Resume"): onProgress's `info.state` (and a
// watch's `state`) is a small JSON value; `resume: state` goes on with that
// wait: first poll at once, attempts and backoff going on, the deadline
// counted from the original start. Another job's state, or a malformed one,
// is INVALID_ARGUMENT before any request.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard, rejectsWith, sleep } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { waitForJob, watchJob, PulseError } = P;

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const opts = (o = {}) => ({ baseUrl: m.apiUrl, initialDelayMs: 20, multiplier: 1, jitter: 0, ...o });

/** Waits until poll `n`, then aborts; resolves with the state onProgress reported there. */
async function stateAfter(id, n) {
  const ac = new AbortController();
  let state;
  const onProgress = (job, info) => {
    state = JSON.parse(JSON.stringify(info.state)); // as a page would keep it
    if (info.attempt === n) ac.abort();
  };
  await rejectsWith(PulseError, waitForJob(id, opts({ signal: ac.signal, onProgress })), "ABORTED");
  return state;
}

describe("resume", { concurrency: true }, () => {
  test("info.state is { jobId, startedAt, attempt }, and resume goes on with the wait", async () => {
    const id = jid("steps_4");
    const started = Date.now();
    const state = await stateAfter(id, 2);
    assert.deepEqual(Object.keys(state).sort(), ["attempt", "jobId", "startedAt"]);
    assert.equal(state.jobId, id);
    assert.equal(state.attempt, 2);
    assert.ok(Math.abs(state.startedAt - started) < 200, `startedAt ${state.startedAt} vs ${started}`);

    const attempts = [];
    const call = Date.now();
    const job = await waitForJob(id, opts({ resume: state, onProgress: (j, info) => attempts.push([info.attempt, info.state.startedAt]) }));
    assert.equal(job.status, "completed");
    assert.deepEqual(attempts.map(([a]) => a), [3, 4, 5], "attempts go on from the saved one");
    assert.ok(attempts.every(([, s]) => s === state.startedAt), "the state keeps the original start");
    const resumedPolls = m.pollsFor(id).filter((r) => r.at >= call);
    assert.ok(resumedPolls[0].at - call < 150, "the first poll is sent at once");
  });

  test("the backoff continues from the saved attempt", async () => {
    const id = jid("steps_1000");
    const state = { jobId: id, startedAt: Date.now(), attempt: 3 };
    const ac = new AbortController();
    const delays = [];
    const onProgress = (j, info) => {
      delays.push(info.nextDelayMs);
      ac.abort();
    };
    await rejectsWith(PulseError, waitForJob(id, opts({ multiplier: 2, resume: state, signal: ac.signal, onProgress })), "ABORTED");
    assert.deepEqual(delays, [20 * 2 ** 3], "the delay after poll 4 is the schedule's fourth");
  });

  test("timeoutMs counts from the original start, even with a poll in flight", async () => {
    for (const scenario of ["steps_1000", "hang"]) {
      const id = jid(scenario);
      const state = { jobId: id, startedAt: Date.now() - 10_000, attempt: 1 };
      const call = Date.now();
      await rejectsWith(PulseError, waitForJob(id, opts({ timeoutMs: 10_200, resume: state })), "TIMEOUT");
      assert.ok(Date.now() - call < 1500, `${scenario}: rejected after ${Date.now() - call} ms, not 10 s`);
    }
  });

  test("a watch exposes its state and resumes from one", async () => {
    const id = jid("steps_3");
    const watch = watchJob(id, opts());
    assert.equal(watch.state, undefined);
    await watch.next();
    await watch.next();
    const state = watch.state;
    assert.equal(state.attempt, 2);
    await watch.return();
    const statuses = [];
    for await (const job of watchJob(id, opts({ resume: state }))) statuses.push(job.status);
    assert.deepEqual(statuses, ["processing", "completed"]);
  });

  test("another job's state, or a malformed one, is INVALID_ARGUMENT before any request", async () => {
    const id = jid("ok");
    const good = { jobId: id, startedAt: Date.now() - 1000, attempt: 2 };
    for (const [resume, message] of [
      [{ ...good, jobId: "someone-else" }, "options.resume is not the state of a wait for this jobId"],
      [{ ...good, attempt: "2" }, /options\.resume must be the state onProgress reported/],
      [{ ...good, attempt: 1.5 }, /options\.resume must be/],
      [{ ...good, startedAt: Date.now() + 60_000 }, /options\.resume must be/],
      [{ jobId: id }, /options\.resume must be/],
      ["state", "options.resume must be the state onProgress reported"],
    ]) {
      const err = await rejectsWith(PulseError, waitForJob(id, opts({ resume })), "INVALID_ARGUMENT");
      if (message instanceof RegExp) assert.match(err.message, message);
      else assert.equal(err.message, message);
    }
    const throwing = { get jobId() { throw new Error("boom"); } };
    const err = await rejectsWith(PulseError, waitForJob(id, opts({ resume: throwing })), "INVALID_ARGUMENT");
    assert.equal(err.cause.message, "boom");
    await sleep(50);
    assert.equal(m.requestsFor(id).length, 0);
  });
});
