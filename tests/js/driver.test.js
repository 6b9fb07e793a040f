// The engine's driver (src/platform/driver.rs) through the real build: a
// callback that calls back into its own client while its progress is being
// reported must not change how the reporting call ends.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { PulseClient } = P;
const KEY = "driver-key-5d1a";

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const fast = { initialDelayMs: 5, multiplier: 1, jitter: 0 };

describe("callbacks that call into their own client", { concurrency: true }, () => {
  test("onProgress that starts a getJob, then throws on the job's last poll: the wait rejects with its exception, the getJob resolves", async () => {
    const c = new PulseClient({ apiKey: KEY, baseUrl: m.apiUrl });
    const boom = new Error("boom from onProgress");
    const other = jid("ok");
    let started;
    const wait = c.waitForJob(jid("ok"), {
      ...fast,
      onProgress: () => {
        started = c.getJob(other);
        throw boom;
      },
    });
    await assert.rejects(wait, (e) => e === boom);
    assert.ok(started instanceof Promise, "onProgress ran");
    const job = await started;
    assert.equal(job.job_id, other);
    assert.equal(job.status, "completed");
  });

  test("a watch's listener that starts a wait of the same client, then throws: the watch rejects with its exception, the wait resolves", async () => {
    const c = new PulseClient({ apiKey: KEY, baseUrl: m.apiUrl, maxConcurrentRequests: 1 });
    const boom = new Error("boom from a listener");
    const other = jid("steps_1");
    let started;
    const watch = (async () => {
      for await (const _job of c.watchJob(jid("ok"), fast)) {
        started = c.waitForJob(other, fast);
        throw boom;
      }
    })();
    await assert.rejects(watch, (e) => e === boom);
    const job = await started;
    assert.equal(job.job_id, other);
    assert.equal(job.status, "completed");
  });
});

// A settled call's leftovers (its abandoned request, its signal listener)
// are cleaned up in a microtask after the caller's reactions: the caller
// hears of an abort before the platform's fetch is torn down.
describe("clean-up after settling", { concurrency: true }, () => {
  test("an abort with a poll in flight: the rejection first, then the fetch aborted and the listener removed, before the next task", async () => {
    let fetchSignal;
    const hang = (_url, init) => {
      fetchSignal = init.signal;
      return new Promise(() => {});
    };
    const listeners = new Set();
    const signal = {
      aborted: false,
      reason: undefined,
      addEventListener: (_type, listener) => listeners.add(listener),
      removeEventListener: (_type, listener) => listeners.delete(listener),
    };
    const wait = P.waitForJob(jid("ok"), { apiKey: KEY, baseUrl: m.apiUrl, fetch: hang, signal });
    while (!fetchSignal) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(listeners.size, 1);
    let seenByHandler;
    const rejected = wait.then(
      () => assert.fail("resolved"),
      (error) => {
        seenByHandler = { code: error.code, fetchAborted: fetchSignal.aborted, listening: listeners.size };
      },
    );
    signal.aborted = true;
    signal.reason = new Error("stop");
    [...listeners].forEach((listener) => listener());
    await rejected;
    assert.deepEqual(seenByHandler, { code: "ABORTED", fetchAborted: false, listening: 1 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(fetchSignal.aborted, true, "the fetch is aborted");
    assert.equal(listeners.size, 0, "the listener is removed");
  });
});

// The abort callbacks of all calls wait in one table in the wasm, by key
// (src/platform/abort.rs); a key is freed when its call's clean-up drops the
// watch, not when the callback runs, or a call started in between would
// share it and lose its callback with the other's clean-up.
describe("abort callbacks", { concurrency: true }, () => {
  test("a wait started in another's abort handler, before that one's clean-up, is aborted by its own signal, and only by it", async () => {
    const sleeping = { apiKey: KEY, baseUrl: m.apiUrl, initialDelayMs: 60_000 };
    /** A wait of `signal`, once polled (so sleeping), in a box: a promise would be awaited. */
    const sleepingWait = async (signal) => {
      let polls = 0;
      const wait = P.waitForJob(jid("steps_1000"), { ...sleeping, signal, onProgress: () => (polls += 1) });
      while (polls === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      return { wait };
    };
    /** What `wait` rejected with within `ms`, or "pending". */
    const rejection = (wait, ms) =>
      Promise.race([wait.then(() => "resolved", (error) => error), new Promise((resolve) => setTimeout(resolve, ms, "pending"))]);
    const [first, other, late] = [new AbortController(), new AbortController(), new AbortController()];
    const { wait: otherWait } = await sleepingWait(other.signal);
    const { wait: firstWait } = await sleepingWait(first.signal);
    let lateStarted;
    const firstRejected = firstWait.catch((error) => {
      lateStarted = sleepingWait(late.signal);
      return error;
    });
    first.abort();
    assert.equal((await firstRejected).code, "ABORTED");
    const { wait: lateWait } = await lateStarted;
    late.abort(new Error("late"));
    assert.equal((await rejection(lateWait, 1000)).cause?.message, "late");
    assert.equal(await rejection(otherWait, 20), "pending");
    other.abort(new Error("other"));
    assert.equal((await rejection(otherWait, 1000)).cause?.message, "other");
  });
});
