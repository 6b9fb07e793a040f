// Cancellation (docs/contract.md, "Behaviour"): an AbortSignal already
// aborted, or aborted during a sleep, a poll or a download, rejects ABORTED
// quickly (name "AbortError", cause === signal.reason) and aborts the request
// in flight; exceptions thrown by onProgress reject the wait with that value.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { SLACK, exitGuard, rejectsWith, sleep } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { waitForJob, getJob, cancelJob, PulseError } = P;
const KEY = "abort-key-3d90";

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, ...o });

/** Abort once cond() holds (polled), returns the abort time. */
async function abortWhen(ac, cond, reason) {
  const end = Date.now() + 5000;
  while (!cond() && Date.now() < end) await sleep(5);
  assert.ok(cond(), "condition for aborting never held");
  const at = Date.now();
  ac.abort(reason);
  return at;
}

function checkAbortError(err, signal) {
  assert.equal(err.name, "AbortError");
  assert.equal(err.retryable, false);
  assert.equal(err.cause, signal.reason, "cause === signal.reason");
}

describe("abort", { concurrency: true }, () => {
  test("an already aborted signal rejects ABORTED without any request (waitForJob, getJob, cancelJob)", async () => {
    const reason = new Error("user left");
    const signal = AbortSignal.abort(reason);
    const ids = [jid("ok"), jid("ok"), jid("steps_3")];
    const errs = [
      await rejectsWith(PulseError, waitForJob(ids[0], opts({ signal })), "ABORTED"),
      await rejectsWith(PulseError, getJob(ids[1], opts({ signal })), "ABORTED"),
      await rejectsWith(PulseError, cancelJob(ids[2], opts({ signal })), "ABORTED"),
    ];
    for (const err of errs) {
      checkAbortError(err, signal);
      assert.equal(err.cause, reason);
    }
    await sleep(50);
    for (const id of ids) assert.equal(m.requestsFor(id).length, 0, `requests sent for ${id}`);
  });

  test("abort() without a reason: cause is the signal's default AbortError reason", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await rejectsWith(PulseError, waitForJob(jid("ok"), opts({ signal: ac.signal })), "ABORTED");
    checkAbortError(err, ac.signal);
    assert.equal(err.cause.name, "AbortError");
  });

  test("an abort during a sleep rejects within a few ms and sends nothing more", async () => {
    const id = jid("steps_1000");
    const ac = new AbortController();
    const p = waitForJob(id, opts({ signal: ac.signal, initialDelayMs: 10_000 }));
    let settled;
    p.then(() => {}, () => (settled = Date.now()));
    const at = await abortWhen(ac, () => m.pollsFor(id).length === 1 && Date.now() - m.pollsFor(id)[0].at > 100, "stop");
    const err = await rejectsWith(PulseError, p, "ABORTED", { jobId: id });
    checkAbortError(err, ac.signal);
    assert.equal(err.cause, "stop", "non-Error reasons are passed through as cause");
    assert.ok(settled - at < 100 + SLACK / 4, `rejected ${settled - at} ms after abort`);
    await sleep(100);
    assert.equal(m.pollsFor(id).length, 1);
  });

  test("an abort during a poll rejects quickly and aborts the request in flight", async () => {
    const id = jid("hang");
    const ac = new AbortController();
    const p = waitForJob(id, opts({ signal: ac.signal }));
    let settled;
    p.then(() => {}, () => (settled = Date.now()));
    const at = await abortWhen(ac, () => m.pollsFor(id).length === 1);
    const err = await rejectsWith(PulseError, p, "ABORTED");
    checkAbortError(err, ac.signal);
    assert.ok(settled - at < 100 + SLACK / 4, `rejected ${settled - at} ms after abort`);
    const recs = await m.waitFor(id, (rs) => rs[0]?.closedEarly === true);
    assert.equal(recs[0].closedEarly, true, "mock saw the request go away");
  });

  test("an abort during a download rejects quickly and aborts the download", async () => {
    const id = jid("dlstall_300000");
    const ac = new AbortController();
    const p = waitForJob(id, opts({ signal: ac.signal }));
    let settled;
    p.then(() => {}, () => (settled = Date.now()));
    const at = await abortWhen(ac, () => m.storageFor(id).length === 1 && Date.now() - m.storageFor(id)[0].at > 50);
    const err = await rejectsWith(PulseError, p, "ABORTED");
    checkAbortError(err, ac.signal);
    assert.ok(settled - at < 100 + SLACK / 4, `rejected ${settled - at} ms after abort`);
    const recs = await m.waitFor(id, (rs) => rs.some((r) => r.side === "storage" && r.closedEarly));
    assert.ok(recs.some((r) => r.side === "storage" && r.closedEarly), "mock saw the download go away");
  });

  test("an abort during a retry backoff (after a transient failure) rejects ABORTED", async () => {
    const id = jid("status_503");
    const ac = new AbortController();
    const p = waitForJob(id, opts({ signal: ac.signal, initialDelayMs: 10_000 }));
    await abortWhen(ac, () => m.pollsFor(id).length === 1);
    await rejectsWith(PulseError, p, "ABORTED");
  });

  test("getJob aborted in flight rejects ABORTED and aborts the request", async () => {
    const id = jid("hang");
    const ac = new AbortController();
    const p = getJob(id, opts({ signal: ac.signal }));
    await abortWhen(ac, () => m.pollsFor(id).length === 1);
    const err = await rejectsWith(PulseError, p, "ABORTED");
    checkAbortError(err, ac.signal);
    const recs = await m.waitFor(id, (rs) => rs[0]?.closedEarly === true);
    assert.equal(recs[0].closedEarly, true);
  });

  test("a signal aborted after the wait resolved changes nothing", async () => {
    const ac = new AbortController();
    const job = await waitForJob(jid("ok"), opts({ signal: ac.signal }));
    ac.abort();
    assert.equal(job.status, "completed");
  });
});

describe("callback exceptions", { concurrency: true }, () => {
  test("an exception thrown by onProgress on a non-terminal poll rejects with it and stops polling", async () => {
    const id = jid("steps_5");
    const boom = new RangeError("stop now");
    let err;
    try {
      await waitForJob(id, opts({ initialDelayMs: 10, onProgress: () => { throw boom; } }));
    } catch (e) {
      err = e;
    }
    assert.equal(err, boom, "rejects with the very exception");
    await sleep(100);
    assert.equal(m.pollsFor(id).length, 1, "no poll after the callback threw");
  });

  test("an exception thrown by onProgress on the terminal poll rejects with it", async () => {
    const boom = new Error("terminal boom");
    let err;
    try {
      await waitForJob(jid("ok"), opts({ onProgress: (j) => { if (j.status === "completed") throw boom; } }));
    } catch (e) {
      err = e;
    }
    assert.equal(err, boom);
  });

  test("a non-Error thrown value is passed through as is", async () => {
    const thrown = { custom: "value" };
    let err;
    try {
      await waitForJob(jid("steps_2"), opts({ initialDelayMs: 10, onProgress: () => { throw thrown; } }));
    } catch (e) {
      err = e;
    }
    assert.equal(err, thrown);
  });

  test("an exception thrown by onProgress on the second poll stops the wait", async () => {
    const id = jid("steps_5");
    let n = 0;
    const boom = new Error("second");
    let err;
    try {
      await waitForJob(id, opts({ initialDelayMs: 10, jitter: 0, onProgress: () => { if (++n === 2) throw boom; } }));
    } catch (e) {
      err = e;
    }
    assert.equal(err, boom);
    await sleep(80);
    assert.equal(m.pollsFor(id).length, 2);
  });
});
