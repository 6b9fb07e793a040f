// waitForJob outcomes and failures (docs/contract.md, "Behaviour"): terminal statuses,
// transient retries and maxRetries, non-transient HTTP errors, error body
// text, `retryable`, INVALID_RESPONSE.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard, fakeFetch, json, rejectsWith, spyFetch } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { waitForJob, PulseError } = P;
const KEY = "outcomes-key-9c2e";

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const fast = { initialDelayMs: 5, multiplier: 1, jitter: 0 };
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, ...fast, ...o });
const isPlain = (v) => v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;

describe("terminal statuses", { concurrency: true }, () => {
  test("completed resolves with the job as plain objects, API field names kept", async () => {
    const id = jid("ok");
    const job = await waitForJob(id, opts());
    assert.ok(isPlain(job), "job is a plain object");
    assert.ok(isPlain(job.result), "result is a plain object");
    assert.equal(job.job_id, id);
    assert.equal(job.status, "completed");
    assert.equal(typeof job.result.markdown, "string");
    assert.ok("page_count" in job.result);
    assert.ok(!("jobId" in job) && !("createdAt" in job), "no renamed fields");
    assert.equal(typeof job.created_at, "string");
    assert.equal(typeof job.updated_at, "string");
  });

  test("completed after pending/processing resolves", async () => {
    const id = jid("steps_2");
    const job = await waitForJob(id, opts());
    assert.equal(job.status, "completed");
    assert.equal(m.pollsFor(id).length, 3);
  });

  test("failed rejects JOB_FAILED with the job's error in the message and the job attached", async () => {
    const id = jid("failed");
    const err = await rejectsWith(PulseError, waitForJob(id, opts()), "JOB_FAILED", { jobId: id, retryable: false });
    assert.match(err.message, /Document could not be parsed/);
    assert.equal(err.job.status, "failed");
    assert.equal(err.job.job_id, id);
    assert.equal(err.job.error, "Document could not be parsed");
    assert.equal(err.httpStatus, undefined);
  });

  for (const s of ["canceled", "cancelled"]) {
    test(`${s} rejects JOB_CANCELED with job.status "canceled"`, async () => {
      const id = jid(s);
      const seen = [];
      const err = await rejectsWith(PulseError, waitForJob(id, opts({ onProgress: (j) => seen.push(j.status) })), "JOB_CANCELED", {
        jobId: id,
        retryable: false,
      });
      assert.deepEqual(seen, ["canceled"], "onProgress sees the normalised status");
      assert.equal(err.job.status, "canceled");
      assert.equal(err.job.job_id, id);
      assert.equal(m.pollsFor(id).length, 1);
    });
  }

  test("expired rejects JOB_EXPIRED with the job (and its retention stub) attached", async () => {
    const id = jid("expired");
    const err = await rejectsWith(PulseError, waitForJob(id, opts()), "JOB_EXPIRED", { jobId: id, retryable: false });
    assert.equal(err.job.status, "expired");
    assert.ok(err.job.result && typeof err.job.result === "object", "retention stub kept");
  });

  test("a large inline result (1 MB) comes back intact", async () => {
    const id = jid("inline_1000000");
    const job = await waitForJob(id, opts());
    assert.ok(JSON.stringify(job.result).length >= 1_000_000 * 0.9);
    assert.deepEqual(job.result, (await P.getJob(id, opts())).result);
  });

  test("a cancelJob during a wait makes the wait reject JOB_CANCELED", async () => {
    const id = jid("steps_1000");
    const wait = waitForJob(id, opts({ initialDelayMs: 30 }));
    await m.waitFor(id, (rs) => rs.length >= 2);
    const r = await P.cancelJob(id, opts());
    assert.equal(r.job_id, id);
    const err = await rejectsWith(PulseError, wait, "JOB_CANCELED");
    assert.equal(err.job.status, "canceled");
  });
});

describe("transient failures and maxRetries", { concurrency: true }, () => {
  test("5xx polls are retried and the wait succeeds within maxRetries", async () => {
    const id = jid("flaky_4");
    const job = await waitForJob(id, opts({ maxRetries: 4 }));
    assert.equal(job.status, "completed");
    assert.equal(m.pollsFor(id).length, 5);
  });

  test("default maxRetries is 5", async () => {
    const ok = jid("flaky_5");
    assert.equal((await waitForJob(ok, opts())).status, "completed");
    const bad = jid("status_503");
    await rejectsWith(PulseError, waitForJob(bad, opts()), "HTTP_ERROR", { httpStatus: 503 });
    assert.equal(m.pollsFor(bad).length, 6);
  });

  test("failure maxRetries + 1 in a row rejects HTTP_ERROR with the last status, retryable", async () => {
    const id = jid("flaky_4");
    const err = await rejectsWith(PulseError, waitForJob(id, opts({ maxRetries: 3 })), "HTTP_ERROR", {
      httpStatus: 504,
      retryable: true,
      jobId: id,
    });
    assert.ok(err.message.length > 0);
    assert.equal(m.pollsFor(id).length, 4);
  });

  test("maxRetries 0 fails on the first transient failure", async () => {
    const id = jid("flaky_1");
    await rejectsWith(PulseError, waitForJob(id, opts({ maxRetries: 0 })), "HTTP_ERROR", { httpStatus: 500, retryable: true });
    assert.equal(m.pollsFor(id).length, 1);
  });

  for (const code of [408, 425, 429, 500, 502, 503, 504]) {
    test(`HTTP ${code} is transient: retried, then HTTP_ERROR retryable with the body's error text`, async () => {
      const id = jid(`status_${code}`);
      const err = await rejectsWith(PulseError, waitForJob(id, opts({ maxRetries: 2 })), "HTTP_ERROR", {
        httpStatus: code,
        retryable: true,
      });
      assert.equal(m.pollsFor(id).length, 3);
      assert.ok(err.message.includes(`mock status ${code}`), `message: ${err.message}`);
    });
  }

  for (const code of [400, 401, 403, 404, 409, 422, 501]) {
    test(`HTTP ${code} is not transient: HTTP_ERROR at once, not retryable`, async () => {
      const id = jid(`status_${code}`);
      const err = await rejectsWith(PulseError, waitForJob(id, opts()), "HTTP_ERROR", { httpStatus: code, retryable: false, jobId: id });
      assert.equal(m.pollsFor(id).length, 1);
      assert.ok(err.message.includes(`mock status ${code}`), `message: ${err.message}`);
    });
  }

  test("an unknown job id is HTTP_ERROR 404 with the API's message", async () => {
    const id = `nosuchscenario-${jid("x")}`;
    const err = await rejectsWith(PulseError, waitForJob(id, opts()), "HTTP_ERROR", { httpStatus: 404, retryable: false });
    assert.match(err.message, /Job not found/);
  });

  test("a wrong API key is HTTP_ERROR 401 'Invalid API key'", async () => {
    const id = jid("ok");
    const err = await rejectsWith(PulseError, waitForJob(id, opts({ apiKey: "wrong" })), "HTTP_ERROR", { httpStatus: 401, retryable: false });
    assert.match(err.message, /Invalid API key/);
  });

  test("a JSON `detail` field is used when there is no error/message", async () => {
    const id = jid("detail_400");
    const err = await rejectsWith(PulseError, waitForJob(id, opts()), "HTTP_ERROR", { httpStatus: 400 });
    assert.ok(err.message.includes("mock detail 400"), err.message);
  });

  test("a text/plain error body still gives HTTP_ERROR with httpStatus", async () => {
    const id = jid("text_400");
    await rejectsWith(PulseError, waitForJob(id, opts()), "HTTP_ERROR", { httpStatus: 400, retryable: false });
  });

  test("the first string field of error, message, detail is used", async () => {
    const bodies = [
      [{ error: "E-first", message: "M-second", detail: "D-third" }, "E-first"],
      [{ error: 42, message: "M-when-error-not-string", detail: "D" }, "M-when-error-not-string"],
      [{ error: { nested: true }, message: null, detail: "D-last" }, "D-last"],
    ];
    for (const [body, want] of bodies) {
      const fetch = fakeFetch(() => json(body, { status: 422 }));
      const err = await rejectsWith(PulseError, waitForJob("j1", { fetch, baseUrl: "http://api.invalid" }), "HTTP_ERROR", { httpStatus: 422 });
      assert.ok(err.message.includes(want), `message ${JSON.stringify(err.message)} should include ${want}`);
    }
  });

  test("network errors (socket cut) are retried; maxRetries + 1 in a row rejects NETWORK_ERROR, retryable", async () => {
    const ok = jid("cut_2");
    assert.equal((await waitForJob(ok, opts({ maxRetries: 2 }))).status, "completed");
    assert.equal(m.pollsFor(ok).length, 3);
    const bad = jid("cut_3");
    const err = await rejectsWith(PulseError, waitForJob(bad, opts({ maxRetries: 2 })), "NETWORK_ERROR", { retryable: true, jobId: bad });
    assert.equal(err.httpStatus, undefined);
    assert.equal(m.pollsFor(bad).length, 3);
  });

  test("a poll over requestTimeoutMs counts as a network error (body included: stalled body)", async () => {
    const ok = jid("stall_1");
    const start = Date.now();
    assert.equal((await waitForJob(ok, opts({ requestTimeoutMs: 700 }))).status, "completed");
    assert.ok(Date.now() - start >= 700 - 3, "the stalled first attempt was waited for");
    assert.ok(m.pollsFor(ok).length >= 2);
    const bad = jid("stall_5");
    await rejectsWith(PulseError, waitForJob(bad, opts({ requestTimeoutMs: 150, maxRetries: 1 })), "NETWORK_ERROR", { retryable: true });
    const recs = await m.waitFor(bad, (rs) => rs.length === 2 && rs.every((r) => r.closedEarly));
    assert.equal(recs.length, 2);
    assert.ok(recs.every((r) => r.closedEarly), "timed-out requests were aborted");
  });

  test("a hanging poll times out per attempt (requestTimeoutMs) and is retried", async () => {
    const id = jid("hang");
    const fetch = spyFetch();
    const start = Date.now();
    await rejectsWith(PulseError, waitForJob(id, opts({ requestTimeoutMs: 100, maxRetries: 2, fetch })), "NETWORK_ERROR", { retryable: true });
    assert.ok(Date.now() - start >= 300 - 5, "three attempts of 100 ms");
    assert.equal(fetch.calls.length, 3, "three attempts");
    // An attempt may be aborted before its request reaches the mock; those that did were cut short.
    const recs = await m.waitFor(id, (rs) => rs.length > 0 && rs.every((r) => r.closedEarly));
    assert.ok(recs.length >= 1 && recs.every((r) => r.closedEarly), "timed-out requests were aborted");
  });

  test("a successful poll resets the count of consecutive failures", async () => {
    // fail, pending, fail, pending, fail, pending, completed with maxRetries 1
    let n = 0;
    const fetch = fakeFetch(() => {
      n += 1;
      if (n === 7) return json({ job_id: "r", status: "completed", result: { ok: 1 } });
      if (n % 2 === 1) return json({ error: "busy" }, { status: 503 });
      return json({ job_id: "r", status: "pending" });
    });
    const job = await waitForJob("r", { fetch, baseUrl: "http://api.invalid", ...fast, maxRetries: 1 });
    assert.equal(job.status, "completed");
    assert.equal(fetch.calls.length, 7);
  });

  test("a fetch that throws (network error) is retried and ends NETWORK_ERROR with a cause", async () => {
    const boom = new TypeError("fetch failed");
    const fetch = fakeFetch(() => {
      throw boom;
    });
    const err = await rejectsWith(PulseError, waitForJob("n1", { fetch, baseUrl: "http://api.invalid", ...fast, maxRetries: 2 }), "NETWORK_ERROR", {
      retryable: true,
    });
    assert.equal(fetch.calls.length, 3);
    assert.ok(err.cause !== undefined, "cause is set");
  });
});

describe("invalid responses", { concurrency: true }, () => {
  test("a 200 body that is not JSON rejects INVALID_RESPONSE, not retryable", async () => {
    const id = jid("notjson");
    await rejectsWith(PulseError, waitForJob(id, opts()), "INVALID_RESPONSE", { retryable: false, jobId: id });
    assert.equal(m.pollsFor(id).length, 1);
  });

  test("a 200 JSON body without status rejects INVALID_RESPONSE", async () => {
    const id = jid("nostatus");
    await rejectsWith(PulseError, waitForJob(id, opts()), "INVALID_RESPONSE", { retryable: false });
    assert.equal(m.pollsFor(id).length, 1);
  });

  test("a non-string status, a JSON array or null body rejects INVALID_RESPONSE", async () => {
    for (const body of [{ job_id: "x", status: 3 }, [], null, "completed"]) {
      const fetch = fakeFetch(() => json(body));
      await rejectsWith(PulseError, waitForJob("x", { fetch, baseUrl: "http://api.invalid" }), "INVALID_RESPONSE");
    }
  });
});
