// cancelOnAbort (docs/contract.md, "Behaviour"): a wait given up (its signal
// aborts, its deadline passes, its watch is stopped) sends DELETE /job/{id}
// once before it settles, and says whether the server confirmed it; a wait
// that never sent a poll, or whose job ended, cancels nothing.

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
const opts = (o = {}) => ({ apiKey: "cancel-key-7e21", baseUrl: m.apiUrl, initialDelayMs: 20, multiplier: 1, jitter: 0, cancelOnAbort: true, ...o });
const deletes = (id) => m.apiFor(id).filter((r) => r.method === "DELETE");

describe("cancelOnAbort", { concurrency: true }, () => {
  test("an abort during the wait cancels the job before the promise settles", async () => {
    const id = jid("steps_1000");
    const ac = new AbortController();
    const wait = waitForJob(id, opts({ signal: ac.signal, onProgress: (job, { attempt }) => attempt === 2 && ac.abort() }));
    const err = await rejectsWith(PulseError, wait, "ABORTED");
    assert.equal(err.cancelConfirmed, true);
    assert.equal(deletes(id).length, 1, "one DELETE, sent before the rejection");
    assert.equal(deletes(id)[0].headers["x-api-key"], "cancel-key-7e21");
    await sleep(100);
    assert.equal(m.pollsFor(id).length, 2, "no poll after the abort");
  });

  test("a deadline that passes cancels the job: TIMEOUT with cancelConfirmed", async () => {
    const id = jid("steps_1000");
    const err = await rejectsWith(PulseError, waitForJob(id, opts({ timeoutMs: 150 })), "TIMEOUT");
    assert.equal(err.cancelConfirmed, true);
    assert.equal(deletes(id).length, 1);
  });

  test("a watch stopped with break cancels the job before return() resolves", async () => {
    const id = jid("steps_1000");
    for await (const job of watchJob(id, opts())) {
      if (job.status === "processing") break;
    }
    assert.equal(deletes(id).length, 1, "the DELETE was sent before the loop ended");
  });

  test("a cancel that gets no answer within requestTimeoutMs: cancelConfirmed false", async () => {
    const id = jid("hang");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const err = await rejectsWith(PulseError, waitForJob(id, opts({ signal: ac.signal, requestTimeoutMs: 300 })), "ABORTED");
    assert.equal(err.cancelConfirmed, false);
    assert.equal(deletes(id).length, 1);
    assert.ok(Date.now() - started < 100 + 300 + 1000, "the cancel is bounded by requestTimeoutMs");
  });

  test("nothing is cancelled: a signal aborted before the call, a job that ends, or no cancelOnAbort", async () => {
    const before = jid("steps_5");
    const err = await rejectsWith(PulseError, waitForJob(before, opts({ signal: AbortSignal.abort() })), "ABORTED");
    assert.equal(err.cancelConfirmed, undefined);
    const done = jid("steps_1");
    await waitForJob(done, opts());
    const failed = jid("failed");
    await rejectsWith(PulseError, waitForJob(failed, opts()), "JOB_FAILED");
    const plain = jid("steps_1000");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 60);
    const notAsked = await rejectsWith(PulseError, waitForJob(plain, opts({ signal: ac.signal, cancelOnAbort: false })), "ABORTED");
    assert.equal(notAsked.cancelConfirmed, undefined);
    await sleep(50);
    assert.equal(m.requestsFor(before).length, 0);
    for (const id of [done, failed, plain]) assert.equal(deletes(id).length, 0, id);
  });

  test("cancelOnAbort must be a boolean", async () => {
    await rejectsWith(PulseError, waitForJob(jid("ok"), opts({ cancelOnAbort: "yes" })), "INVALID_ARGUMENT", {
      message: "options.cancelOnAbort must be a boolean",
    });
  });
});
