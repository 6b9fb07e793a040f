// Reliability (docs/contract.md, "Behaviour": values that throw or lie, signals,
// backoff), one readable test per trigger: option getters and Proxies,
// signal-like objects, callbacks, custom fetch, Response look-alikes, body
// readers and node-fetch v2 responses must become the documented rejections,
// never uncaught exceptions or unhandled rejections; the backoff stays finite
// after 1,500 polls with initialDelayMs 0; waits sharing one AbortSignal add
// one abort listener in total and leave none behind.
//
// Every call is bounded (settleWithin) so that a call that never settles fails
// its test quickly, and every test ends by checking that the process saw no
// uncaughtException, unhandledRejection or MaxListenersExceededWarning while it
// ran (tests in this file run one at a time for that reason).

import assert from "node:assert/strict";
import { describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { callAsync, exitGuard, json, rejectsWith } from "./support/util.js";
import {
  abortListeners,
  chunkSteps,
  isWasmFault,
  macrotask,
  nodeFetchV2Response,
  plainResponse,
  processGuard,
  readerResponse,
  revokedProxy,
  scriptedReader,
  sentinel,
  settleWithin,
  show,
  signalLike,
  sleep,
  throwingGetter,
  throwingHeaders,
  throwingProxy,
  WAIT_OPTION_NAMES,
} from "./support/hostile.js";

exitGuard();
const { esm: P } = await loadPulse();
const { waitForJob, getJob, cancelJob, PulseClient, PulseError } = P;
const guard = processGuard();

const BASE = "http://api.boundary.test";
const KEY = "boundary-key-5e7a";
const SETTLE_MS = 5000;
const RESULT = {
  markdown: "# Boundary\n\nh\u00e9llo \u2603",
  page_count: 2,
  chunks: [
    { chunk_id: "p1-1", page: 1, type: "paragraph", text: "one" },
    { chunk_id: "p2-1", page: 2, type: "paragraph", text: "two" },
  ],
};
const RESULT_TEXT = JSON.stringify(RESULT);

const base = (o = {}) => ({
  baseUrl: BASE,
  apiKey: KEY,
  initialDelayMs: 1,
  multiplier: 1,
  jitter: 0,
  requestTimeoutMs: 1000,
  timeoutMs: 4000,
  ...o,
});

const jobBody = (id, status = "completed", extra = {}) => ({ job_id: id, status, created_at: "2025-01-01T00:00:00Z", ...extra });
const pointerBody = (id) => jobBody(id, "completed", { result: { is_url: true, url: `${BASE}/large_results/${id}` } });

/**
 * A custom fetch that hands every request to route({ url, kind, n, init })
 * (kind "poll" for /job/..., "download" otherwise; n counts per kind from 1)
 * and returns whatever route returns or throws, synchronously, as is.
 */
function routeFetch(route) {
  const calls = [];
  function fetch(input, init = {}) {
    const url = String(typeof input === "string" ? input : (input?.url ?? input));
    const kind = url.includes("/job/") ? "poll" : "download";
    const n = calls.filter((c) => c.kind === kind).length + 1;
    const call = { url, kind, n, init };
    calls.push(call);
    return route(call);
  }
  fetch.calls = calls;
  fetch.count = (kind) => calls.filter((c) => c.kind === kind).length;
  return fetch;
}

/** Polls answer the pointer job; downloads answer download(call). */
const withDownload = (id, download) =>
  routeFetch((call) => (call.kind === "poll" ? json(pointerBody(id)) : download(call)));

/** Waits until cond() holds (checked every 2 ms); fails with `message` after `ms`. */
async function until(cond, ms, message) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(2);
  assert.ok(cond(), typeof message === "function" ? message() : message);
}

/** Awaits `promise` (bounded) and checks it rejects with a PulseError of `code`. */
async function rejects(promise, code, extra = {}, ms = SETTLE_MS) {
  const r = await settleWithin(promise, ms);
  assert.notEqual(r.status, "pending", `did not settle within ${ms} ms (expected a rejection with ${code})`);
  if (r.status === "rejected") {
    assert.ok(!isWasmFault(r.reason), `a wasm fault escaped: ${show(r.reason)}`);
  }
  return rejectsWith(PulseError, r.status === "fulfilled" ? Promise.resolve(r.value) : Promise.reject(r.reason), code, extra);
}

/** Awaits `promise` (bounded) and returns its value; a rejection fails with the error shown. */
async function resolves(promise, ms = SETTLE_MS) {
  const r = await settleWithin(promise, ms);
  assert.notEqual(r.status, "pending", `did not settle within ${ms} ms (expected a value)`);
  if (r.status === "rejected") assert.fail(`expected a value, got a rejection: ${show(r.reason)}`);
  return r.value;
}

/** Awaits `promise` (bounded); it must reject with exactly `value`. */
async function rejectsWithValue(promise, value, ms = SETTLE_MS) {
  const r = await settleWithin(promise, ms);
  assert.notEqual(r.status, "pending", `did not settle within ${ms} ms`);
  assert.equal(r.status, "rejected", `expected a rejection, got ${show(r.value)}`);
  assert.ok(Object.is(r.reason, value), `expected a rejection with the thrown value itself, got ${show(r.reason)}`);
}

/**
 * A test that also fails when the process saw an uncaughtException, an
 * unhandledRejection or a MaxListenersExceededWarning while it ran.
 */
function guarded(name, fn) {
  test(name, async (t) => {
    guard.reset();
    let failure;
    try {
      await fn(t);
    } catch (e) {
      failure = e;
    }
    let processFailure;
    try {
      await guard.assertClean(assert, name);
    } catch (e) {
      processFailure = e;
    }
    if (failure && processFailure) {
      failure.message += `\n(also: ${processFailure.message})`;
      throw failure;
    }
    if (failure) throw failure;
    if (processFailure) throw processFailure;
  });
}


const okFetch = () => routeFetch((call) => json(jobBody(call.url.split("/job/")[1] ?? "x")));

// ------------------------------------------------------------------ values that throw or lie

describe("section 1: options that throw while the package reads them", () => {
  for (const name of WAIT_OPTION_NAMES) {
    guarded(`a throwing getter on options.${name}: INVALID_ARGUMENT naming the field, cause = the thrown value, no request`, async () => {
      const fetch = okFetch();
      const opts = base({ fetch });
      const boom = sentinel(`getter ${name}`);
      throwingGetter(opts, name, boom);
      const err = await rejects(callAsync(() => waitForJob("job-getter", opts)), "INVALID_ARGUMENT", { retryable: false });
      assert.match(err.message, new RegExp(`options\\.${name}\\b`), `message must name options.${name}: ${err.message}`);
      assert.equal(err.cause, boom, "cause must be the thrown value");
      assert.equal(fetch.calls.length, 0, "no request before the options are read");
    });
  }

  guarded("headers with a throwing enumerable getter: INVALID_ARGUMENT naming options.headers, cause = the thrown value", async () => {
    const fetch = okFetch();
    const boom = sentinel("headers getter");
    const headers = throwingGetter({ "x-ok": "1" }, "x-trace", boom);
    const err = await rejects(callAsync(() => waitForJob("job-h1", base({ fetch, headers }))), "INVALID_ARGUMENT");
    assert.match(err.message, /options\.headers/);
    assert.equal(err.cause, boom);
    assert.equal(fetch.calls.length, 0);
  });

  for (const trap of ["ownKeys", "getOwnPropertyDescriptor", "get"]) {
    guarded(`headers as a Proxy whose ${trap} trap throws: INVALID_ARGUMENT naming options.headers, cause = the thrown value`, async () => {
      const fetch = okFetch();
      const boom = sentinel(`headers ${trap} trap`);
      const headers = throwingProxy({ "x-trace": "abc1" }, [trap], boom);
      const err = await rejects(callAsync(() => getJob("job-h2", base({ fetch, headers }))), "INVALID_ARGUMENT");
      assert.match(err.message, /options\.headers/);
      assert.equal(err.cause, boom);
      assert.equal(fetch.calls.length, 0);
    });
  }

  guarded("headers as a revoked Proxy: INVALID_ARGUMENT naming options.headers, cause = the TypeError", async () => {
    const fetch = okFetch();
    const err = await rejects(callAsync(() => waitForJob("job-h3", base({ fetch, headers: revokedProxy() }))), "INVALID_ARGUMENT");
    assert.match(err.message, /options\.headers/);
    assert.ok(err.cause instanceof TypeError, `cause: ${show(err.cause)}`);
    assert.equal(fetch.calls.length, 0);
  });

  guarded("the options object itself a Proxy whose traps throw: INVALID_ARGUMENT naming options, cause = the thrown value", async () => {
    const fetch = okFetch();
    const boom = sentinel("options traps");
    const options = throwingProxy(base({ fetch }), ["get", "has", "ownKeys", "getOwnPropertyDescriptor"], boom);
    for (const call of [() => waitForJob("job-o1", options), () => getJob("job-o1", options), () => cancelJob("job-o1", options)]) {
      const err = await rejects(callAsync(call), "INVALID_ARGUMENT");
      assert.match(err.message, /\boptions\b/);
      assert.equal(err.cause, boom);
    }
    assert.equal(fetch.calls.length, 0);
  });

  guarded("the options object a revoked Proxy: INVALID_ARGUMENT naming options", async () => {
    const err = await rejects(callAsync(() => waitForJob("job-o2", revokedProxy())), "INVALID_ARGUMENT");
    assert.match(err.message, /\boptions\b/);
    assert.ok(err.cause instanceof TypeError, `cause: ${show(err.cause)}`);
  });

  guarded("new PulseClient(options) throws the same INVALID_ARGUMENT synchronously (getter, headers Proxy, options Proxy)", async () => {
    const cases = [
      ["apiKey getter", (boom) => throwingGetter({ baseUrl: BASE }, "apiKey", boom), /options\.apiKey/],
      ["headers ownKeys", (boom) => ({ baseUrl: BASE, headers: throwingProxy({}, ["ownKeys"], boom) }), /options\.headers/],
      ["fetch getter", (boom) => throwingGetter({ baseUrl: BASE }, "fetch", boom), /options\.fetch/],
      ["options Proxy", (boom) => throwingProxy({ baseUrl: BASE }, ["get", "has", "ownKeys", "getOwnPropertyDescriptor"], boom), /\boptions\b/],
    ];
    for (const [label, make, names] of cases) {
      const boom = sentinel(`client ${label}`);
      let thrown;
      let client;
      try {
        client = new PulseClient(make(boom));
      } catch (e) {
        thrown = e;
      }
      client?.free?.();
      assert.ok(thrown !== undefined, `${label}: the constructor did not throw`);
      assert.ok(thrown instanceof PulseError, `${label}: expected a PulseError, got ${show(thrown)}`);
      assert.equal(thrown.code, "INVALID_ARGUMENT", label);
      assert.match(thrown.message, names, label);
      assert.equal(thrown.cause, boom, `${label}: cause must be the thrown value`);
    }
  });
});

describe("section 1: signal-like objects", () => {
  guarded("a signal-like whose `aborted` getter throws: INVALID_ARGUMENT naming options.signal, cause = the thrown value", async () => {
    const fetch = okFetch();
    const boom = sentinel("aborted getter");
    const signal = signalLike({ aborted: boom });
    const err = await rejects(callAsync(() => waitForJob("job-s1", base({ fetch, signal }))), "INVALID_ARGUMENT");
    assert.match(err.message, /options\.signal/);
    assert.equal(err.cause, boom);
    assert.equal(fetch.calls.length, 0);
  });

  guarded("a signal-like whose `reason` getter throws at abort time: ABORTED with cause = the thrown value", async () => {
    const fetch = routeFetch((call) => json(jobBody("job-s2", "processing")));
    const boom = sentinel("reason getter");
    const signal = signalLike({ reason: boom });
    const p = callAsync(() => waitForJob("job-s2", base({ fetch, signal, initialDelayMs: 20, timeoutMs: 0 })));
    await until(() => fetch.count("poll") >= 1, 2000, "the wait never polled");
    assert.ok(signal.listenerCount >= 1, "the wait did not listen to the signal");
    signal.fire();
    const err = await rejects(p, "ABORTED", {}, 2000);
    assert.equal(err.cause, boom);
    assert.equal(signal.listenerCount, 0, "listener left on the signal-like");
  });

  guarded("a signal-like whose addEventListener throws: INVALID_ARGUMENT", async () => {
    const fetch = okFetch();
    const boom = sentinel("addEventListener");
    const signal = signalLike({ addEventListener: boom });
    await rejects(callAsync(() => waitForJob("job-s3", base({ fetch, signal }))), "INVALID_ARGUMENT");
  });
});

describe("section 1: callbacks", () => {
  guarded("onProgress throwing: rejects with the thrown value itself", async () => {
    const boom = sentinel("onProgress", "object");
    const onProgress = () => {
      throw boom;
    };
    await rejectsWithValue(callAsync(() => waitForJob("job-c1", base({ fetch: okFetch(), onProgress }))), boom);
  });

  guarded("onDownloadProgress throwing: rejects with the thrown value itself", async () => {
    const boom = sentinel("onDownloadProgress", "string");
    const onDownloadProgress = () => {
      throw boom;
    };
    const fetch = withDownload("job-c2", () => json(RESULT));
    await rejectsWithValue(callAsync(() => waitForJob("job-c2", base({ fetch, onDownloadProgress }))), boom);
  });
});

describe("section 1: a custom fetch that throws, rejects or returns a non-object", () => {
  guarded("fetch throwing synchronously on polls: NETWORK_ERROR after maxRetries retries, cause = the thrown value", async () => {
    const boom = sentinel("fetch sync throw");
    const fetch = routeFetch(() => {
      throw boom;
    });
    const err = await rejects(callAsync(() => waitForJob("job-f1", base({ fetch, maxRetries: 2 }))), "NETWORK_ERROR", { retryable: true });
    assert.equal(err.cause, boom);
    assert.equal(fetch.count("poll"), 3, "1 attempt + maxRetries 2");
  });

  guarded("fetch rejecting on polls: NETWORK_ERROR after maxRetries retries, cause = the rejection value", async () => {
    const boom = sentinel("fetch rejects", "object");
    const fetch = routeFetch(() => Promise.reject(boom));
    const err = await rejects(callAsync(() => waitForJob("job-f2", base({ fetch, maxRetries: 1 }))), "NETWORK_ERROR", { retryable: true });
    assert.equal(err.cause, boom);
    assert.equal(fetch.count("poll"), 2);
  });

  guarded("fetch throwing synchronously for getJob and cancelJob: one attempt, NETWORK_ERROR retryable, cause = the thrown value", async () => {
    for (const fn of [getJob, cancelJob]) {
      const boom = sentinel(`fetch sync throw ${fn.name}`);
      const fetch = routeFetch(() => {
        throw boom;
      });
      const err = await rejects(callAsync(() => fn("job-f3", base({ fetch }))), "NETWORK_ERROR", { retryable: true });
      assert.equal(err.cause, boom);
      assert.equal(fetch.calls.length, 1);
    }
  });

  guarded("fetch throwing (then rejecting) for the result download: RESULT_DOWNLOAD_FAILED, cause = the thrown value", async () => {
    const boom = sentinel("download fetch throw");
    const fetch = withDownload("job-f4", (call) => {
      if (call.n === 1) throw boom;
      return Promise.reject(boom);
    });
    const err = await rejects(callAsync(() => waitForJob("job-f4", base({ fetch, maxRetries: 1 }))), "RESULT_DOWNLOAD_FAILED");
    assert.equal(err.cause, boom);
    assert.ok(fetch.count("download") >= 2, "the download was retried");
  });

  guarded("fetch resolving a non-object (undefined, null, 42, a string, true, a symbol): INVALID_RESPONSE, not retried", async () => {
    for (const value of [undefined, null, 42, "HTTP/1.1 200 OK", true, Symbol("response")]) {
      const fetch = routeFetch(() => Promise.resolve(value));
      await rejects(callAsync(() => waitForJob("job-f5", base({ fetch, maxRetries: 3 }))), "INVALID_RESPONSE", { retryable: false });
      assert.equal(fetch.calls.length, 1, `${String(value)}: retried`);
    }
  });
});

describe("section 1: Response objects that throw or lie", () => {
  const completedText = JSON.stringify(jobBody("job-r", "completed"));

  for (const field of ["status", "headers"]) {
    guarded(`a poll answer whose \`${field}\` getter throws: INVALID_RESPONSE, not retried, cause = the thrown value`, async () => {
      const boom = sentinel(`poll ${field} getter`);
      const fetch = routeFetch(() => plainResponse({ text: completedText, headers: new Headers(), throwing: { [field]: boom } }));
      const err = await rejects(callAsync(() => waitForJob("job-r", base({ fetch, maxRetries: 3 }))), "INVALID_RESPONSE", { retryable: false });
      assert.equal(err.cause, boom);
      assert.equal(fetch.calls.length, 1, "retried");
    });
  }

  guarded("a poll answer whose headers.get throws: INVALID_RESPONSE, not retried, cause = the thrown value", async () => {
    const boom = sentinel("poll headers.get");
    const fetch = routeFetch(() => plainResponse({ text: completedText, headers: throwingHeaders(boom) }));
    const err = await rejects(callAsync(() => waitForJob("job-r", base({ fetch, maxRetries: 3 }))), "INVALID_RESPONSE", { retryable: false });
    assert.equal(err.cause, boom);
    assert.equal(fetch.calls.length, 1);
  });

  for (const field of ["status", "headers", "body"]) {
    guarded(`a download answer whose \`${field}\` getter throws: INVALID_RESPONSE, not retried, cause = the thrown value`, async () => {
      const boom = sentinel(`download ${field} getter`);
      const fetch = withDownload("job-d1", () =>
        plainResponse({
          text: RESULT_TEXT,
          headers: new Headers({ "content-type": "application/json" }),
          body: { getReader: () => scriptedReader(chunkSteps(RESULT_TEXT)) },
          throwing: { [field]: boom },
        }),
      );
      const err = await rejects(callAsync(() => waitForJob("job-d1", base({ fetch, maxRetries: 3 }))), "INVALID_RESPONSE", { retryable: false });
      assert.equal(err.cause, boom);
      assert.equal(fetch.count("download"), 1, "retried");
    });
  }

  guarded("a download answer whose headers.get throws: INVALID_RESPONSE, cause = the thrown value", async () => {
    const boom = sentinel("download headers.get");
    const fetch = withDownload("job-d2", () =>
      plainResponse({ text: RESULT_TEXT, headers: throwingHeaders(boom), body: { getReader: () => scriptedReader(chunkSteps(RESULT_TEXT)) } }),
    );
    const err = await rejects(callAsync(() => waitForJob("job-d2", base({ fetch }))), "INVALID_RESPONSE");
    assert.equal(err.cause, boom);
  });

  guarded("a download body whose getReader() throws: INVALID_RESPONSE, not retried, cause = the thrown value", async () => {
    const boom = sentinel("getReader");
    const fetch = withDownload("job-d3", () =>
      readerResponse(null, {
        body: {
          locked: false,
          getReader() {
            throw boom;
          },
        },
      }),
    );
    const err = await rejects(callAsync(() => waitForJob("job-d3", base({ fetch, maxRetries: 3 }))), "INVALID_RESPONSE", { retryable: false });
    assert.equal(err.cause, boom);
    assert.equal(fetch.count("download"), 1);
  });

  for (const status of [65736, 200.5, "200", 99, 600, -1, NaN, null]) {
    guarded(`status ${typeof status === "string" ? JSON.stringify(status) : String(status)} (outside 100..=599): INVALID_RESPONSE for waitForJob, getJob, cancelJob and a download`, async () => {
      const answer = (text) => plainResponse({ status, ok: true, text, headers: new Headers({ "content-type": "application/json" }) });
      const pollFetch = routeFetch(() => answer(completedText));
      await rejects(callAsync(() => waitForJob("job-r", base({ fetch: pollFetch, maxRetries: 3 }))), "INVALID_RESPONSE", { retryable: false });
      assert.equal(pollFetch.calls.length, 1, "waitForJob retried");
      await rejects(callAsync(() => getJob("job-r", base({ fetch: routeFetch(() => answer(completedText)) }))), "INVALID_RESPONSE");
      await rejects(
        callAsync(() => cancelJob("job-r", base({ fetch: routeFetch(() => answer(JSON.stringify({ job_id: "job-r", message: "Job canceled" }))) }))),
        "INVALID_RESPONSE",
      );
      const dlFetch = withDownload("job-r", () =>
        plainResponse({ status, ok: true, text: RESULT_TEXT, headers: new Headers(), body: { getReader: () => scriptedReader(chunkSteps(RESULT_TEXT)) } }),
      );
      await rejects(callAsync(() => waitForJob("job-r", base({ fetch: dlFetch }))), "INVALID_RESPONSE");
    });
  }

  guarded("status 0 (opaque redirect) stays HTTP_ERROR with httpStatus 0", async () => {
    const fetch = routeFetch(() => plainResponse({ status: 0, ok: false, text: "", headers: new Headers() }));
    await rejects(callAsync(() => getJob("job-r", base({ fetch }))), "HTTP_ERROR", { httpStatus: 0 });
    await rejects(callAsync(() => waitForJob("job-r", base({ fetch }))), "HTTP_ERROR", { httpStatus: 0 });
  });
});

describe("section 1: body readers that throw or lie", () => {
  guarded("read() rejecting is a network failure and is retried: the second download succeeds", async () => {
    const boom = sentinel("read rejects");
    const fetch = withDownload("job-b1", (call) =>
      readerResponse(call.n === 1 ? scriptedReader([() => Promise.reject(boom)]) : scriptedReader(chunkSteps(RESULT_TEXT, 3))),
    );
    const job = await resolves(callAsync(() => waitForJob("job-b1", base({ fetch, maxRetries: 2 }))));
    assert.equal(job.status, "completed");
    assert.deepEqual(job.result, RESULT);
    assert.equal(fetch.count("download"), 2, "one failed download, one retry");
  });

  guarded("read() rejecting on every download: RESULT_DOWNLOAD_FAILED once maxRetries are spent", async () => {
    const boom = sentinel("read rejects always");
    const fetch = withDownload("job-b2", () => readerResponse(scriptedReader([() => Promise.reject(boom)])));
    await rejects(callAsync(() => waitForJob("job-b2", base({ fetch, maxRetries: 1 }))), "RESULT_DOWNLOAD_FAILED");
    assert.ok(fetch.count("download") >= 2, "read() rejecting was not retried");
  });

  const badReads = [
    ["{done:false} without value", () => ({ done: false })],
    ["{done:false, value:undefined}", () => ({ done: false, value: undefined })],
    ["a number", () => 5],
    ["null", () => null],
    ["undefined", () => undefined],
    ["a string", () => "chunk"],
    ["{done:false, value: a string}", () => ({ done: false, value: "{\"a\":1}" })],
    ["{done:false, value: an ArrayBuffer}", () => ({ done: false, value: new ArrayBuffer(4) })],
    ["{done:false, value: an array of numbers}", () => ({ done: false, value: [123, 125] })],
    ["a chunk whose done getter throws", () => ({ get done() {
      throw sentinel("done getter");
    } })],
  ];
  for (const [label, make] of badReads) {
    guarded(`read() resolving ${label}: INVALID_RESPONSE, not retried`, async () => {
      const fetch = withDownload("job-b3", () => readerResponse(scriptedReader([() => Promise.resolve(make()), ...chunkSteps(RESULT_TEXT)])));
      await rejects(callAsync(() => waitForJob("job-b3", base({ fetch, maxRetries: 3 }))), "INVALID_RESPONSE", { retryable: false });
      assert.equal(fetch.count("download"), 1, "retried");
    });
  }

  guarded("a chunk whose length getter throws (a Uint8Array subclass): INVALID_RESPONSE, not retried, cause = the thrown value, stream canceled", async () => {
    const boom = sentinel("length getter");
    class Lying extends Uint8Array {
      get length() {
        throw boom;
      }
    }
    const reader = scriptedReader([() => Promise.resolve({ done: false, value: new Lying(4) })]);
    const fetch = withDownload("job-b5", () => readerResponse(reader));
    const err = await rejects(callAsync(() => waitForJob("job-b5", base({ fetch, maxRetries: 3 }))), "INVALID_RESPONSE", { retryable: false });
    assert.equal(err.cause, boom);
    assert.equal(fetch.count("download"), 1, "retried");
    assert.ok(reader.cancels >= 1, "the stream was not canceled");
  });

  for (const [label, cancelImpl] of [
    ["throws", () => {
      throw sentinel("cancel throws");
    }],
    ["rejects", () => Promise.reject(sentinel("cancel rejects"))],
  ]) {
    guarded(`reader.cancel() that ${label} while maxResultBytes cancels the download: RESULT_TOO_LARGE, ignored, no unhandledRejection`, async () => {
      const chunk = new Uint8Array(64).fill(0x20);
      const reader = scriptedReader([() => Promise.resolve({ done: false, value: chunk })], cancelImpl);
      const fetch = withDownload("job-b4", () => readerResponse(reader));
      await rejects(callAsync(() => waitForJob("job-b4", base({ fetch, maxResultBytes: 100 }))), "RESULT_TOO_LARGE", { retryable: false });
      assert.ok(reader.cancels >= 1, "the package never cancelled the oversized body (the trigger was not exercised)");
    });
  }
});

describe("section 1: responses without a readable stream (node-fetch v2, polyfills)", () => {
  guarded("node-fetch v2 style Response for a poll: read with text(), resolves", async () => {
    let res;
    const fetch = routeFetch(() => (res = nodeFetchV2Response(JSON.stringify(jobBody("job-n1", "completed", { result: RESULT })))));
    const job = await resolves(callAsync(() => waitForJob("job-n1", base({ fetch }))));
    assert.equal(job.status, "completed");
    assert.deepEqual(job.result, RESULT);
    assert.equal(res.calls.text, 1, "polls read text()");
    const got = await resolves(callAsync(() => getJob("job-n1", base({ fetch }))));
    assert.equal(got.job_id, "job-n1");
  });

  guarded("node-fetch v2 style Response for a large-result download (Node Readable body): read with arrayBuffer(), resolves with the result", async () => {
    let res;
    const fetch = withDownload("job-n2", () => (res = nodeFetchV2Response(RESULT_TEXT, { headers: { "content-length": String(Buffer.byteLength(RESULT_TEXT)) } })));
    const job = await resolves(callAsync(() => waitForJob("job-n2", base({ fetch }))));
    assert.equal(job.status, "completed");
    assert.deepEqual(job.result, RESULT);
    assert.equal(res.calls.arrayBuffer, 1, "the download read arrayBuffer()");
  });

  guarded("a download answer with no body stream (body null): read with arrayBuffer(), resolves with the result", async () => {
    const fetch = withDownload("job-n3", () => plainResponse({ text: RESULT_TEXT, body: null, headers: new Headers({ "content-type": "application/json" }) }));
    const job = await resolves(callAsync(() => waitForJob("job-n3", base({ fetch }))));
    assert.deepEqual(job.result, RESULT);
  });

  guarded("a node-fetch v2 download whose arrayBuffer() never resolves is bounded by requestTimeoutMs: RESULT_DOWNLOAD_FAILED", async () => {
    const fetch = withDownload("job-n4", () => nodeFetchV2Response(RESULT_TEXT, { arrayBuffer: () => new Promise(() => {}) }));
    const started = Date.now();
    await rejects(callAsync(() => waitForJob("job-n4", base({ fetch, requestTimeoutMs: 100, maxRetries: 0, timeoutMs: 0 }))), "RESULT_DOWNLOAD_FAILED", {}, 3000);
    const ms = Date.now() - started;
    assert.ok(ms < 1500, `took ${ms} ms with requestTimeoutMs 100`);
  });
});

// ------------------------------------------------------------------ timing

describe("section 4: the backoff stays finite with initialDelayMs 0", () => {
  for (const maxDelayMs of [undefined, 15000]) {
    guarded(`1,500 "processing" polls then "completed", initialDelayMs 0, multiplier 2, jitter 0, maxDelayMs ${maxDelayMs ?? "default"}: exactly 1,501 polls, well under timeoutMs`, async () => {
      const id = "job-t1";
      const fetch = routeFetch(async (call) => {
        await macrotask(); // like a real network answer: lets timers run between polls
        return json(jobBody(id, call.n <= 1500 ? "processing" : "completed"));
      });
      const cap = maxDelayMs ?? 15000;
      const bad = [];
      const delays = [];
      const tooSlow = sentinel("backoff exploded");
      const onProgress = (job, { attempt, nextDelayMs }) => {
        delays.push(nextDelayMs);
        if (job.status === "completed") return;
        const ok = typeof nextDelayMs === "number" && Number.isFinite(nextDelayMs) && nextDelayMs >= 0 && nextDelayMs <= cap;
        if (!ok) bad.push(`poll ${attempt}: nextDelayMs ${nextDelayMs} (must be a finite number in [0, ${cap}])`);
        // base delay = 0 x 2^n = 0 on every attempt: a delay of seconds would make the
        // 1,500 polls take hours; stop the wait at once instead of sleeping on it
        else if (nextDelayMs > 1000) bad.push(`poll ${attempt}: nextDelayMs ${nextDelayMs} although initialDelayMs is 0`);
        if (bad.length) throw tooSlow;
      };
      const started = Date.now();
      const p = callAsync(() =>
        waitForJob(id, base({ fetch, initialDelayMs: 0, multiplier: 2, jitter: 0, timeoutMs: 60000, requestTimeoutMs: 5000, maxDelayMs, onProgress })),
      );
      const r = await settleWithin(p, 25000);
      const ms = Date.now() - started;
      assert.deepEqual(bad.slice(0, 5), [], "every delay must be a finite number in [0, maxDelayMs], ~0 with initialDelayMs 0");
      assert.notEqual(r.status, "pending", `not settled after 25 s (${fetch.count("poll")} polls so far)`);
      assert.equal(r.status, "fulfilled", `rejected after ${fetch.count("poll")} polls: ${show(r.reason)}`);
      assert.equal(r.value.status, "completed");
      assert.equal(fetch.count("poll"), 1501, "exactly 1,501 polls");
      assert.equal(delays.length, 1501, "onProgress after every poll");
      assert.equal(delays.at(-1), null, "nextDelayMs is null after the last poll");
      assert.ok(ms < 10000, `took ${ms} ms: well under timeoutMs (60000) expected`);
    });
  }
});

describe("section 4: waits sharing one AbortSignal", () => {
  const N = 50;

  /** Runs `sample` every 2 ms until `done` settles; returns the largest value. */
  async function maxWhile(done, sample) {
    let max = sample();
    let finished = false;
    done.finally(() => (finished = true));
    while (!finished) {
      max = Math.max(max, sample());
      await sleep(2);
    }
    return max;
  }

  guarded(`${N} concurrent waits on one signal, all completing: at most 1 abort listener while waiting, 0 after, no MaxListenersExceededWarning`, async () => {
    const ac = new AbortController();
    const fetch = routeFetch(async (call) => {
      await macrotask();
      const id = call.url.split("/job/")[1];
      const n = fetch.calls.filter((c) => c.url === call.url).length;
      return json(jobBody(id, n <= 3 ? "processing" : "completed"));
    });
    const waits = Array.from({ length: N }, (_, i) =>
      callAsync(() => waitForJob(`job-share-${i}`, base({ fetch, signal: ac.signal, initialDelayMs: 30 }))),
    );
    const all = Promise.allSettled(waits);
    await until(() => fetch.calls.length >= N, 3000, () => `only ${fetch.calls.length} of ${N} waits polled`);
    const max = await maxWhile(all, () => abortListeners(ac.signal));
    const results = await settleWithin(all, 10000);
    assert.equal(results.status, "fulfilled", "the waits did not all settle");
    for (const [i, r] of results.value.entries()) {
      assert.equal(r.status, "fulfilled", `wait ${i}: ${show(r.reason)}`);
      assert.equal(r.value.status, "completed");
    }
    assert.ok(max <= 1, `${max} abort listeners on the shared signal while ${N} waits ran (one in total expected)`);
    assert.equal(abortListeners(ac.signal), 0, "abort listeners left on the signal after every wait settled");
  });

  guarded(`${N} concurrent waits on one signal, aborted: all ABORTED with cause = reason, at most 1 listener, 0 after, no warning`, async () => {
    const ac = new AbortController();
    const fetch = routeFetch(async (call) => {
      await macrotask();
      return json(jobBody(call.url.split("/job/")[1], "processing"));
    });
    const waits = Array.from({ length: N }, (_, i) =>
      callAsync(() => waitForJob(`job-share-a${i}`, base({ fetch, signal: ac.signal, initialDelayMs: 20, timeoutMs: 0 }))),
    );
    const all = Promise.allSettled(waits);
    await until(() => fetch.calls.length >= N, 3000, () => `only ${fetch.calls.length} of ${N} waits polled`);
    let max = abortListeners(ac.signal);
    const end = Date.now() + 100;
    while (Date.now() < end) {
      max = Math.max(max, abortListeners(ac.signal));
      await sleep(2);
    }
    const reason = sentinel("shared abort");
    ac.abort(reason);
    const results = await settleWithin(all, 3000);
    assert.equal(results.status, "fulfilled", "the waits did not all settle after the abort");
    for (const [i, r] of results.value.entries()) {
      assert.equal(r.status, "rejected", `wait ${i} resolved`);
      assert.ok(r.reason instanceof PulseError, `wait ${i}: ${show(r.reason)}`);
      assert.equal(r.reason.code, "ABORTED", `wait ${i}: ${r.reason.message}`);
      assert.equal(r.reason.cause, reason, `wait ${i}: cause must be the signal's reason`);
    }
    assert.ok(max <= 1, `${max} abort listeners on the shared signal while ${N} waits ran (one in total expected)`);
    assert.equal(abortListeners(ac.signal), 0, "abort listeners left on the signal after the abort");
  });
});
