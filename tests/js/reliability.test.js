// Issue 6 (reliability), over the built package: secrets and server text in
// error messages (section 2), result downloads — redirects, the https→http
// refusal, Pulse's single-use link, compressed bodies, the engine's string
// limit (section 3) — and the smaller holes: 204 on cancel, impossible
// statuses, a freed PulseClient (section 5).
//
// The redirect tests run the mock over https (a self-signed certificate made
// by the `openssl` CLI, see support/tls.js) with a plain-http server as the
// redirect target, so this file turns certificate checks off for its own
// process (node --test runs each file in a process of its own).

process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { opensslVersion, selfSignedCert } from "./support/tls.js";
import { callAsync, dripResponse, exitGuard, fakeFetch, json, rejectsWith, renderings, sleep } from "./support/util.js";
import { startMock } from "../../mock/server.js";

exitGuard();
const { esm, cjs } = await loadPulse();
const MODULES = [["ESM", esm], ["CJS", cjs]];
const { waitForJob, getJob, PulseError } = esm;

const KEY = "sk-live-echo-7f3a9c21";
const TENANT = "tenant-secret-4242";
const HDRS = { "x-tenant": TENANT };
const fast = { initialDelayMs: 5, multiplier: 1, jitter: 0 };
const apiSays = (status) => `the Pulse API answered HTTP ${status}: `;

let m; // the plain-http mock
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, headers: HDRS, ...fast, ...o });

// ---------------------------------------------------------------------------
// Section 2: secrets and server text in messages
// ---------------------------------------------------------------------------

describe("section 2: server text in error messages is cleaned", { concurrency: true }, () => {
  for (const [name, P] of MODULES) {
    test(`${name}: a 401 echoing the key and a custom header shows [redacted] in every rendering`, async () => {
      const id = jid("echo_401");
      const err = await rejectsWith(P.PulseError, P.waitForJob(id, opts()), "HTTP_ERROR", { httpStatus: 401, retryable: false, jobId: id });
      const poll = m.pollsFor(id)[0];
      assert.equal(poll.headers["x-api-key"], KEY, "precondition: the key went to the API");
      assert.equal(poll.headers["x-tenant"], TENANT, "precondition: the header went to the API");
      const text = renderings(err);
      assert.ok(!text.includes(KEY), `API key in the error:\n${text.slice(0, 2000)}`);
      assert.ok(!text.includes(TENANT), `x-tenant value in the error:\n${text.slice(0, 2000)}`);
      assert.equal(err.message, `${apiSays(401)}invalid api key [redacted] for tenant [redacted]`);
    });
  }

  test("cancelJob: the same echo on DELETE is cleaned too", async () => {
    const err = await rejectsWith(PulseError, esm.cancelJob(jid("echo_403"), opts()), "HTTP_ERROR", { httpStatus: 403 });
    assert.ok(!renderings(err).includes(KEY) && !renderings(err).includes(TENANT), renderings(err).slice(0, 2000));
    assert.equal(err.message, `${apiSays(403)}invalid api key [redacted] for tenant [redacted]`);
  });

  test("JOB_FAILED: the job's error echoing the key is cleaned in the message; err.job stays the server's own", async () => {
    // Only err.message (and what is built from it: String(err), err.stack) is
    // checked here, not renderings(err): the contract keeps `job` (and `cause`)
    // the server's own value, untouched, and this job's `error` contains the key,
    // so util.inspect(err) / JSON.stringify(err) show it through err.job by design.
    const id = jid("failedecho");
    const err = await rejectsWith(PulseError, waitForJob(id, opts()), "JOB_FAILED", { jobId: id, retryable: false });
    assert.ok(!err.message.includes(KEY), `API key in the message: ${err.message}`);
    assert.ok(err.message.includes("could not parse; key was [redacted]"), err.message);
    assert.ok(!String(err).includes(KEY), "API key in String(err)");
    assert.ok(!String(err.stack).includes(KEY), "API key in err.stack");
    assert.equal(err.job.error, `could not parse; key was ${KEY}`, "err.job is the server's job, untouched");
  });

  test("values under 4 characters are not redacted; the key and longer values are (fake fetch)", async () => {
    const fetch = fakeFetch(() => json({ error: `region eu1 denied for key ${KEY} (tenant ${TENANT})` }, { status: 401 }));
    const err = await rejectsWith(
      PulseError,
      getJob("r1", { fetch, apiKey: KEY, baseUrl: "https://api.example.test", headers: { "x-region": "eu1", "x-tenant": TENANT } }),
      "HTTP_ERROR",
      { httpStatus: 401 },
    );
    assert.equal(err.message, `${apiSays(401)}region eu1 denied for key [redacted] (tenant [redacted])`);
  });

  test("a network error's message echoing the key is cleaned; cause is the thrown value itself", async () => {
    const thrown = new TypeError(`connect ECONNREFUSED while sending ${KEY} for ${TENANT}`);
    const fetch = async () => {
      throw thrown;
    };
    const err = await rejectsWith(PulseError, waitForJob("n1", opts({ fetch, baseUrl: "https://api.example.test", maxRetries: 0 })), "NETWORK_ERROR");
    assert.ok(!err.message.includes(KEY), `API key in the message: ${err.message}`);
    assert.ok(!err.message.includes(TENANT), `header value in the message: ${err.message}`);
    assert.equal(err.cause, thrown, "cause is the platform's own error, untouched");
  });

  test("a FastAPI validation array is rendered `loc.joined: msg; ...`", async () => {
    const err = await rejectsWith(PulseError, waitForJob(jid("fastapi_422"), opts()), "HTTP_ERROR", { httpStatus: 422, retryable: false });
    assert.equal(err.message, `${apiSays(422)}body.file_url: field required; query.pages: must be positive`);
  });

  test("an error object's message is used", async () => {
    const err = await rejectsWith(PulseError, waitForJob(jid("errobj_400"), opts()), "HTTP_ERROR", { httpStatus: 400, retryable: false });
    assert.equal(err.message, `${apiSays(400)}Slow down please`);
    const limited = await rejectsWith(PulseError, getJob(jid("errobj_429"), opts()), "HTTP_ERROR", { httpStatus: 429, retryable: true });
    assert.equal(limited.message, `${apiSays(429)}Slow down please`);
  });

  test("ANSI escapes are removed, control characters become spaces, white space collapses", async () => {
    const err = await rejectsWith(PulseError, waitForJob(jid("ansi_400"), opts()), "HTTP_ERROR", { httpStatus: 400 });
    assert.ok(!err.message.includes("\u001b"), JSON.stringify(err.message));
    assert.ok(!err.message.includes("\u0007"), JSON.stringify(err.message));
    assert.ok(!err.message.includes("\n"), JSON.stringify(err.message));
    assert.ok(err.message.includes("red text with newline"), JSON.stringify(err.message));
    assert.equal(err.message, `${apiSays(400)}red text with newline`);
  });

  test("long server text is cut to 500 characters plus an ellipsis", async () => {
    const id = jid("long_400");
    const served = (await (await fetch(`${m.apiUrl}/job/${encodeURIComponent(`${id}-direct`)}`)).json()).error;
    assert.equal(served.length, 5000, "precondition: the mock's long error");
    const err = await rejectsWith(PulseError, waitForJob(id, opts()), "HTTP_ERROR", { httpStatus: 400 });
    assert.ok(err.message.startsWith(apiSays(400)), err.message.slice(0, 100));
    assert.ok(err.message.endsWith("…"), `no ellipsis: ...${err.message.slice(-40)}`);
    const server = err.message.slice(apiSays(400).length, -1);
    assert.ok(server.length <= 500, `${server.length} characters of server text`);
    assert.ok(served.startsWith(server), "the cut text is the start of the server's");
    assert.equal(err.message, `${apiSays(400)}${served.slice(0, 500)}…`);
    assert.ok(!err.message.includes("END-OF-ERROR"));
  });
});

// ---------------------------------------------------------------------------
// Section 3: downloads
// ---------------------------------------------------------------------------

const HAVE_OPENSSL = opensslVersion() !== null;

describe("section 3: result redirects (mock over https)", { concurrency: true, skip: !HAVE_OPENSSL && "the openssl CLI is missing" }, () => {
  let tls; // startMock({ tls }) result
  let plain; // plain-http server, the target of dlredirect_http
  const plainHits = [];
  const reqs = (id, side) => tls.mock.requests.filter((r) => r.jobId === id && (!side || r.side === side));
  const polls = (id) => reqs(id, "api").filter((r) => r.method === "GET" && r.path.startsWith("/job/"));
  const topts = (o = {}) => ({ apiKey: KEY, baseUrl: tls.apiUrl, headers: HDRS, ...fast, ...o });

  before(async () => {
    plain = http.createServer((req, res) => {
      plainHits.push({ url: req.url, headers: req.headers });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ markdown: "served over plain http", page_count: 1 }));
    });
    await new Promise((r) => plain.listen(0, "127.0.0.1", r));
    tls = await startMock({ tls: selfSignedCert(), plainStorageBase: `http://127.0.0.1:${plain.address().port}` });
  });
  after(async () => {
    await tls?.close();
    plain?.closeAllConnections();
    await new Promise((r) => (plain ? plain.close(() => r()) : r()));
  });

  test("https baseUrl, storage redirecting to plain http: refused before any request to it (302, not retryable)", async () => {
    const id = jid("dlredirect_http_20000");
    assert.ok(tls.apiUrl.startsWith("https://"));
    await rejectsWith(PulseError, waitForJob(id, topts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 302, retryable: false, jobId: id });
    await sleep(50);
    assert.deepEqual(plainHits.filter((h) => h.url.includes(encodeURIComponent(id))), [], "the plain-http target was asked");
    assert.deepEqual(reqs(id, "storage").map((r) => [r.path, r.status]), [[`/result/${id}?token=1`, 302]]);
  });

  test("https → https redirect is followed; no hop gets the key or headers", async () => {
    const id = jid("dlredirect_https_50000");
    const job = await waitForJob(id, topts());
    assert.equal(job.status, "completed");
    assert.notEqual(job.result.is_url, true);
    assert.equal(JSON.stringify(job.result).length, 50_000, "the whole result arrived");
    const dl = reqs(id, "storage");
    assert.deepEqual(dl.map((r) => [r.path, r.status]), [[`/result/${id}?token=1`, 302], [`/result/${id}?token=2`, 200]]);
    for (const r of dl) {
      assert.equal(r.headers["x-api-key"], undefined, `key sent to ${r.path}`);
      assert.equal(r.headers["x-tenant"], undefined, `header sent to ${r.path}`);
    }
  });

  test("a relative Location is resolved against the current URL", async () => {
    const id = jid("dlredirect_rel_40000");
    const job = await waitForJob(id, topts());
    assert.equal(JSON.stringify(job.result).length, 40_000);
    assert.deepEqual(reqs(id, "storage").map((r) => r.path), [`/result/${id}?token=1`, `/result/${id}?token=2`]);
  });

  test("a redirect loop rejects RESULT_DOWNLOAD_FAILED after at most 5 hops", async () => {
    const id = jid("dlredirect_loop");
    // maxRetries 0: whether a loop counts as transient is not specified; the hop limit is what is measured.
    await rejectsWith(PulseError, waitForJob(id, topts({ maxRetries: 0 })), "RESULT_DOWNLOAD_FAILED", { jobId: id });
    await sleep(50);
    const dl = reqs(id, "storage");
    assert.equal(dl.length, 6, `the first request and 5 followed hops, got ${dl.length} requests: ${dl.map((r) => r.path).join(" ")}`);
    assert.ok(dl.every((r) => r.headers["x-api-key"] === undefined));
    assert.equal(polls(id).length, 1, "a redirect loop is not an expired URL: no re-poll");
  });

  test("an API-origin result URL redirecting to storage: the API hop gets the key, storage gets none", async () => {
    const id = jid("proxyredirect_40000");
    const job = await waitForJob(id, topts());
    assert.equal(job.status, "completed");
    assert.equal(JSON.stringify(job.result).length, 40_000);
    const hop = reqs(id, "api").filter((r) => r.path.startsWith("/proxy/"));
    assert.equal(hop.length, 1);
    assert.equal(hop[0].status, 302);
    assert.equal(hop[0].headers["x-api-key"], KEY, "the API-origin hop carries the key");
    assert.equal(hop[0].headers["x-tenant"], TENANT, "the API-origin hop carries the custom headers");
    const dl = reqs(id, "storage");
    assert.equal(dl.length, 1);
    assert.equal(dl[0].status, 200);
    assert.equal(dl[0].headers["x-api-key"], undefined, "API key followed the redirect to storage");
    assert.equal(dl[0].headers["x-tenant"], undefined, "custom header followed the redirect to storage");
  });
});

describe("section 3: Pulse's single-use result link (410)", { concurrency: true }, () => {
  for (const [name, P] of MODULES) {
    test(`${name}: the first wait downloads it (with the key), getJob does not consume it, a second wait rejects 410 without re-polling`, async () => {
      const id = jid("singleuse_30000");
      const pointer = await P.getJob(id, opts());
      assert.deepEqual(pointer.result, { is_url: true, url: `${m.apiUrl}/large_results/${id}` });
      await sleep(20);
      assert.equal(m.apiFor(id).filter((r) => r.path.startsWith("/large_results/")).length, 0, "getJob used the link");

      const job = await P.waitForJob(id, opts());
      assert.equal(job.status, "completed");
      assert.notEqual(job.result.is_url, true);
      assert.equal(JSON.stringify(job.result).length, 30_000, "the full result was downloaded");
      const link = m.apiFor(id).filter((r) => r.path.startsWith("/large_results/"));
      assert.equal(link.length, 1);
      assert.equal(link[0].status, 200);
      assert.equal(link[0].headers["x-api-key"], KEY, "the link is on the API origin: the key goes with it");

      const pollsBefore = m.pollsFor(id).length;
      const err = await rejectsWith(P.PulseError, P.waitForJob(id, opts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 410, retryable: false, jobId: id });
      assert.match(err.message, /single-use/i);
      assert.match(err.message, /already used|expired/i);
      assert.equal(m.pollsFor(id).length - pollsBefore, 1, "the second wait polled exactly once (no re-poll after a 410)");
      assert.equal(m.apiFor(id).filter((r) => r.path.startsWith("/large_results/")).length, 2);
    });
  }
});

describe("section 3: compressed downloads (Content-Encoding)", { concurrency: true }, () => {
  const B = 300_000; // the mock's document is exactly B bytes of JSON once decoded

  // Content-Length of the compressed body as the storage sends it.
  async function compressedLength(id) {
    const pointer = await getJob(id, opts());
    const res = await fetch(pointer.result.url);
    await res.body.cancel();
    assert.ok(res.headers.get("content-encoding"), "precondition: the mock compresses");
    const length = Number(res.headers.get("content-length"));
    assert.ok(length > 0 && length < B / 4, `precondition: compressed ${length} << decoded ${B}`);
    return length;
  }

  for (const scenario of ["dlgzip", "dlbr"]) {
    test(`${scenario}: progress has total null and loaded counting decoded bytes; the result arrives whole`, async () => {
      const id = jid(`${scenario}_${B}`);
      const events = [];
      const job = await waitForJob(id, opts({ onDownloadProgress: (p) => events.push({ ...p }) }));
      assert.equal(JSON.stringify(job.result).length, B);
      assert.ok(events.length >= 1);
      assert.deepEqual(events.filter((e) => e.total !== null), [], "total must be null with a Content-Encoding");
      assert.equal(events.at(-1).loaded, B, "the last loaded is the decoded length");
      for (let i = 1; i < events.length; i++) assert.ok(events[i].loaded >= events[i - 1].loaded);
    });

    test(`${scenario}: maxResultBytes is checked against decoded bytes only`, async () => {
      const compressed = await compressedLength(jid(`${scenario}_${B}`));
      await rejectsWith(PulseError, waitForJob(jid(`${scenario}_${B}`), opts({ maxResultBytes: B - 1 })), "RESULT_TOO_LARGE", { retryable: false });
      const between = Math.floor((compressed + B) / 2);
      await rejectsWith(PulseError, waitForJob(jid(`${scenario}_${B}`), opts({ maxResultBytes: between })), "RESULT_TOO_LARGE", { retryable: false });
      const job = await waitForJob(jid(`${scenario}_${B}`), opts({ maxResultBytes: B }));
      assert.equal(JSON.stringify(job.result).length, B);
    });
  }
});

describe("section 3: progress totals never lie", { concurrency: true }, () => {
  test("without Content-Encoding, loaded never exceeds a reported total (a short Content-Length turns total to null)", async () => {
    const body = JSON.stringify({ markdown: "x".repeat(5000) });
    const fetch = fakeFetch((url, init) => {
      if (url.includes("/job/")) return json({ job_id: "cl", status: "completed", result: { is_url: true, url: "https://bucket.example.test/cl" } });
      const half = body.length / 2;
      const res = dripResponse([body.slice(0, half), body.slice(half)], [5, 5], init.signal, { "content-length": "1000" });
      return res;
    });
    const events = [];
    const job = await waitForJob("cl", { fetch, baseUrl: "https://api.example.test", onDownloadProgress: (p) => events.push({ ...p }) });
    assert.equal(job.result.markdown.length, 5000);
    assert.ok(events.length >= 1);
    for (const e of events) assert.ok(e.total === null || e.loaded <= e.total, `loaded ${e.loaded} > total ${e.total}`);
    assert.equal(events.at(-1).loaded, body.length);
  });

  test("onDownloadProgress is called as a plain function (this is undefined)", async () => {
    const body = JSON.stringify({ markdown: "y".repeat(100) });
    const fetch = fakeFetch((url, init) => {
      if (url.includes("/job/")) return json({ job_id: "pt", status: "completed", result: { is_url: true, url: "https://bucket.example.test/pt" } });
      return dripResponse([body], [5], init.signal);
    });
    const receivers = [];
    await waitForJob("pt", {
      fetch,
      baseUrl: "https://api.example.test",
      onDownloadProgress() {
        receivers.push(this);
      },
    });
    assert.ok(receivers.length >= 1);
    assert.ok(receivers.every((r) => r === undefined), "a progress call saw a receiver");
  });
});

describe("section 3: a result past the engine's string limit", () => {
  test("~540 MiB of JSON text rejects RESULT_TOO_LARGE with the engine's error as cause", { timeout: 180_000 }, async () => {
    const MiB = 1024 * 1024;
    const big = new Uint8Array(64 * MiB).fill(0x61); // "aaaa…" inside a JSON string; one buffer reused
    const enc = new TextEncoder();
    const chunks = [enc.encode('{"markdown":"'), ...Array(8).fill(big), big.subarray(0, 28 * MiB), enc.encode('"}')];
    const total = chunks.reduce((n, c) => n + c.length, 0);
    assert.ok(total > 540 * MiB && total > 2 ** 29, `precondition: ${total} bytes is past V8's string limit`);
    const fetch = fakeFetch((url) => {
      if (url.includes("/job/")) return json({ job_id: "huge", status: "completed", result: { is_url: true, url: "https://bucket.example.test/huge" } });
      let i = 0;
      const stream = new ReadableStream(
        {
          pull(c) {
            if (i >= chunks.length) return c.close();
            c.enqueue(chunks[i++]);
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(stream, { status: 200, headers: { "content-type": "application/json" } }); // no Content-Length
    });
    const err = await rejectsWith(PulseError, waitForJob("huge", { fetch, baseUrl: "https://api.example.test", maxRetries: 0 }), "RESULT_TOO_LARGE", { retryable: false });
    assert.ok(err.cause instanceof Error, `cause must be the engine's Error, got ${String(err.cause)}`);
    assert.equal(fetch.calls.length, 2, "one poll, one download: not retried");
  });
});

// ---------------------------------------------------------------------------
// Section 5: smaller holes
// ---------------------------------------------------------------------------

describe("section 5: smaller holes", { concurrency: true }, () => {
  for (const [name, P] of MODULES) {
    test(`${name}: cancelJob answered 204 No Content resolves { job_id, message }`, async () => {
      const id = jid("cancel204");
      const r = await P.cancelJob(id, opts());
      assert.equal(r.job_id, id);
      assert.equal(typeof r.message, "string");
      assert.ok(r.message.length > 0, "message must not be empty");
      const del = m.apiFor(id).filter((x) => x.method === "DELETE");
      assert.equal(del.length, 1);
      assert.equal(del[0].status, 204, "precondition: the mock answered 204");
    });
  }

  test("cancelJob answered 200 with an empty body resolves { job_id, message } too (fake fetch)", async () => {
    const fetch = fakeFetch(() => new Response("", { status: 200 }));
    const r = await esm.cancelJob("e200", { fetch, baseUrl: "https://api.example.test" });
    assert.equal(r.job_id, "e200");
    assert.ok(typeof r.message === "string" && r.message.length > 0);
  });

  // `new Response` refuses these statuses, so the fake fetch answers a plain object.
  function oddResponse(status, url) {
    const text = JSON.stringify({ job_id: "odd", status: "completed", result: { markdown: "x" } });
    return {
      status,
      ok: true,
      statusText: "OK",
      url,
      redirected: false,
      type: "basic",
      headers: new Headers({ "content-type": "application/json" }),
      body: new Response(text).body,
      text: async () => text,
      json: async () => JSON.parse(text),
      arrayBuffer: async () => new TextEncoder().encode(text).buffer,
    };
  }

  for (const status of [65736, 200.5, "200", 99, 600]) {
    test(`a Response status ${JSON.stringify(status)} is INVALID_RESPONSE, never a success`, async () => {
      const fetch = fakeFetch((url) => oddResponse(status, url));
      await rejectsWith(PulseError, getJob("odd", { fetch, baseUrl: "https://api.example.test" }), "INVALID_RESPONSE", { retryable: false });
      await rejectsWith(PulseError, waitForJob("odd", { fetch, baseUrl: "https://api.example.test", ...fast }), "INVALID_RESPONSE", { retryable: false });
      assert.equal(fetch.calls.length, 2, "not retried");
    });
  }

  for (const [name, P] of MODULES) {
    for (const how of ["free()", "[Symbol.dispose]()"]) {
      test(`${name}: after client.${how} every method rejects INVALID_ARGUMENT; a second free() does nothing`, async () => {
        const client = new P.PulseClient({ apiKey: KEY, baseUrl: m.apiUrl });
        if (how === "free()") client.free();
        else {
          assert.equal(typeof client[Symbol.dispose], "function", "PulseClient has [Symbol.dispose]");
          client[Symbol.dispose]();
        }
        const ids = { waitForJob: jid("ok"), getJob: jid("ok"), cancelJob: jid("steps_5") };
        for (const [method, id] of Object.entries(ids)) {
          const err = await rejectsWith(P.PulseError, callAsync(() => client[method](id, method === "waitForJob" ? fast : {})), "INVALID_ARGUMENT", { retryable: false });
          assert.match(err.message, /freed/, `${method}: ${err.message}`);
          assert.equal(m.requestsFor(id).length, 0, `${method} sent a request`);
        }
        assert.doesNotThrow(() => client.free(), "a second free() throws");
        if (typeof client[Symbol.dispose] === "function") assert.doesNotThrow(() => client[Symbol.dispose]());
        await rejectsWith(P.PulseError, callAsync(() => client.getJob(jid("ok"))), "INVALID_ARGUMENT");
      });
    }
  }
});
