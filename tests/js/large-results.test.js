// Large results by URL (docs/contract.md, "Behaviour"): download, where the key
// and headers go, URL checks, expired presigned URLs, download retries,
// downloadResult: false, maxResultBytes, onDownloadProgress and the
// per-chunk requestTimeoutMs of downloads.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { SLACK, dripResponse, exitGuard, fakeFetch, json, rejectsWith, timed } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { waitForJob, PulseError } = P;
const KEY = "large-key-77e1";
const HDR = { "X-Trace-Id": "trace-123", "X-Tenant": "acme" };

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const fast = { initialDelayMs: 5, multiplier: 1, jitter: 0 };
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, headers: HDR, ...fast, ...o });

describe("download by URL", { concurrency: true }, () => {
  test("a large result is downloaded; the presigned URL gets neither key nor headers", async () => {
    const id = jid("large_200000");
    const job = await waitForJob(id, opts());
    assert.equal(job.status, "completed");
    assert.equal(job.job_id, id);
    assert.ok(job.result && typeof job.result === "object");
    assert.notEqual(job.result.is_url, true, "the pointer was replaced by the downloaded JSON");
    assert.ok(JSON.stringify(job.result).length > 100_000, "the full result arrived");
    const poll = m.pollsFor(id)[0];
    assert.equal(poll.headers["x-api-key"], KEY);
    assert.equal(poll.headers["x-trace-id"], "trace-123");
    const dl = m.storageFor(id);
    assert.equal(dl.length, 1);
    assert.equal(dl[0].method, "GET");
    assert.equal(dl[0].headers["x-api-key"], undefined, "API key sent to the storage origin");
    assert.equal(dl[0].headers["x-trace-id"], undefined, "custom header sent to the storage origin");
    assert.equal(dl[0].headers["x-tenant"], undefined, "custom header sent to the storage origin");
  });

  test("the downloaded result is exactly the JSON the URL serves", async () => {
    const id = jid("large_200000");
    const pointer = await P.getJob(id, opts());
    const direct = await (await fetch(pointer.result.url)).json();
    const job = await waitForJob(id, opts());
    assert.deepEqual(job.result, direct);
  });

  test("multi-byte UTF-8 split across chunks decodes intact; progress counts bytes", async () => {
    const doc = { markdown: "h\u00e9llo \u2603 \u{1F600} \u4e2d\u6587", list: ["\u00fc", "\u{1F680}"] };
    const bytes = new TextEncoder().encode(JSON.stringify(doc));
    const fetch = fakeFetch((url) => {
      if (url.includes("/job/")) return json({ job_id: "u1", status: "completed", result: { is_url: true, url: "https://bucket.example.test/u1" } });
      let i = 0;
      const stream = new ReadableStream({
        pull(c) {
          if (i >= bytes.length) return c.close();
          c.enqueue(bytes.slice(i, i + 1)); // one byte per chunk
          i += 1;
        },
      });
      return new Response(stream, { status: 200, headers: { "content-length": String(bytes.length) } });
    });
    const events = [];
    const job = await waitForJob("u1", { fetch, baseUrl: "https://api.example.test", onDownloadProgress: (p) => events.push({ ...p }) });
    assert.deepEqual(job.result, doc);
    assert.deepEqual(events.at(-1), { loaded: bytes.length, total: bytes.length });
  });

  test("a chunked (no Content-Length) result is downloaded", async () => {
    const id = jid("chunked_150000");
    const job = await waitForJob(id, opts());
    assert.notEqual(job.result.is_url, true);
    assert.ok(JSON.stringify(job.result).length > 75_000);
  });

  test("a result URL on baseUrl's origin (Pulse proxy) gets the key and headers", async () => {
    const id = jid("proxy_50000");
    const job = await waitForJob(id, opts());
    assert.notEqual(job.result.is_url, true);
    const proxied = m.apiFor(id).filter((r) => r.path.includes("/proxy/"));
    assert.equal(proxied.length, 1);
    assert.equal(proxied[0].headers["x-api-key"], KEY);
    assert.equal(proxied[0].headers["x-trace-id"], "trace-123");
    assert.equal(proxied[0].headers["x-tenant"], "acme");
    assert.equal(m.storageFor(id).length, 0);
  });

  test("downloadResult: false keeps the pointer and downloads nothing", async () => {
    const id = jid("large_200000");
    const job = await waitForJob(id, opts({ downloadResult: false }));
    assert.equal(job.result.is_url, true);
    assert.equal(typeof job.result.url, "string");
    assert.ok(job.result.url.startsWith(m.storageUrl));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(m.storageFor(id).length, 0);
  });

  for (const x of ["ftp", "rel", "num"]) {
    test(`a bad result url (${x}) rejects INVALID_RESPONSE without a download`, async () => {
      const id = jid(`badurl_${x}`);
      await rejectsWith(PulseError, waitForJob(id, opts()), "INVALID_RESPONSE", { retryable: false });
      assert.equal(m.storageFor(id).length, 0);
      assert.equal(m.apiFor(id).length, 1, "no request beyond the one poll");
    });
  }

  test("an http: result URL under an https: baseUrl rejects INVALID_RESPONSE", async () => {
    const fetch = fakeFetch((url) => {
      if (url.startsWith("https://api.example.test/")) {
        return json({ job_id: "s1", status: "completed", result: { is_url: true, url: "http://storage.example.test/r/s1" } });
      }
      return json({ markdown: "should not be fetched" });
    });
    await rejectsWith(PulseError, waitForJob("s1", { fetch, baseUrl: "https://api.example.test", apiKey: "k" }), "INVALID_RESPONSE");
    assert.equal(fetch.calls.length, 1);
  });

  test("an https: result URL on another origin under an https: baseUrl is fetched without key or headers", async () => {
    const fetch = fakeFetch((url) => {
      if (url.startsWith("https://api.example.test/")) {
        return json({ job_id: "s2", status: "completed", result: { is_url: true, url: "https://bucket.example.test/r/s2?X-Amz-Signature=abc" } });
      }
      return json({ markdown: "downloaded", page_count: 1 });
    });
    const job = await waitForJob("s2", { fetch, baseUrl: "https://api.example.test", apiKey: "kk", headers: { "x-extra": "1" } });
    assert.deepEqual(job.result, { markdown: "downloaded", page_count: 1 });
    assert.equal(fetch.calls.length, 2);
    assert.equal(fetch.calls[1].url, "https://bucket.example.test/r/s2?X-Amz-Signature=abc", "URL used as given");
    assert.equal(fetch.calls[1].headers["x-api-key"], undefined);
    assert.equal(fetch.calls[1].headers["x-extra"], undefined);
    assert.equal(fetch.calls[0].headers["x-api-key"], "kk");
  });

  test("a redirect from the API is not followed with the key to another origin", async () => {
    const id = jid("large_20000");
    const target = `${m.storageUrl}/result/${encodeURIComponent(id)}?token=1`;
    let hits = 0;
    const redirector = http.createServer((req, res) => {
      hits += 1;
      res.writeHead(302, { location: target, "content-type": "application/json" });
      res.end(JSON.stringify({ error: "moved" }));
    });
    await new Promise((r) => redirector.listen(0, "127.0.0.1", r));
    try {
      const baseUrl = `http://127.0.0.1:${redirector.address().port}`;
      await waitForJob(id, { apiKey: KEY, headers: HDR, baseUrl, ...fast, maxRetries: 0 }).catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(hits >= 1, "the API (redirector) was asked");
      for (const r of m.storageFor(id)) {
        assert.equal(r.headers["x-api-key"], undefined, "API key followed a redirect to another origin");
        assert.equal(r.headers["x-trace-id"], undefined, "custom header followed a redirect to another origin");
      }
    } finally {
      redirector.closeAllConnections();
      await new Promise((r) => redirector.close(r));
    }
  });

  test("a result URL on the same host but another port is another origin (no key)", async () => {
    const fetch = fakeFetch((url) => {
      if (url.startsWith("http://127.0.0.9:1111/")) {
        return json({ job_id: "s3", status: "completed", result: { is_url: true, url: "http://127.0.0.9:2222/r/s3" } });
      }
      return json({ markdown: "x" });
    });
    await waitForJob("s3", { fetch, baseUrl: "http://127.0.0.9:1111", apiKey: "kk" });
    assert.equal(fetch.calls[1].headers["x-api-key"], undefined);
  });
});

describe("expired presigned URLs and download retries", { concurrency: true }, () => {
  test("a 403 from the result URL re-polls exactly once and downloads the fresh URL", async () => {
    const id = jid("presign");
    const job = await waitForJob(id, opts());
    assert.equal(job.status, "completed");
    assert.notEqual(job.result.is_url, true);
    assert.equal(m.pollsFor(id).length, 2, "exactly one re-poll");
    const dl = m.storageFor(id);
    assert.equal(dl.length, 2);
    for (const d of dl) assert.equal(d.headers["x-api-key"], undefined);
  });

  test("a second expired URL rejects RESULT_DOWNLOAD_FAILED with httpStatus 403", async () => {
    const id = jid("presignstale");
    await rejectsWith(PulseError, waitForJob(id, opts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 403, jobId: id, retryable: false });
    assert.equal(m.pollsFor(id).length, 2, "one re-poll only");
    assert.equal(m.storageFor(id).length, 2);
  });

  test("a re-poll that brings the same URL rejects RESULT_DOWNLOAD_FAILED 403 without retrying it", async () => {
    const id = jid("presignsame");
    await rejectsWith(PulseError, waitForJob(id, opts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 403 });
    assert.equal(m.pollsFor(id).length, 2);
    assert.equal(m.storageFor(id).length, 1);
  });

  test("a 404 from the result URL is treated as expired too (re-poll once)", async () => {
    const id = jid("dlstatus_404");
    await rejectsWith(PulseError, waitForJob(id, opts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 404 });
    assert.equal(m.pollsFor(id).length, 2);
  });

  test("a 410 Gone ends the wait at once: no re-poll brings a used link back", async () => {
    const id = jid("dlstatus_410");
    await rejectsWith(PulseError, waitForJob(id, opts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 410, retryable: false });
    assert.equal(m.pollsFor(id).length, 1);
  });

  test("other non-2xx from the result URL reject RESULT_DOWNLOAD_FAILED at once", async () => {
    const id = jid("dlstatus_400");
    await rejectsWith(PulseError, waitForJob(id, opts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 400, retryable: false });
    assert.equal(m.storageFor(id).length, 1);
    assert.equal(m.pollsFor(id).length, 1);
  });

  test("transient download failures are retried within maxRetries", async () => {
    const id = jid("dlflaky_3");
    const job = await waitForJob(id, opts({ maxRetries: 3 }));
    assert.notEqual(job.result.is_url, true);
    assert.equal(m.storageFor(id).length, 4);
    assert.equal(m.pollsFor(id).length, 1);
  });

  test("download retries running out reject RESULT_DOWNLOAD_FAILED, retryable, with the status", async () => {
    const id = jid("dlflaky_3");
    await rejectsWith(PulseError, waitForJob(id, opts({ maxRetries: 2 })), "RESULT_DOWNLOAD_FAILED", { httpStatus: 503, retryable: true });
    assert.equal(m.storageFor(id).length, 3);
  });

  test("a persistent 500 from storage ends RESULT_DOWNLOAD_FAILED 500, retryable", async () => {
    const id = jid("dlstatus_500");
    await rejectsWith(PulseError, waitForJob(id, opts({ maxRetries: 1 })), "RESULT_DOWNLOAD_FAILED", { httpStatus: 500, retryable: true });
    assert.equal(m.storageFor(id).length, 2);
  });

  test("a download cut mid-body is retried", async () => {
    const id = jid("dlcut_200000");
    const job = await waitForJob(id, opts());
    assert.notEqual(job.result.is_url, true);
    assert.equal(m.storageFor(id).length, 2);
  });

  test("a stalled download times out per requestTimeoutMs and ends RESULT_DOWNLOAD_FAILED, retryable", async () => {
    const id = jid("dlstall_200000");
    const { error, ms } = await timed(waitForJob(id, opts({ requestTimeoutMs: 200, maxRetries: 1 })));
    const err = await rejectsWith(PulseError, Promise.reject(error), "RESULT_DOWNLOAD_FAILED", { retryable: true });
    assert.equal(err.httpStatus, undefined);
    assert.ok(ms >= 400 - 5 && ms < 2 * 200 + 2 * SLACK + 500, `took ${ms} ms`);
    const recs = await m.waitFor(id, (rs) => rs.filter((r) => r.side === "storage" && r.closedEarly).length === 2);
    assert.equal(recs.filter((r) => r.side === "storage").length, 2);
    assert.ok(recs.filter((r) => r.side === "storage").every((r) => r.closedEarly), "stalled downloads were aborted");
  });

  test("a download cut with no retries left is RESULT_DOWNLOAD_FAILED, retryable, without httpStatus", async () => {
    const id = jid("dlcut_200000");
    const err = await rejectsWith(PulseError, waitForJob(id, opts({ maxRetries: 0 })), "RESULT_DOWNLOAD_FAILED", { retryable: true });
    assert.equal(err.httpStatus, undefined);
    assert.equal(m.storageFor(id).length, 1);
  });

  test("the deadline covers the download: a stalled download rejects TIMEOUT and is aborted", async () => {
    const id = jid("dlstall_200000");
    const { error, ms } = await timed(waitForJob(id, opts({ timeoutMs: 600 })));
    await rejectsWith(PulseError, Promise.reject(error), "TIMEOUT", { retryable: true });
    assert.ok(ms >= 600 - 3 && ms <= 600 + SLACK, `rejected after ${ms} ms, deadline 600`);
    const recs = await m.waitFor(id, (rs) => rs.some((r) => r.side === "storage" && r.closedEarly));
    assert.ok(recs.some((r) => r.side === "storage" && r.closedEarly), "the stalled download was aborted");
  });

  test("Retry-After on a 503 result download delays the retry", async () => {
    let dl = 0;
    const fetch = fakeFetch((url) => {
      if (url.includes("/job/")) return json({ job_id: "r5", status: "completed", result: { is_url: true, url: "https://bucket.example.test/r5" } });
      dl += 1;
      if (dl === 1) return json({ error: "slow down" }, { status: 503, headers: { "retry-after": "1" } });
      return json({ markdown: "ok" });
    });
    const job = await waitForJob("r5", { fetch, baseUrl: "https://api.example.test", ...fast, maxDelayMs: 20 });
    assert.deepEqual(job.result, { markdown: "ok" });
    const [a, b] = fetch.calls.slice(1);
    assert.ok(b.at - a.at >= 1000 - 3, `download retry after ${b.at - a.at} ms, Retry-After: 1`);
  });

  test("download retries have their own failure count (poll failures do not add up)", async () => {
    let polls = 0;
    let dls = 0;
    const fetch = fakeFetch((url) => {
      if (url.includes("/job/")) {
        polls += 1;
        if (polls <= 2) return json({ error: "busy" }, { status: 503 });
        return json({ job_id: "c2", status: "completed", result: { is_url: true, url: "https://bucket.example.test/c2" } });
      }
      dls += 1;
      if (dls <= 2) return json({ error: "busy" }, { status: 503 });
      return json({ markdown: "ok" });
    });
    const job = await waitForJob("c2", { fetch, baseUrl: "https://api.example.test", ...fast, maxRetries: 2 });
    assert.deepEqual(job.result, { markdown: "ok" });
    assert.equal(polls, 3);
    assert.equal(dls, 3);
  });

  test("download backoff starts again at initialDelayMs", async () => {
    let polls = 0;
    let dls = 0;
    const fetch = fakeFetch((url) => {
      if (url.includes("/job/")) {
        polls += 1;
        if (polls <= 3) return json({ job_id: "b1", status: "processing" });
        return json({ job_id: "b1", status: "completed", result: { is_url: true, url: "https://bucket.example.test/b1" } });
      }
      dls += 1;
      if (dls === 1) return json({ error: "busy" }, { status: 503 });
      return json({ markdown: "ok" });
    });
    // Poll delays 100, 400, 1600; a download retry continuing that schedule would wait 6400 ms.
    const job = await waitForJob("b1", { fetch, baseUrl: "https://api.example.test", initialDelayMs: 100, multiplier: 4, jitter: 0 });
    assert.deepEqual(job.result, { markdown: "ok" });
    const [a, b] = fetch.calls.filter((c) => !c.url.includes("/job/"));
    const gap = b.at - a.at;
    assert.ok(gap >= 100 - 3 && gap < 1500, `download retry after ${gap} ms, expected about initialDelayMs (100)`);
  });

  test("the re-poll for a fresh URL is retried like any other poll", async () => {
    let polls = 0;
    const fetch = fakeFetch((url) => {
      if (url.includes("/job/")) {
        polls += 1;
        if (polls === 2) return json({ error: "busy" }, { status: 502 });
        return json({ job_id: "e1", status: "completed", result: { is_url: true, url: `https://bucket.example.test/e1?token=${polls}` } });
      }
      if (url.endsWith("token=1")) return new Response("<Error>expired</Error>", { status: 403 });
      return json({ markdown: "fresh" });
    });
    const job = await waitForJob("e1", { fetch, baseUrl: "https://api.example.test", ...fast });
    assert.deepEqual(job.result, { markdown: "fresh" });
    assert.equal(polls, 3, "poll, failed re-poll, retried re-poll");
  });

  test("requestTimeoutMs does not bound a whole download that keeps moving", async () => {
    const chunks = ['{"markdown":"', ..."abcdefgh".split("").map((c) => c.repeat(1000)), '"}'];
    const fetch = fakeFetch((url, init) => {
      if (url.includes("/job/")) return json({ job_id: "d1", status: "completed", result: { is_url: true, url: "https://bucket.example.test/d1" } });
      return dripResponse(chunks, chunks.map(() => 80), init.signal);
    });
    // ~800 ms of transfer, never more than 80 ms between chunks, 300 ms per-chunk bound.
    const job = await waitForJob("d1", { fetch, baseUrl: "https://api.example.test", requestTimeoutMs: 300, maxRetries: 0 });
    assert.equal(job.result.markdown.length, 8000);
    assert.equal(fetch.calls.length, 2);
  });

  test("a stall between chunks over requestTimeoutMs fails the download attempt", async () => {
    const chunks = ['{"markdown":"', "a".repeat(1000), '"}'];
    const fetch = fakeFetch((url, init) => {
      if (url.includes("/job/")) return json({ job_id: "d2", status: "completed", result: { is_url: true, url: "https://bucket.example.test/d2" } });
      return dripResponse(chunks, [10, 2000, 10], init.signal);
    });
    const { error, ms } = await timed(waitForJob("d2", { fetch, baseUrl: "https://api.example.test", requestTimeoutMs: 200, maxRetries: 0 }));
    await rejectsWith(PulseError, Promise.reject(error), "RESULT_DOWNLOAD_FAILED", { retryable: true });
    assert.ok(ms < 200 + SLACK + 500, `took ${ms} ms; the stall is 2000 ms`);
  });
});

describe("maxResultBytes and onDownloadProgress", { concurrency: true }, () => {
  test("Content-Length above maxResultBytes rejects RESULT_TOO_LARGE", async () => {
    const id = jid("large_200000");
    const progress = [];
    await rejectsWith(
      PulseError,
      waitForJob(id, opts({ maxResultBytes: 10_000, onDownloadProgress: (p) => progress.push(p.loaded) })),
      "RESULT_TOO_LARGE",
      { retryable: false, jobId: id },
    );
    assert.equal(m.storageFor(id).length, 1);
    assert.ok(progress.every((n) => n <= 10_000), `body read before rejecting: ${progress}`);
  });

  test("Content-Length above maxResultBytes rejects before reading the body (fake stream)", async () => {
    let pulled = 0;
    const fetch = fakeFetch((url) => {
      if (url.includes("/job/")) return json({ job_id: "c1", status: "completed", result: { is_url: true, url: "https://bucket.example.test/c1" } });
      const stream = new ReadableStream(
        {
          pull(c) {
            pulled += 1;
            c.enqueue(new Uint8Array(1024).fill(32));
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(stream, { status: 200, headers: { "content-length": String(1 << 20) } });
    });
    await rejectsWith(PulseError, waitForJob("c1", { fetch, baseUrl: "https://api.example.test", maxResultBytes: 4096 }), "RESULT_TOO_LARGE");
    assert.equal(pulled, 0, "body chunks were read although Content-Length was already too large");
    assert.equal(fetch.calls.length, 2, "not retried");
  });

  test("a chunked body growing past maxResultBytes is cancelled and rejects RESULT_TOO_LARGE", async () => {
    const id = jid("chunked_300000");
    await rejectsWith(PulseError, waitForJob(id, opts({ maxResultBytes: 20_000 })), "RESULT_TOO_LARGE", { retryable: false });
    assert.equal(m.storageFor(id).length, 1, "not retried");
  });

  test("a growing body is stopped without reading it all (fake stream)", async () => {
    let cancelled = false;
    let pulled = 0;
    const fetch = fakeFetch((url) => {
      if (url.includes("/job/")) return json({ job_id: "g1", status: "completed", result: { is_url: true, url: "https://bucket.example.test/g1" } });
      const stream = new ReadableStream({
        pull(c) {
          pulled += 1;
          if (pulled > 1000) return c.close();
          c.enqueue(new Uint8Array(1024).fill(32));
        },
        cancel() {
          cancelled = true;
        },
      });
      return new Response(stream, { status: 200 });
    });
    await rejectsWith(PulseError, waitForJob("g1", { fetch, baseUrl: "https://api.example.test", maxResultBytes: 8192 }), "RESULT_TOO_LARGE");
    assert.ok(pulled < 100, `read ${pulled} KiB with an 8 KiB limit`);
    assert.ok(cancelled, "body stream cancelled");
  });

  test("a result within maxResultBytes downloads fine", async () => {
    const id = jid("large_20000");
    const job = await waitForJob(id, opts({ maxResultBytes: 10_000_000 }));
    assert.notEqual(job.result.is_url, true);
  });

  test("onDownloadProgress reports loaded bytes up to total (Content-Length)", async () => {
    const id = jid("large_300000");
    const events = [];
    await waitForJob(id, opts({ onDownloadProgress: (p) => events.push({ ...p }) }));
    assert.ok(events.length >= 1);
    const last = events.at(-1);
    assert.equal(typeof last.total, "number");
    assert.ok(last.total >= 150_000 && last.total <= 600_000, `total ${last.total}`);
    assert.equal(last.loaded, last.total, "loaded reaches total");
    for (let i = 0; i < events.length; i++) {
      assert.equal(events[i].total, last.total);
      if (i) assert.ok(events[i].loaded >= events[i - 1].loaded, "loaded never decreases");
    }
  });

  test("onDownloadProgress reports total null without Content-Length", async () => {
    const id = jid("chunked_300000");
    const events = [];
    await waitForJob(id, opts({ onDownloadProgress: (p) => events.push({ ...p }) }));
    assert.ok(events.length >= 1);
    assert.ok(events.every((e) => e.total === null), `totals ${events.map((e) => e.total)}`);
    assert.ok(events.at(-1).loaded >= 150_000, `loaded ${events.at(-1).loaded}`);
  });

  test("onDownloadProgress sees bytes as they arrive (several events for a dripping body)", async () => {
    const chunks = ['{"markdown":"', "x".repeat(5000), "y".repeat(5000), '"}'];
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const fetch = fakeFetch((url, init) => {
      if (url.includes("/job/")) return json({ job_id: "p1", status: "completed", result: { is_url: true, url: "https://bucket.example.test/p1" } });
      return dripResponse(chunks, [5, 40, 40, 40], init.signal, { "content-length": String(total) });
    });
    const events = [];
    await waitForJob("p1", { fetch, baseUrl: "https://api.example.test", onDownloadProgress: (p) => events.push({ ...p }) });
    assert.ok(events.length >= 3, `${events.length} events`);
    assert.deepEqual(events.at(-1), { loaded: total, total });
  });

  test("an exception thrown by onDownloadProgress rejects with that exception", async () => {
    const id = jid("large_200000");
    const boom = new Error("progress boom");
    let err;
    try {
      await waitForJob(id, opts({ onDownloadProgress: () => { throw boom; } }));
    } catch (e) {
      err = e;
    }
    assert.equal(err, boom);
    assert.equal(m.storageFor(id).length, 1, "no retry after the callback threw");
  });
});
