// Bad input (docs/contract.md, "Behaviour"), PulseClient, option overrides and header
// merging, jobId encoding, baseUrl path prefixes, the `fetch` option, getJob
// and cancelJob.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer, startPrefixedMock } from "./support/mock.js";
import { callAsync, exitGuard, fakeFetch, json, rejectsWith, renderings, sleep, spyFetch } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { waitForJob, getJob, cancelJob, PulseClient, PulseError } = P;
const KEY = "input-key-6a1f";

let m;
let pm;
before(async () => {
  [m, pm] = await Promise.all([startMockServer(), startPrefixedMock("/pfx/v1")]);
});
after(async () => {
  await m?.close();
  await pm?.close();
});
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, initialDelayMs: 5, jitter: 0, ...o });

// [field, bad value, label]
const badOptions = [
  ["initialDelayMs", -1], ["initialDelayMs", NaN], ["initialDelayMs", Infinity], ["initialDelayMs", "10"],
  ["maxDelayMs", NaN], ["maxDelayMs", "100"], ["maxDelayMs", Infinity],
  ["multiplier", 0.5], ["multiplier", 0], ["multiplier", NaN], ["multiplier", Infinity], ["multiplier", "2"],
  ["jitter", -0.1], ["jitter", 1.1], ["jitter", NaN], ["jitter", "0"],
  ["timeoutMs", -1], ["timeoutMs", NaN], ["timeoutMs", Infinity], ["timeoutMs", "1000"],
  ["requestTimeoutMs", 0], ["requestTimeoutMs", -5], ["requestTimeoutMs", NaN], ["requestTimeoutMs", Infinity], ["requestTimeoutMs", "1"],
  ["maxRetries", -1], ["maxRetries", 1.5], ["maxRetries", NaN], ["maxRetries", Infinity], ["maxRetries", "3"],
  ["maxResultBytes", 0], ["maxResultBytes", -1], ["maxResultBytes", NaN], ["maxResultBytes", Infinity], ["maxResultBytes", "10"],
  ["downloadResult", "yes"], ["downloadResult", 1],
  ["onProgress", "x"], ["onProgress", {}],
  ["onDownloadProgress", 42],
  ["baseUrl", "not a url"], ["baseUrl", "ftp://example.com"], ["baseUrl", "/relative/path"], ["baseUrl", 42],
  ["baseUrl", "javascript:alert(1)"], ["baseUrl", ""],
  ["fetch", "fetch"], ["fetch", {}],
  ["signal", {}], ["signal", "abort"],
];
// Secrets: the message must name the field and never show the value.
const badSecrets = [
  ["apiKey", "SeCrEt-line\nbreak"], ["apiKey", "SeCrEt-nul\u0000x"], ["apiKey", "SeCrEt-wide\u0100x"],
  ["apiKey", "SeCrEt-cr\rx"], ["apiKey", 12345],
  ["headers", { "x-ok": "SeCrEt-hv\r\nInjected: 1" }], ["headers", { "x-ok": "SeCrEt-wide\u20ac" }],
  ["headers", { "bad name": "SeCrEt-val" }], ["headers", { "": "SeCrEt-val" }], ["headers", { "x(y)": "SeCrEt-val" }],
  ["headers", { "x-num": 5 }], ["headers", "SeCrEt-string"],
];
const badJobIds = [
  ["empty", ""], ["dot", "."], ["dotdot", ".."], ["too long", "a".repeat(257)], ["NUL", "ok\u0000x"],
  ["newline", "ok\nx"], ["U+001F", "a\u001fb"], ["DEL", "a\u007fb"], ["U+0085", "a\u0085b"], ["U+009F", "a\u009fb"],
  ["lone high surrogate", "ok-\ud800"], ["lone low surrogate", "ok-\udc00x"], ["reversed pair", "ok-\udc00\ud800"],
  ["number", 123], ["null", null], ["undefined", undefined], ["object", { id: "ok" }],
];

const show = (v) => (typeof v === "string" ? JSON.stringify(v.length > 20 ? v.slice(0, 20) + "…" : v) : String(v));

describe("bad input rejects INVALID_ARGUMENT before any request", { concurrency: true }, () => {
  for (const [field, value] of badOptions) {
    test(`${field}: ${show(value)}`, async () => {
      const id = jid("ok");
      const spy = spyFetch();
      const o = field === "fetch" ? { [field]: value } : { fetch: spy, [field]: value };
      const err = await rejectsWith(PulseError, callAsync(() => waitForJob(id, opts(o))), "INVALID_ARGUMENT", {
        retryable: false,
      });
      assert.ok(err.message.includes(field), `message should name ${field}: ${err.message}`);
      await sleep(20);
      assert.equal(spy.calls.length, 0, "no request sent");
      assert.equal(m.requestsFor(id).length, 0, "no request sent");
    });
  }

  test("maxDelayMs below initialDelayMs", async () => {
    const id = jid("ok");
    const err = await rejectsWith(PulseError, callAsync(() => waitForJob(id, opts({ initialDelayMs: 100, maxDelayMs: 50 }))), "INVALID_ARGUMENT");
    assert.ok(err.message.includes("maxDelayMs"), err.message);
    assert.equal(m.requestsFor(id).length, 0);
  });

  test("maxDelayMs below the default initialDelayMs (1000)", async () => {
    const id = jid("ok");
    const err = await rejectsWith(PulseError, callAsync(() => waitForJob(id, { apiKey: KEY, baseUrl: m.apiUrl, maxDelayMs: 500 })), "INVALID_ARGUMENT");
    assert.ok(err.message.includes("maxDelayMs"), err.message);
  });

  for (const [field, value] of badSecrets) {
    test(`${field} (secret): ${show(value)}`, async () => {
      const id = jid("ok");
      const spy = spyFetch();
      const err = await rejectsWith(PulseError, callAsync(() => waitForJob(id, opts({ fetch: spy, [field]: value }))), "INVALID_ARGUMENT");
      assert.ok(err.message.includes(field), `message should name ${field}: ${err.message}`);
      assert.equal(spy.calls.length, 0, "no request sent");
      const text = renderings(err);
      assert.ok(!text.includes("SeCrEt"), `value leaked: ${text.slice(0, 500)}`);
      if (typeof value === "number") assert.ok(!err.message.includes(String(value)), "numeric apiKey value leaked");
      assert.equal(m.requestsFor(id).length, 0);
    });
  }

  test("a valid apiKey never appears in an INVALID_ARGUMENT error about another field", async () => {
    const err = await rejectsWith(PulseError, waitForJob(jid("ok"), opts({ apiKey: "SeCrEt-valid-key", jitter: 2 })), "INVALID_ARGUMENT");
    assert.ok(!renderings(err).includes("SeCrEt"));
  });

  for (const [label, value] of badJobIds) {
    test(`jobId ${label}`, async () => {
      const spy = spyFetch();
      const err = await rejectsWith(PulseError, callAsync(() => waitForJob(value, opts({ fetch: spy }))), "INVALID_ARGUMENT", { retryable: false });
      assert.ok(/jobId/.test(err.message), `message should name jobId: ${err.message}`);
      assert.ok(err.message.length < 400, "message does not dump a huge id");
      await sleep(20);
      assert.equal(spy.calls.length, 0, "no request sent");
    });
  }

  test("getJob and cancelJob validate the jobId and options too", async () => {
    for (const fn of [getJob, cancelJob]) {
      const spy = spyFetch();
      const e1 = await rejectsWith(PulseError, callAsync(() => fn("..", opts({ fetch: spy }))), "INVALID_ARGUMENT");
      assert.equal(spy.calls.length, 0);
      assert.match(e1.message, /jobId/);
      const id = jid("ok");
      const e2 = await rejectsWith(PulseError, callAsync(() => fn(id, opts({ requestTimeoutMs: 0 }))), "INVALID_ARGUMENT");
      assert.match(e2.message, /requestTimeoutMs/);
      const e3 = await rejectsWith(PulseError, callAsync(() => fn(id, opts({ apiKey: "SeCrEt\n" }))), "INVALID_ARGUMENT");
      assert.ok(!renderings(e3).includes("SeCrEt"));
      assert.equal(m.requestsFor(id).length, 0);
    }
  });

  test("no request at all for invalid input even with a custom fetch", async () => {
    const fetch = fakeFetch(() => json({ status: "completed" }));
    await rejectsWith(PulseError, waitForJob("", { fetch }), "INVALID_ARGUMENT");
    await rejectsWith(PulseError, waitForJob("x", { fetch, jitter: -1 }), "INVALID_ARGUMENT");
    await rejectsWith(PulseError, getJob("x", { fetch, baseUrl: "nope" }), "INVALID_ARGUMENT");
    assert.equal(fetch.calls.length, 0);
  });
});

describe("valid edge input", { concurrency: true }, () => {
  test("a jobId of exactly 256 code units is accepted", async () => {
    const base = jid("ok");
    const id = base + "z".repeat(256 - base.length);
    assert.equal(id.length, 256);
    const job = await waitForJob(id, opts());
    assert.equal(job.job_id, id);
  });

  test("a jobId with a surrogate pair (emoji) is accepted and encoded", async () => {
    const id = jid("ok", "\u{1F600}");
    const job = await waitForJob(id, opts());
    assert.equal(job.job_id, id);
    const poll = m.pollsFor(id)[0];
    assert.ok(poll.path.includes("%F0%9F%98%80"), `path ${poll.path}`);
  });

  test("jobId is percent-encoded as one path segment (a/b?c#d%e)", async () => {
    const id = jid("ok", "a/b?c#d%e f");
    const job = await waitForJob(id, opts());
    assert.equal(job.job_id, id);
    const polls = m.pollsFor(id);
    assert.equal(polls.length, 1);
    assert.equal(polls[0].jobId, id, "the mock decoded the same id");
    const segs = polls[0].path.split("?")[0].split("/");
    assert.equal(segs.length, 3, `path ${polls[0].path} should be /job/<one segment>`);
    assert.equal(decodeURIComponent(segs[2]), id);
  });

  test("'...' and ids with dots inside are fine", async () => {
    const id = jid("ok", "..x.");
    assert.equal((await waitForJob(id, opts())).job_id, id);
  });

  test("unknown option names are ignored", async () => {
    const job = await waitForJob(jid("ok"), opts({ pollInterval: "whatever", foo: NaN, api_key: 3 }));
    assert.equal(job.status, "completed");
  });

  test("undefined options count as not given", async () => {
    const job = await waitForJob(jid("ok"), opts({ initialDelayMs: undefined, headers: undefined, signal: undefined, onProgress: undefined }));
    assert.equal(job.status, "completed");
  });

  test("null options count as not given (docs/decisions.md)", async () => {
    const job = await waitForJob(jid("ok"), opts({ initialDelayMs: null, headers: null, signal: null, onProgress: null, timeoutMs: null }));
    assert.equal(job.status, "completed");
  });

  test("jitter 0 and 1, multiplier 1, maxRetries 0, timeoutMs 0, initialDelayMs 0 are valid", async () => {
    for (const o of [{ jitter: 0 }, { jitter: 1 }, { multiplier: 1 }, { maxRetries: 0 }, { timeoutMs: 0 }, { initialDelayMs: 0, maxDelayMs: 0 }]) {
      const job = await waitForJob(jid("steps_1"), opts({ initialDelayMs: 5, ...o }));
      assert.equal(job.status, "completed", JSON.stringify(o));
    }
  });

  test("header values with Latin-1 characters (<= U+00FF) are valid", async () => {
    const id = jid("ok");
    await waitForJob(id, opts({ headers: { "x-latin": "caf\u00e9" } }));
    assert.equal(m.pollsFor(id).length, 1);
  });
});

describe("baseUrl, fetch, headers", { concurrency: true }, () => {
  test("baseUrl with a path prefix", async () => {
    const id = jid("ok");
    const job = await waitForJob(id, { apiKey: KEY, baseUrl: pm.apiUrl });
    assert.equal(job.status, "completed");
    const polls = pm.mock.requests.filter((r) => r.jobId === id);
    assert.equal(polls.length, 1);
  });

  test("baseUrl with a path prefix and a trailing slash", async () => {
    const id = jid("ok");
    const job = await waitForJob(id, { apiKey: KEY, baseUrl: pm.apiUrl + "/" });
    assert.equal(job.status, "completed");
  });

  test("getJob and cancelJob use the path prefix too", async () => {
    const id = jid("steps_5");
    assert.equal((await getJob(id, { apiKey: KEY, baseUrl: pm.apiUrl })).status, "pending");
    const r = await cancelJob(id, { apiKey: KEY, baseUrl: pm.apiUrl });
    assert.equal(r.job_id, id);
  });

  test("the fetch option is used for polls and downloads", async () => {
    const id = jid("large_20000");
    let calls = 0;
    const myFetch = (...args) => {
      calls += 1;
      return globalThis.fetch(...args);
    };
    const job = await waitForJob(id, opts({ fetch: myFetch }));
    assert.notEqual(job.result.is_url, true);
    assert.equal(calls, 2, "one poll and one download through the given fetch");
  });

  test("the fetch option is used by getJob and cancelJob", async () => {
    const fetch = fakeFetch((url, init) =>
      init.method === "DELETE" ? json({ job_id: "f1", message: "Job canceled" }) : json({ job_id: "f1", status: "processing" }),
    );
    const job = await getJob("f1", { fetch, baseUrl: "https://api.example.test", apiKey: "kf" });
    assert.equal(job.status, "processing");
    const r = await cancelJob("f1", { fetch, baseUrl: "https://api.example.test", apiKey: "kf" });
    assert.deepEqual(r, { job_id: "f1", message: "Job canceled" });
    assert.equal(fetch.calls.length, 2);
    assert.equal(fetch.calls[0].url, "https://api.example.test/job/f1");
    assert.equal(fetch.calls[0].method, "GET");
    assert.equal(fetch.calls[1].url, "https://api.example.test/job/f1");
    assert.equal(fetch.calls[1].method, "DELETE");
    assert.equal(fetch.calls[1].headers["x-api-key"], "kf");
  });

  test("the default baseUrl is https://api.runpulse.com", async () => {
    const fetch = fakeFetch(() => json({ job_id: "d", status: "completed", result: {} }));
    await waitForJob("d", { fetch, apiKey: "k" });
    assert.equal(fetch.calls[0].url, "https://api.runpulse.com/job/d");
  });

  test("headers go with the request; apiKey beats an x-api-key header", async () => {
    const id = jid("ok");
    await waitForJob(id, opts({ apiKey: KEY, headers: { "X-API-Key": "from-headers", "X-Custom": "c1" } }));
    const h = m.pollsFor(id)[0].headers;
    assert.equal(h["x-api-key"], KEY);
    assert.equal(h["x-custom"], "c1");
  });

  test("an x-api-key header alone is sent when there is no apiKey", async () => {
    const id = jid("ok");
    await waitForJob(id, { baseUrl: m.apiUrl, headers: { "x-api-key": KEY } });
    assert.equal(m.pollsFor(id)[0].headers["x-api-key"], KEY);
  });

  test("no apiKey: no x-api-key header at all", async () => {
    const fetch = fakeFetch(() => json({ job_id: "n", status: "completed", result: {} }));
    await waitForJob("n", { fetch, baseUrl: "https://api.example.test" });
    assert.equal(fetch.calls[0].headers["x-api-key"], undefined);
  });
});

describe("PulseClient", { concurrency: true }, () => {
  test("bad client options throw INVALID_ARGUMENT synchronously", () => {
    const cases = [
      [{ apiKey: "SeCrEt\nx" }, "apiKey"],
      [{ baseUrl: "nope" }, "baseUrl"],
      [{ baseUrl: "ftp://x.test" }, "baseUrl"],
      [{ headers: { "bad name": "SeCrEt" } }, "headers"],
      [{ headers: { ok: "SeCrEt\r\n" } }, "headers"],
      [{ fetch: 42 }, "fetch"],
    ];
    for (const [o, field] of cases) {
      let err;
      try {
        new PulseClient(o);
      } catch (e) {
        err = e;
      }
      assert.ok(err, `new PulseClient(${JSON.stringify(o)}) did not throw`);
      assert.ok(err instanceof PulseError && err instanceof Error);
      assert.equal(err.code, "INVALID_ARGUMENT");
      assert.ok(err.message.includes(field), `message should name ${field}: ${err.message}`);
      assert.ok(!renderings(err).includes("SeCrEt"), "secret value leaked");
    }
  });

  test("new PulseClient() and new PulseClient({}) work", () => {
    assert.ok(new PulseClient() instanceof PulseClient);
    assert.ok(new PulseClient({}) instanceof PulseClient);
  });

  test("the client's options are used by waitForJob, getJob and cancelJob", async () => {
    const client = new PulseClient({ apiKey: KEY, baseUrl: m.apiUrl, headers: { "X-Client": "yes" } });
    const a = jid("ok");
    assert.equal((await client.waitForJob(a, { initialDelayMs: 5 })).status, "completed");
    const b = jid("steps_5");
    assert.equal((await client.getJob(b)).status, "pending");
    const r = await client.cancelJob(b);
    assert.equal(r.job_id, b);
    assert.equal(r.message, "Job canceled");
    const recs = [...m.requestsFor(a), ...m.requestsFor(b)];
    assert.equal(recs.length, 3);
    for (const rec of recs) {
      assert.equal(rec.headers["x-api-key"], KEY);
      assert.equal(rec.headers["x-client"], "yes");
    }
    assert.equal(m.requestsFor(b)[1].method, "DELETE");
  });

  test("per-call options override the client's", async () => {
    const client = new PulseClient({ apiKey: "wrong", baseUrl: "http://127.0.0.1:9" });
    const id = jid("ok");
    const job = await client.waitForJob(id, { apiKey: KEY, baseUrl: m.apiUrl });
    assert.equal(job.status, "completed");
    assert.equal(m.pollsFor(id)[0].headers["x-api-key"], KEY);
    const id2 = jid("ok");
    await rejectsWith(PulseError, client.getJob(id2, { baseUrl: m.apiUrl }), "HTTP_ERROR", { httpStatus: 401 });
  });

  test("per-call headers merge over the client's, names compared case-insensitively", async () => {
    const client = new PulseClient({
      apiKey: KEY,
      baseUrl: m.apiUrl,
      headers: { "X-Trace": "client", "X-Client-Only": "c", "x-api-key": "from-client-headers" },
    });
    const id = jid("ok");
    await client.waitForJob(id, { headers: { "x-trace": "call", "X-Call-Only": "k" } });
    const h = m.pollsFor(id)[0].headers;
    assert.equal(h["x-trace"], "call", "per-call value replaces the client's (not joined)");
    assert.equal(h["x-client-only"], "c");
    assert.equal(h["x-call-only"], "k");
    assert.equal(h["x-api-key"], KEY, "apiKey wins over an x-api-key header");
  });

  test("the client's fetch is used", async () => {
    const fetch = fakeFetch(() => json({ job_id: "cf", status: "completed", result: { x: 1 } }));
    const client = new PulseClient({ fetch, baseUrl: "https://api.example.test" });
    const job = await client.waitForJob("cf");
    assert.deepEqual(job.result, { x: 1 });
    assert.equal(fetch.calls.length, 1);
  });

  test("client methods validate per-call options (rejecting, not throwing)", async () => {
    const client = new PulseClient({ apiKey: KEY, baseUrl: m.apiUrl });
    const err = await rejectsWith(PulseError, callAsync(() => client.waitForJob(jid("ok"), { multiplier: 0 })), "INVALID_ARGUMENT");
    assert.match(err.message, /multiplier/);
  });
});

describe("getJob and cancelJob", { concurrency: true }, () => {
  test("getJob makes one GET and returns the payload", async () => {
    const id = jid("steps_3");
    const job = await getJob(id, opts());
    assert.equal(job.job_id, id);
    assert.equal(job.status, "pending");
    const recs = m.requestsFor(id);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].method, "GET");
    assert.equal(recs[0].headers["x-api-key"], KEY);
  });

  test("getJob keeps a large-result pointer as a pointer", async () => {
    const id = jid("large_20000");
    const job = await getJob(id, opts());
    assert.equal(job.result.is_url, true);
    await sleep(30);
    assert.equal(m.storageFor(id).length, 0);
  });

  test("getJob resolves failed and expired jobs (no JOB_* rejection), cancelled -> canceled", async () => {
    assert.equal((await getJob(jid("failed"), opts())).error, "Document could not be parsed");
    assert.equal((await getJob(jid("expired"), opts())).status, "expired");
    assert.equal((await getJob(jid("cancelled"), opts())).status, "canceled");
  });

  test("getJob errors: HTTP_ERROR, INVALID_RESPONSE, NETWORK_ERROR", async () => {
    const a = jid("status_404");
    await rejectsWith(PulseError, getJob(a, opts()), "HTTP_ERROR", { httpStatus: 404, retryable: false });
    const b = jid("notjson");
    await rejectsWith(PulseError, getJob(b, opts()), "INVALID_RESPONSE");
    const c = jid("hang");
    await rejectsWith(PulseError, getJob(c, opts({ requestTimeoutMs: 100 })), "NETWORK_ERROR", { retryable: true });
  });

  test("getJob makes a single request even on a transient status", async () => {
    const id = jid("status_503");
    await rejectsWith(PulseError, getJob(id, opts()), "HTTP_ERROR", { httpStatus: 503, retryable: true });
    await sleep(50);
    assert.equal(m.requestsFor(id).length, 1);
  });

  test("cancelJob sends DELETE /job/{id} and returns { job_id, message }", async () => {
    const id = jid("steps_5");
    const r = await cancelJob(id, opts());
    assert.deepEqual({ ...r }, { job_id: id, message: "Job canceled" });
    const recs = m.requestsFor(id);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].method, "DELETE");
    assert.equal(recs[0].headers["x-api-key"], KEY);
    assert.equal((await getJob(id, opts())).status, "canceled");
  });

  test("cancelJob errors: 401, 403, 404, 500 reject HTTP_ERROR with httpStatus", async () => {
    for (const code of [401, 403, 404, 500]) {
      const id = jid(`status_${code}`);
      const err = await rejectsWith(PulseError, cancelJob(id, opts()), "HTTP_ERROR", { httpStatus: code });
      assert.ok(err.message.includes(`mock status ${code}`), err.message);
    }
    const err = await rejectsWith(PulseError, cancelJob(jid("ok"), opts({ apiKey: "wrong" })), "HTTP_ERROR", { httpStatus: 401 });
    assert.match(err.message, /Invalid API key/);
  });

  test("cancelJob of a hanging request times out with NETWORK_ERROR", async () => {
    const id = jid("hang");
    await rejectsWith(PulseError, cancelJob(id, opts({ requestTimeoutMs: 150 })), "NETWORK_ERROR", { retryable: true });
  });
});
