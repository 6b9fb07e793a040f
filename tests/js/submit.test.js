// submitJob and runJob (docs/contract.md, "Submitting"): a plain object goes
// as JSON and a FormData as multipart, each with `async: true`, to
// {baseUrl}{endpoint}; one attempt; runJob then waits like waitForJob.
// Everything goes through real sockets to the mock, which records each
// submission's body (mock/README.md, "Submissions").

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { startMockServer } from "./support/mock.js";
import { exitGuard, fakeFetch, json, rejectsWith, renderings } from "./support/util.js";

exitGuard();
const { esm: P, cjs } = await loadPulse();
const { submitJob, runJob, PulseClient, PulseError } = P;

const KEY = "submit-key-5c1d9";
let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, initialDelayMs: 100, multiplier: 1, jitter: 0, ...o });
/** The mock's record of the submission that created `id`. */
const submission = (id) => m.mock.requests.find((r) => r.method === "POST" && r.jobId === id);
const posts = () => m.mock.requests.filter((r) => r.method === "POST").length;

describe("submitJob", { concurrency: true }, () => {
  test("a plain object goes as JSON with async: true, and the caller's object is left as it was", async () => {
    const body = { file_url: "https://files.example/a.pdf", scenario: "quick" };
    const answer = await submitJob(body, opts());
    assert.match(answer.job_id, /^demo-quick-/);
    assert.equal(answer.status, "pending");
    const sent = submission(answer.job_id);
    assert.equal(sent.path, "/extract");
    assert.equal(sent.headers["x-api-key"], KEY);
    assert.match(sent.headers["content-type"], /^application\/json/);
    assert.deepEqual(sent.body, { kind: "json", async: true, fields: { file_url: "https://files.example/a.pdf", scenario: "quick", async: true } });
    assert.deepEqual(body, { file_url: "https://files.example/a.pdf", scenario: "quick" });
  });

  test("a FormData goes as multipart with a copy of its parts and async=true; the caller's FormData is unchanged", async () => {
    const form = new FormData();
    form.append("file", new Blob(["%PDF-1.4 tiny"], { type: "application/pdf" }), "tiny.pdf");
    form.append("scenario", "quick");
    form.append("async", "false");
    const answer = await submitJob(form, opts());
    const sent = submission(answer.job_id);
    assert.match(sent.headers["content-type"], /^multipart\/form-data; boundary=/);
    assert.equal(sent.body.kind, "multipart");
    assert.equal(sent.body.fields.async, "true", "async is set, not appended beside the caller's");
    assert.deepEqual(sent.body.fields.file, { filename: "tiny.pdf", size: 13, type: "application/pdf" });
    assert.deepEqual([...form.entries()].map(([k, v]) => [k, typeof v === "string" ? v : v.name]), [
      ["file", "tiny.pdf"],
      ["scenario", "quick"],
      ["async", "false"],
    ]);
  });

  test("endpoint chooses the path under baseUrl; a batch answers batch_job_id", async () => {
    for (const endpoint of ["/split", "/schema", "/tables"]) {
      const answer = await submitJob({ file_url: "https://files.example/a.pdf" }, opts({ endpoint }));
      assert.equal(submission(answer.job_id).path, endpoint);
    }
    const batch = await submitJob({ file_url: "https://files.example/a.pdf" }, opts({ endpoint: "/batch/extract" }));
    assert.equal(typeof batch.batch_job_id, "string");
    assert.equal(batch.total_files, 1);
  });

  test("bad bodies and endpoints reject INVALID_ARGUMENT and send nothing", async () => {
    const before = posts();
    const cyclic = {};
    cyclic.self = cyclic;
    const bad = [
      undefined,
      null,
      "file_url=x",
      42,
      [{ file_url: "x" }],
      new Map([["file_url", "x"]]),
      new Blob(["x"]),
      new URLSearchParams("file_url=x"),
      { n: 1n },
      cyclic,
      { toJSON: () => { throw new Error("toJSON threw"); } },
      { get file_url() { throw new Error("getter threw"); } },
      new Proxy({}, { ownKeys: () => { throw new Error("trap threw"); } }),
      Object.assign(Object.create({ [Symbol.toStringTag]: "FormData" }), { file_url: "x" }),
    ];
    for (const body of bad) {
      const err = await rejectsWith(PulseError, submitJob(body, opts()), "INVALID_ARGUMENT");
      assert.match(err.message, /^body /, String(err.message));
    }
    for (const endpoint of ["extract", "//evil.example/x", "/../job/x", "/extract?x=1", "https://evil.example/extract", 7]) {
      const err = await rejectsWith(PulseError, submitJob({ file_url: "x" }, opts({ endpoint })), "INVALID_ARGUMENT");
      assert.match(err.message, /endpoint/);
    }
    assert.equal(posts(), before, "nothing was sent");
  });

  test("one attempt: a 503 is not retried, and errors never show the key", async () => {
    const fetch = fakeFetch(() => json({ error: `busy (${KEY})` }, { status: 503, headers: { "retry-after": "1" } }));
    const err = await rejectsWith(PulseError, submitJob({ file_url: "x" }, opts({ fetch })), "HTTP_ERROR");
    assert.equal(err.httpStatus, 503);
    assert.equal(fetch.calls.length, 1);
    assert.equal(fetch.calls[0].method, "POST");
    assert.ok(!renderings(err).includes(KEY), "the key is redacted");
    const wrongKey = await rejectsWith(PulseError, submitJob({ file_url: "x" }, opts({ apiKey: "wrong" })), "HTTP_ERROR");
    assert.equal(wrongKey.httpStatus, 401);
  });

  test("an answer without a job id is INVALID_RESPONSE; a custom fetch that throws rejects", async () => {
    const noId = fakeFetch(() => json({ status: "pending" }, { status: 202 }));
    await rejectsWith(PulseError, submitJob({ file_url: "x" }, opts({ fetch: noId })), "INVALID_RESPONSE");
    const throwing = () => {
      throw new TypeError("fetch exploded");
    };
    const err = await rejectsWith(PulseError, submitJob({ file_url: "x" }, opts({ fetch: throwing })), "NETWORK_ERROR");
    assert.equal(err.cause.message, "fetch exploded");
  });

  test("an aborted signal stops the submission: ABORTED", async () => {
    const hang = fakeFetch(() => new Promise(() => {}));
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("user left")), 50);
    const err = await rejectsWith(PulseError, submitJob({ file_url: "x" }, opts({ fetch: hang, signal: ac.signal })), "ABORTED");
    assert.equal(err.cause.message, "user left");
  });
});

describe("runJob", { concurrency: true }, () => {
  test("submits, waits, and resolves with the finished job; onProgress sees each poll", async () => {
    const attempts = [];
    const job = await runJob({ file_url: "https://files.example/a.pdf", scenario: "steps_2" }, opts({ onProgress: (_, info) => attempts.push(info.attempt) }));
    assert.equal(job.status, "completed");
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal(m.pollsFor(job.job_id).length, 3);
  });

  test("a job that fails rejects JOB_FAILED with the new job's id and the job", async () => {
    const err = await rejectsWith(PulseError, runJob({ file_url: "x", scenario: "failed" }, opts()), "JOB_FAILED");
    assert.match(err.jobId, /^failed/);
    assert.equal(err.job.status, "failed");
  });

  test("a batch is waited on by its batch_job_id", async () => {
    const job = await runJob({ file_url: "x", scenario: "ok" }, opts({ endpoint: "/batch/extract" }));
    assert.equal(job.status, "completed");
  });

  test("cancelOnAbort cancels the submitted job when the wait is given up", async () => {
    const ac = new AbortController();
    const run = runJob({ file_url: "x", scenario: "steps_1000" }, opts({ signal: ac.signal, cancelOnAbort: true, onProgress: () => ac.abort() }));
    const err = await rejectsWith(PulseError, run, "ABORTED");
    assert.equal(err.cancelConfirmed, true);
    const deletes = m.apiFor(err.jobId).filter((r) => r.method === "DELETE");
    assert.equal(deletes.length, 1);
  });

  test("timeoutMs counts from the call, the submission included", async () => {
    const slowSubmit = async (url, init) => {
      if (init.method === "POST") {
        await new Promise((r) => setTimeout(r, 300));
        return json({ job_id: "steps_1000-slow", status: "pending" }, { status: 202 });
      }
      return globalThis.fetch(url, init);
    };
    const started = Date.now();
    const err = await rejectsWith(PulseError, runJob({ file_url: "x" }, opts({ fetch: slowSubmit, timeoutMs: 400 })), "TIMEOUT");
    assert.equal(err.jobId, "steps_1000-slow");
    assert.ok(Date.now() - started < 400 + 300, `settled after ${Date.now() - started} ms`);
  });

  test("bad wait options and resume reject before anything is sent", async () => {
    const before = posts();
    await rejectsWith(PulseError, runJob({ file_url: "x" }, opts({ jitter: 2 })), "INVALID_ARGUMENT");
    const err = await rejectsWith(PulseError, runJob({ file_url: "x" }, opts({ resume: { jobId: "a", startedAt: 1, attempt: 1 } })), "INVALID_ARGUMENT");
    assert.match(err.message, /resume/);
    assert.equal(posts(), before);
  });
});

describe("PulseClient.submitJob and runJob", () => {
  test("use the client's options, and CommonJS has them too", async () => {
    const client = new PulseClient({ apiKey: KEY, baseUrl: m.apiUrl, maxConcurrentRequests: 1 });
    const answer = await client.submitJob({ file_url: "x", scenario: "quick" });
    assert.equal(submission(answer.job_id).headers["x-api-key"], KEY);
    const job = await client.runJob({ file_url: "x", scenario: "ok" }, { initialDelayMs: 50 });
    assert.equal(job.status, "completed");
    assert.equal(typeof cjs.submitJob, "function");
    assert.equal(typeof cjs.runJob, "function");
  });
});
