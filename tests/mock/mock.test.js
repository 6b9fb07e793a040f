// Self-test of the local Pulse mock: every scenario over real sockets with the
// global fetch. Run with `node --test tests/mock/`.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { createMock, mountMock, startMock } from "../../mock/server.js";
import { opensslVersion, selfSignedCert } from "../js/support/tls.js";

const SERVER_JS = fileURLToPath(new URL("../../mock/server.js", import.meta.url));

let server; // { apiUrl, storageUrl, mock, close }
let nonce = 0;
const unique = (name) => `${name}-t${++nonce}`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const get = (url, init) => fetch(url, init);
const poll = (id, init) => get(`${server.apiUrl}/job/${encodeURIComponent(id)}`, init);
const pollJson = async (id, init) => (await poll(id, init)).json();

async function statuses(id, times) {
  const seen = [];
  for (let i = 0; i < times; i++) seen.push((await pollJson(id)).status);
  return seen;
}

async function records(query = "") {
  const res = await get(`${server.apiUrl}/__mock/requests${query}`);
  assert.equal(res.status, 200);
  return res.json();
}

async function eventually(check, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail("condition not met in time");
    await sleep(20);
  }
}

// Reads a body until it stops arriving; returns the bytes received.
async function readUntilStall(res, stallMs = 300) {
  const reader = res.body.getReader();
  let received = 0;
  for (;;) {
    const timer = sleep(stallMs).then(() => "stalled");
    const next = await Promise.race([reader.read(), timer]);
    if (next === "stalled") {
      await reader.cancel().catch(() => {});
      return { received, stalled: true };
    }
    if (next.done) return { received, stalled: false };
    received += next.value.length;
  }
}

function assertResultDocument(doc) {
  assert.equal(typeof doc.markdown, "string");
  assert.match(doc.markdown, /^# Mock extraction result/);
  assert.match(doc.markdown, /## Page 1/);
  assert.equal(typeof doc.page_count, "number");
  assert.ok(Array.isArray(doc.chunks) && doc.chunks.length > 0);
}

before(async () => {
  server = await startMock();
});

after(async () => {
  await server.close();
});

describe("job polling scenarios", () => {
  it("ok completes at once with a small result", async () => {
    const id = unique("ok");
    const res = await poll(id);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const job = await res.json();
    assert.equal(job.job_id, id);
    assert.equal(job.status, "completed");
    assert.ok(!Number.isNaN(Date.parse(job.created_at)) && !Number.isNaN(Date.parse(job.updated_at)));
    assertResultDocument(job.result);
  });

  it("steps_N goes pending, processing..., completed", async () => {
    assert.deepEqual(await statuses(unique("steps_3"), 5), ["pending", "processing", "processing", "completed", "completed"]);
    assert.deepEqual(await statuses(unique("steps"), 3), ["pending", "processing", "completed"]);
  });

  it("terminal statuses: failed, canceled, cancelled, expired", async () => {
    const failed = await pollJson(unique("failed"));
    assert.equal(failed.status, "failed");
    assert.equal(failed.error, "Document could not be parsed");
    assert.equal((await pollJson(unique("canceled"))).status, "canceled");
    assert.equal((await pollJson(unique("cancelled"))).status, "cancelled");
    const expired = await pollJson(unique("expired"));
    assert.equal(expired.status, "expired");
    assert.equal(typeof expired.result, "object");
  });

  it("unknown_N reports an unknown status N times", async () => {
    assert.deepEqual(await statuses(unique("unknown_2"), 3), ["queued_for_review", "queued_for_review", "completed"]);
  });

  it("flaky_N answers 500, 502, 503, 504 in turn with a JSON error", async () => {
    const id = unique("flaky_5");
    for (const expected of [500, 502, 503, 504, 500]) {
      const res = await poll(id);
      assert.equal(res.status, expected);
      assert.equal((await res.json()).error, `mock transient ${expected}`);
    }
    assert.equal((await pollJson(id)).status, "completed");
  });

  it("status_C, detail_C and text_C answer C every time", async () => {
    for (const code of [400, 401, 403, 404, 408, 429]) {
      const id = unique(`status_${code}`);
      for (let i = 0; i < 2; i++) {
        const res = await poll(id);
        assert.equal(res.status, code);
        assert.deepEqual(await res.json(), { error: `mock status ${code}` });
      }
    }
    const detail = await poll(unique("detail_422"));
    assert.equal(detail.status, 422);
    assert.deepEqual(await detail.json(), { detail: "mock detail 422" });
    const text = await poll(unique("text_502"));
    assert.equal(text.status, 502);
    assert.match(text.headers.get("content-type"), /^text\/plain/);
    assert.equal(await text.text(), "mock text 502");
  });

  it("Retry-After: retry429_S, retrydate_S, retryok_S", async () => {
    const r429 = unique("retry429_7");
    let res = await poll(r429);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
    assert.match(res.headers.get("access-control-expose-headers"), /Retry-After/);
    await res.body.cancel();
    assert.equal((await pollJson(r429)).status, "completed");

    const rdate = unique("retrydate_30");
    res = await poll(rdate);
    assert.equal(res.status, 503);
    const ahead = Date.parse(res.headers.get("retry-after")) - Date.now();
    assert.ok(ahead > 29_000 && ahead <= 31_000, `Retry-After date ${ahead} ms ahead`);
    await res.body.cancel();
    assert.equal((await pollJson(rdate)).status, "completed");

    const rok = unique("retryok_4");
    res = await poll(rok);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("retry-after"), "4");
    assert.equal((await res.json()).status, "processing");
    assert.equal((await pollJson(rok)).status, "completed");
  });

  it("notjson and nostatus", async () => {
    const html = await poll(unique("notjson"));
    assert.equal(html.status, 200);
    assert.match(html.headers.get("content-type"), /^text\/html/);
    const page = await html.text();
    assert.match(page, /^<!doctype html>/);
    assert.throws(() => JSON.parse(page), SyntaxError);
    const body = await pollJson(unique("nostatus"));
    assert.equal(body.status, undefined);
  });

  it("unknown names and malformed parameters answer 404 Job not found", async () => {
    for (const id of [unique("nosuchscenario"), unique("status_abc"), unique("status"), unique("steps_1_2_3"), unique("badurl_gopher")]) {
      const res = await poll(id);
      assert.equal(res.status, 404, id);
      assert.deepEqual(await res.json(), { error: "Job not found" });
    }
  });

  it("percent-encoded ids are decoded, state is per whole id", async () => {
    const id = `steps_1-a b/c`;
    assert.equal((await pollJson(id)).job_id, id);
    assert.equal((await pollJson(id)).status, "completed");
    assert.equal((await pollJson("steps_1-other")).status, "pending");
  });

  it("inline_B embeds a result of exactly B bytes", async () => {
    const job = await pollJson(unique("inline_300000"));
    assert.equal(job.status, "completed");
    assertResultDocument(job.result);
    assert.equal(JSON.stringify(job.result).length, 300_000);
  });
});

describe("connection-level failures", () => {
  it("hang never answers and records closedEarly when the client leaves", async () => {
    const id = unique("hang");
    await assert.rejects(poll(id, { signal: AbortSignal.timeout(150) }), { name: "TimeoutError" });
    await eventually(async () => (await records(`?job=${id}`))[0]?.closedEarly === true);
    const [record] = await records(`?job=${id}`);
    assert.equal(record.status, null);
  });

  it("stall_N sends headers and half a body, then completes on poll N+1", async () => {
    const id = unique("stall_1");
    const res = await poll(id);
    assert.equal(res.status, 200);
    const length = Number(res.headers.get("content-length"));
    const { received, stalled } = await readUntilStall(res);
    assert.ok(stalled);
    assert.ok(received > 0 && received < length, `${received} of ${length}`);
    assert.equal((await pollJson(id)).status, "completed");
    await eventually(async () => (await records(`?job=${id}`))[0]?.closedEarly === true);
  });

  it("cut_N destroys the socket N times without a response", async () => {
    const id = unique("cut_2");
    await assert.rejects(poll(id), TypeError);
    await assert.rejects(poll(id), TypeError);
    assert.equal((await pollJson(id)).status, "completed");
    const recs = await records(`?job=${id}`);
    assert.equal(recs.length, 3);
    assert.deepEqual(recs.map((r) => r.closedEarly), [false, false, false]);
    assert.deepEqual(recs.map((r) => r.status), [null, null, 200]);
  });
});

describe("large results", () => {
  async function pointerOf(id, init) {
    const job = await pollJson(id, init);
    assert.equal(job.status, "completed");
    assert.equal(job.result.is_url, true);
    return job.result.url;
  }

  it("large_B points at storage, which sends B bytes with Content-Length", async () => {
    const id = unique("large_250000");
    const url = await pointerOf(id, { headers: { "X-Api-Key": "k1" } });
    assert.equal(url, `${server.storageUrl}/result/${id}?token=1`);
    const res = await get(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("content-length"), "250000");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const text = await res.text();
    assert.equal(text.length, 250_000);
    assertResultDocument(JSON.parse(text));
    const [apiRecord, storageRecord] = await records(`?job=${id}`);
    assert.equal(apiRecord.side, "api");
    assert.equal(apiRecord.headers["x-api-key"], "k1");
    assert.equal(storageRecord.side, "storage");
    assert.equal(storageRecord.path, `/result/${id}?token=1`);
    assert.equal(storageRecord.headers["x-api-key"], undefined);
    const again = await (await get(url)).text();
    assert.equal(again, text, "deterministic");
  });

  it("chunked_B sends no Content-Length", async () => {
    const url = await pointerOf(unique("chunked_1000000"));
    const res = await get(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), null);
    assert.equal(res.headers.get("transfer-encoding"), "chunked");
    assert.equal((await res.arrayBuffer()).byteLength, 1_000_000);
  });

  it("proxy_B points at the API origin", async () => {
    const id = unique("proxy_50000");
    const url = await pointerOf(id);
    assert.equal(url, `${server.apiUrl}/proxy/result/${id}`);
    const res = await get(url, { headers: { "x-api-key": "k2" } });
    assert.equal(res.headers.get("content-length"), "50000");
    assert.equal((await res.text()).length, 50_000);
    const recs = await records(`?job=${id}&side=api`);
    assert.deepEqual(recs.map((r) => r.path), [`/job/${id}`, `/proxy/result/${id}`]);
    assert.equal(recs[1].headers["x-api-key"], "k2");
  });

  it("20 MB and 50 MB bodies are served quickly", async () => {
    for (const size of [20_000_000, 50_000_000]) {
      const started = Date.now();
      const res = await get(await pointerOf(unique(`large_${size}`)));
      assert.equal(res.headers.get("content-length"), String(size));
      assert.equal((await res.arrayBuffer()).byteLength, size);
      assert.ok(Date.now() - started < 10_000, `${size} bytes took ${Date.now() - started} ms`);
    }
  });

  it("presign: the first URL is expired, later polls hand out working ones", async () => {
    const id = unique("presign");
    const first = await pointerOf(id);
    assert.match(first, /\?token=1$/);
    assert.equal((await get(first)).status, 403);
    const second = await pointerOf(id);
    assert.match(second, /\?token=2$/);
    const res = await get(second);
    assert.equal(res.status, 200);
    assertResultDocument(await res.json());
  });

  it("presignstale: every URL is expired, each poll brings a new one", async () => {
    const id = unique("presignstale");
    const urls = [await pointerOf(id), await pointerOf(id)];
    assert.notEqual(urls[0], urls[1]);
    for (const url of urls) assert.equal((await get(url)).status, 403);
  });

  it("presignsame: the same expired URL every time", async () => {
    const id = unique("presignsame");
    const urls = [await pointerOf(id), await pointerOf(id)];
    assert.equal(urls[0], urls[1]);
    assert.equal((await get(urls[0])).status, 403);
  });

  it("dlflaky_N, dl429_S and dlstatus_C", async () => {
    const flaky = await pointerOf(unique("dlflaky_2"));
    assert.deepEqual([(await get(flaky)).status, (await get(flaky)).status, (await get(flaky)).status], [503, 503, 200]);

    const limited = await pointerOf(unique("dl429_3"));
    const first = await get(limited);
    assert.equal(first.status, 429);
    assert.equal(first.headers.get("retry-after"), "3");
    assert.equal((await get(limited)).status, 200);

    const gone = await pointerOf(unique("dlstatus_410"));
    assert.equal((await get(gone)).status, 410);
    assert.equal((await get(gone)).status, 410);
  });

  it("dlstall_B sends Content-Length B and part of the body, then stalls", async () => {
    const id = unique("dlstall_200000");
    const res = await get(await pointerOf(id));
    assert.equal(res.headers.get("content-length"), "200000");
    const { received, stalled } = await readUntilStall(res);
    assert.ok(stalled);
    assert.ok(received > 0 && received < 200_000, `received ${received}`);
    await eventually(async () => (await records(`?job=${id}&side=storage`))[0]?.closedEarly === true);
  });

  it("dlcut_B cuts the first download, then serves it whole", async () => {
    const url = await pointerOf(unique("dlcut_200000"));
    const res = await get(url);
    assert.equal(res.headers.get("content-length"), "200000");
    await assert.rejects(res.arrayBuffer());
    const whole = await get(url);
    assert.equal((await whole.arrayBuffer()).byteLength, 200_000);
  });

  it("badurl_X hands out unusable URLs", async () => {
    assert.match(await pointerOf(unique("badurl_ftp")), /^ftp:\/\//);
    assert.match(await pointerOf(unique("badurl_rel")), /^\/result\//);
    assert.equal(await pointerOf(unique("badurl_num")), 12345);
  });

  it("storage answers 404 for ids without a download", async () => {
    assert.equal((await get(`${server.storageUrl}/result/ok-x`)).status, 404);
    assert.equal((await get(`${server.storageUrl}/result/nosuch-x`)).status, 404);
    assert.equal((await get(`${server.storageUrl}/elsewhere`)).status, 404);
  });
});

describe("DELETE, keys, CORS, recording", () => {
  it("DELETE cancels; later GETs answer canceled", async () => {
    const id = unique("steps_5");
    assert.equal((await pollJson(id)).status, "pending");
    const res = await poll(id, { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { job_id: id, message: "Job canceled" });
    assert.equal((await pollJson(id)).status, "canceled");
  });

  it("DELETE of status_C answers C, of unknown ids 404", async () => {
    const res = await poll(unique("status_403"), { method: "DELETE" });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { error: "mock status 403" });
    assert.equal((await poll(unique("nosuch"), { method: "DELETE" })).status, 404);
  });

  it("an x-api-key of `wrong` gets 401 on any API route, not on storage", async () => {
    const headers = { "x-api-key": "wrong" };
    for (const path of ["/job/ok-w", "/job/nosuch", "/proxy/result/proxy_100-w", "/extract", "/anything"]) {
      const res = await get(`${server.apiUrl}${path}`, { headers, method: path === "/extract" ? "POST" : "GET" });
      assert.equal(res.status, 401, path);
      assert.deepEqual(await res.json(), { error: "Invalid API key" });
    }
    assert.equal((await poll(unique("ok"), { headers: { "x-api-key": "right" } })).status, 200);
    assert.equal((await get(`${server.storageUrl}/result/large_100-w`, { headers })).status, 200);
  });

  it("preflights reflect the requested headers on both sides", async () => {
    for (const base of [server.apiUrl, server.storageUrl]) {
      const res = await get(`${base}/job/ok`, {
        method: "OPTIONS",
        headers: { origin: "http://page.test", "access-control-request-method": "GET", "access-control-request-headers": "x-api-key, x-extra" },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.equal(res.headers.get("access-control-allow-headers"), "x-api-key, x-extra");
      for (const method of ["GET", "POST", "DELETE"]) assert.match(res.headers.get("access-control-allow-methods"), new RegExp(method));
      assert.equal(res.headers.get("access-control-expose-headers"), "Retry-After, Content-Length, Content-Encoding");
    }
  });

  it("records every request with the contract's fields, filterable by job", async () => {
    const id = unique("steps_1");
    await poll(id, { headers: { "X-Custom-Header": "v" } });
    await poll(`${id}-other`);
    const [record, ...rest] = await records(`?job=${encodeURIComponent(id)}`);
    assert.equal(rest.length, 0);
    assert.equal(record.side, "api");
    assert.equal(record.method, "GET");
    assert.equal(record.path, `/job/${id}`);
    assert.equal(record.jobId, id);
    assert.equal(record.headers["x-custom-header"], "v");
    assert.equal(typeof record.at, "number");
    assert.ok(Math.abs(record.at - Date.now()) < 5000);
    assert.equal(record.closedEarly, false);
    assert.ok(server.mock.requests.some((r) => r.jobId === id), "mock.requests is the live log");
    const all = await records();
    assert.ok(all.every((r) => !r.path.startsWith("/__mock/")), "control requests are not recorded");
  });

  it("reset clears the records and the job state", async () => {
    const id = unique("steps_2");
    assert.deepEqual(await statuses(id, 2), ["pending", "processing"]);
    const res = await get(`${server.apiUrl}/__mock/reset`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.deepEqual(await records(), []);
    assert.equal(server.mock.requests.length, 0);
    assert.equal((await pollJson(id)).status, "pending");
    server.mock.reset();
    assert.deepEqual(await records(), []);
  });
});

// A GET that does not decode bodies nor follow redirects (fetch does both); also
// for the https mock, whose self-signed certificate it does not check.
function rawGet(url, headers = {}) {
  const { request } = url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, rejectUnauthorized: false }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("issue 6 scenarios: error bodies", () => {
  it("echo_C echoes the request's x-api-key and x-tenant in a C error, on GET and DELETE", async () => {
    const id = unique("echo_401");
    const headers = { "x-api-key": "sk-echo-1234", "x-tenant": "tenant-secret-4242" };
    for (const method of ["GET", "DELETE", "GET"]) {
      const res = await poll(id, { method, headers });
      assert.equal(res.status, 401, method);
      assert.deepEqual(await res.json(), { error: "invalid api key sk-echo-1234 for tenant tenant-secret-4242" });
    }
    const bare = await poll(unique("echo_403"), { headers: { "x-api-key": "k-only" } });
    assert.equal(bare.status, 403);
    assert.deepEqual(await bare.json(), { error: "invalid api key k-only" });
    assert.deepEqual(await (await poll(unique("echo_401"))).json(), { error: "invalid api key (none)" });
    assert.equal((await poll(unique("echo"))).status, 404, "C is required");
  });

  it("fastapi_C answers a FastAPI validation array", async () => {
    const res = await poll(unique("fastapi_422"));
    assert.equal(res.status, 422);
    assert.deepEqual(await res.json(), {
      detail: [
        { loc: ["body", "file_url"], msg: "field required", type: "value_error.missing" },
        { loc: ["query", "pages"], msg: "must be positive", type: "value_error" },
      ],
    });
  });

  it("errobj_C answers an error object", async () => {
    const id = unique("errobj_429");
    for (const method of ["GET", "DELETE"]) {
      const res = await poll(id, { method });
      assert.equal(res.status, 429);
      assert.deepEqual(await res.json(), { error: { code: "rate_limited", message: "Slow down please" } });
    }
  });

  it("ansi_C answers an error with ANSI escapes, a BEL and a newline", async () => {
    const res = await poll(unique("ansi_400"));
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: "\u001b[31mred\u001b[0m text\u0007 with\nnewline" });
  });

  it("long_C answers an error of 5000 single-spaced characters", async () => {
    const res = await poll(unique("long_400"));
    assert.equal(res.status, 400);
    const { error } = await res.json();
    assert.equal(error.length, 5000);
    assert.match(error, /^The uploaded document failed validation: check1 failed check2 failed/);
    assert.match(error, / END-OF-ERROR$/);
    assert.doesNotMatch(error, /\s\s|[^\x20-\x7e]/, "nothing a cleaner would change");
    assert.equal(error, await (await poll(unique("long_500"))).json().then((b) => b.error), "deterministic");
  });

  it("failedecho fails with an error echoing the key", async () => {
    const job = await pollJson(unique("failedecho"), { headers: { "x-api-key": "sk-fail-9876" } });
    assert.equal(job.status, "failed");
    assert.equal(job.error, "could not parse; key was sk-fail-9876");
    assert.equal((await pollJson(unique("failedecho"))).error, "could not parse; key was (none)");
  });
});

describe("issue 6 scenarios: cancel and downloads", () => {
  async function pointerOf(id, init) {
    const job = await pollJson(id, init);
    assert.equal(job.status, "completed");
    assert.equal(job.result.is_url, true);
    return job.result.url;
  }

  it("cancel204: polls pending/processing; DELETE answers 204 without a body, then canceled", async () => {
    const id = unique("cancel204");
    assert.deepEqual(await statuses(id, 4), ["pending", "processing", "processing", "processing"]);
    const res = await poll(id, { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("content-length"), null);
    assert.equal(res.headers.get("content-type"), null);
    assert.equal(await res.text(), "");
    assert.equal((await pollJson(id)).status, "canceled");
  });

  it("singleuse_B: a link on the API origin (/large_results/{id}) that works once, then 410", async () => {
    const id = unique("singleuse_30000");
    const url = await pointerOf(id);
    assert.equal(url, `${server.apiUrl}/large_results/${id}`);
    assert.equal((await records(`?job=${id}`)).length, 1, "the poll hands out the link without using it");
    const first = await get(url, { headers: { "x-api-key": "k-single" } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("content-length"), "30000");
    const text = await first.text();
    assert.equal(text.length, 30_000);
    assertResultDocument(JSON.parse(text));
    for (let i = 0; i < 2; i++) {
      const again = await get(url, { headers: { "x-api-key": "k-single" } });
      assert.equal(again.status, 410);
      assert.deepEqual(await again.json(), { error: "Gone" });
    }
    const recs = await records(`?job=${id}`);
    assert.deepEqual(recs.map((r) => [r.side, r.path, r.status]), [
      ["api", `/job/${id}`, 200],
      ["api", `/large_results/${id}`, 200],
      ["api", `/large_results/${id}`, 410],
      ["api", `/large_results/${id}`, 410],
    ]);
    assert.equal(recs[1].headers["x-api-key"], "k-single");
    const wrong = await get(`${server.apiUrl}/large_results/${unique("singleuse")}`, { headers: { "x-api-key": "wrong" } });
    assert.equal(wrong.status, 401, "the `wrong` key rule applies on the API origin");
  });

  for (const [scenario, encoding, decompress] of [["dlgzip", "gzip", zlib.gunzipSync], ["dlbr", "br", zlib.brotliDecompressSync]]) {
    it(`${scenario}_B: storage sends the result ${encoding}-compressed, Content-Length = compressed size`, async () => {
      const id = unique(`${scenario}_300000`);
      const url = await pointerOf(id);
      assert.equal(url, `${server.storageUrl}/result/${id}?token=1`);
      const raw = await rawGet(url);
      assert.equal(raw.status, 200);
      assert.equal(raw.headers["content-encoding"], encoding);
      assert.equal(raw.headers["content-type"], "application/json");
      assert.equal(Number(raw.headers["content-length"]), raw.body.length);
      assert.match(raw.headers["access-control-expose-headers"], /Content-Encoding/);
      assert.ok(raw.body.length < 300_000 / 10, `compressed ${raw.body.length} bytes: not compressible enough`);
      const decoded = decompress(raw.body);
      assert.equal(decoded.length, 300_000);
      assertResultDocument(JSON.parse(decoded));
      const plain = await (await get(await pointerOf(unique("large_300000")))).arrayBuffer();
      assert.ok(decoded.equals(Buffer.from(plain)), "the same document as large_B");
      const viaFetch = await get(url); // fetch decodes it
      assert.equal(viaFetch.headers.get("content-length"), String(raw.body.length));
      assert.equal((await viaFetch.arrayBuffer()).byteLength, 300_000);
    });
  }

  it("dlredirect_https: ?token=1 answers 302 to ?token=2 on the same storage, which serves the result", async () => {
    const id = unique("dlredirect_https_20000");
    const url = await pointerOf(id);
    assert.equal(url, `${server.storageUrl}/result/${id}?token=1`);
    const hop = await get(url, { redirect: "manual" });
    assert.equal(hop.status, 302);
    assert.equal(hop.headers.get("location"), `${server.storageUrl}/result/${id}?token=2`);
    const res = await get(url);
    assert.equal(res.status, 200);
    assert.equal((await res.text()).length, 20_000);
    const recs = await records(`?job=${id}&side=storage`);
    assert.deepEqual(recs.map((r) => [r.path, r.status]), [
      [`/result/${id}?token=1`, 302],
      [`/result/${id}?token=1`, 302],
      [`/result/${id}?token=2`, 200],
    ]);
  });

  it("dlredirect_rel: a relative Location (./{id}?token=2)", async () => {
    const id = unique("dlredirect_rel");
    const url = await pointerOf(id);
    const hop = await get(url, { redirect: "manual" });
    assert.equal(hop.status, 302);
    assert.equal(hop.headers.get("location"), `./${id}?token=2`);
    const res = await get(url);
    assert.equal(res.url, `${server.storageUrl}/result/${id}?token=2`);
    assert.equal((await res.text()).length, 100_000);
  });

  it("dlredirect_http: 302 to the result on plainStorageBase (default: storageBase over http)", async () => {
    const id = unique("dlredirect_http");
    const hop = await get(await pointerOf(id), { redirect: "manual" });
    assert.equal(hop.status, 302);
    assert.equal(hop.headers.get("location"), `${server.storageUrl}/result/${id}?token=2`);
    const other = createMock({ apiBase: "https://api.test", storageBase: "https://storage.test:8443", plainStorageBase: "http://plain.test:81" });
    const fallback = createMock({ apiBase: "https://api.test", storageBase: "https://storage.test:8443" });
    for (const [mock, target] of [[other, "http://plain.test:81"], [fallback, "http://storage.test:8443"]]) {
      const res = await serveOnce(mock, "storage", `/result/${id}?token=1`);
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, `${target}/result/${id}?token=2`);
    }
  });

  it("dlredirect_loop: every hop redirects to a new URL, forever", async () => {
    const id = unique("dlredirect_loop");
    let url = await pointerOf(id);
    for (let token = 2; token <= 4; token++) {
      const hop = await get(url, { redirect: "manual" });
      assert.equal(hop.status, 302);
      url = hop.headers.get("location");
      assert.equal(url, `${server.storageUrl}/result/${id}?token=${token}`);
    }
    await assert.rejects(get(url), TypeError, "fetch gives up on the endless redirects");
    assert.equal((await get(`${server.storageUrl}/result/${unique("dlredirect")}`)).status, 404, "kind is required");
    assert.equal((await poll(unique("dlredirect_ftp"))).status, 404);
  });

  it("proxyredirect_B: the API-origin URL answers 302 to the storage URL of the result", async () => {
    const id = unique("proxyredirect_40000");
    const url = await pointerOf(id);
    assert.equal(url, `${server.apiUrl}/proxy/result/${id}`);
    const hop = await get(url, { redirect: "manual", headers: { "x-api-key": "k-proxy" } });
    assert.equal(hop.status, 302);
    assert.equal(hop.headers.get("location"), `${server.storageUrl}/result/${id}?token=1`);
    const res = await get(hop.headers.get("location"));
    assert.equal(res.headers.get("content-length"), "40000");
    assert.equal((await res.text()).length, 40_000);
    const recs = await records(`?job=${id}`);
    assert.deepEqual(recs.map((r) => [r.side, r.path, r.status]), [
      ["api", `/job/${id}`, 200],
      ["api", `/proxy/result/${id}`, 302],
      ["storage", `/result/${id}?token=1`, 200],
    ]);
    assert.equal(recs[1].headers["x-api-key"], "k-proxy");
    assert.equal(recs[2].headers["x-api-key"], undefined);
  });

  it("/large_results/{id} serves any scenario's download, like /proxy/result/{id}", async () => {
    const res = await get(`${server.apiUrl}/large_results/${unique("large_5000")}`);
    assert.equal(res.status, 200);
    assert.equal((await res.text()).length, 5000);
    assert.equal((await get(`${server.apiUrl}/large_results/${unique("ok")}`)).status, 404);
  });

  it("startMock({ tls }) serves both sides over https; dlredirect_http points at plainStorageBase", { skip: !opensslVersion() && "no openssl" }, async () => {
    const local = await startMock({ tls: selfSignedCert(), plainStorageBase: "http://127.0.0.1:9" });
    try {
      assert.match(local.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(local.storageUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      const id = "dlredirect_http-tls";
      const job = JSON.parse((await rawGet(`${local.apiUrl}/job/${id}`)).body);
      assert.equal(job.result.url, `${local.storageUrl}/result/${id}?token=1`);
      const hop = await rawGet(job.result.url);
      assert.equal(hop.status, 302);
      assert.equal(hop.headers.location, `http://127.0.0.1:9/result/${id}?token=2`);
      const https2 = await rawGet(`${local.storageUrl}/result/${id}?token=2`);
      assert.equal(https2.status, 200);
      assert.equal(https2.body.length, 100_000);
    } finally {
      await local.close();
    }
  });
});

// Runs one request through a createMock handler on a throwaway server.
async function serveOnce(mock, side, path) {
  const srv = http.createServer((req, res) => (side === "api" ? mock.handleApi(req, res) : mock.handleStorage(req, res)));
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  try {
    return await rawGet(`http://127.0.0.1:${srv.address().port}${path}`);
  } finally {
    srv.closeAllConnections();
    await new Promise((resolve) => srv.close(resolve));
  }
}

describe("POST /extract demo jobs on one origin (mounted under /api and /storage)", () => {
  let origin;
  let demo;
  let clock = 1_000_000; // a fake clock, so the timelines run without waiting
  const now = () => clock;
  const createdAt = new Map(); // demo job id -> clock at submission

  before(async () => {
    let route = null;
    demo = http.createServer((req, res) => {
      if (!route(req, res)) res.writeHead(404).end("page");
    });
    await new Promise((resolve) => demo.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${demo.address().port}`;
    route = mountMock(createMock({ apiBase: `${origin}/api`, storageBase: `${origin}/storage`, now }));
  });

  after(async () => {
    demo.closeAllConnections();
    await new Promise((resolve) => demo.close(resolve));
  });

  async function submit(scenario) {
    const res = await get(`${origin}/api/extract`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ file_url: "https://files.example/a.pdf", async: true, scenario }),
    });
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.equal(body.status, "pending");
    assert.equal(typeof body.message, "string");
    assert.match(body.job_id, new RegExp(`^demo-${scenario}-`));
    createdAt.set(body.job_id, clock);
    return body.job_id;
  }

  const demoPoll = (id) => get(`${origin}/api/job/${id}`);
  // Moves the fake clock to `ms` after the job's creation and polls it.
  const at = async (id, ms) => {
    clock = createdAt.get(id) + ms;
    return (await demoPoll(id)).json();
  };

  it("quick, slow and failing follow the wall time", async () => {
    const quick = await submit("quick");
    assert.deepEqual([(await at(quick, 0)).status, (await at(quick, 1000)).status, (await at(quick, 2000)).status],
      ["pending", "processing", "completed"]);
    const slow = await submit("slow");
    assert.deepEqual([(await at(slow, 2500)).status, (await at(slow, 11_000)).status, (await at(slow, 12_000)).status],
      ["processing", "processing", "completed"]);
    const failing = await submit("failing");
    const failed = await at(failing, 3000);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error, "Document could not be parsed");
  });

  it("large completes with a 20 MB result on the same origin's /storage", async () => {
    const id = await submit("large");
    assert.equal((await at(id, 500)).status, "pending");
    const done = await at(id, 4000);
    assert.equal(done.status, "completed");
    assert.equal(done.result.url, `${origin}/storage/result/${id}?token=1`);
    const res = await get(done.result.url);
    assert.equal(res.headers.get("content-length"), "20000000");
    assert.equal((await res.arrayBuffer()).byteLength, 20_000_000);
  });

  it("flaky fails on the way (503, a cut, 502) and then completes", async () => {
    const id = await submit("flaky");
    clock += 100;
    assert.equal((await demoPoll(id)).status, 200);
    assert.equal((await demoPoll(id)).status, 503);
    await assert.rejects(demoPoll(id), TypeError);
    assert.equal((await demoPoll(id)).status, 200);
    assert.equal((await demoPoll(id)).status, 502);
    assert.equal((await at(id, 6000)).status, "completed");
  });

  it("DELETE cancels a demo job; bad submissions answer 400", async () => {
    const id = await submit("slow");
    assert.equal((await get(`${origin}/api/job/${id}`, { method: "DELETE" })).status, 200);
    assert.equal((await at(id, 20_000)).status, "canceled");
    for (const body of ['{"async":true,"scenario":"nope"}', '{"scenario":"quick"}', "not json"]) {
      const res = await get(`${origin}/api/extract`, { method: "POST", headers: { "content-type": "application/json" }, body });
      assert.equal(res.status, 400, body);
      assert.equal(typeof (await res.json()).error, "string");
    }
  });

  it("mounted control routes work and unmounted paths fall through", async () => {
    const recs = await (await get(`${origin}/api/__mock/requests`)).json();
    assert.ok(recs.some((r) => r.side === "storage" && r.path.startsWith("/result/demo-large-")));
    assert.ok(recs.some((r) => r.method === "POST" && r.path === "/extract" && r.jobId?.startsWith("demo-")));
    assert.equal(await (await get(`${origin}/index.html`)).text(), "page");
    assert.equal((await get(`${origin}/api/job/ok-mounted`)).status, 200);
  });
});

describe("job submissions: JSON and multipart, the body chooses the scenario (added)", () => {
  const SINGLE = ["/extract", "/split", "/schema", "/tables"];
  const PDF = "%PDF-1.4 mock document";

  const submitJson = (path, body, headers = {}) =>
    get(`${server.apiUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  // entries: [name, value] or [name, Blob, filename]; fetch sets the multipart boundary.
  function submitForm(path, entries, headers = {}) {
    const form = new FormData();
    for (const [name, value, filename] of entries) {
      if (filename === undefined) form.append(name, value);
      else form.append(name, value, filename);
    }
    return get(`${server.apiUrl}${path}`, { method: "POST", headers, body: form });
  }

  const pdf = () => new Blob([PDF], { type: "application/pdf" });
  // The last record of a POST to `path` (refused submissions have no jobId to filter by).
  const lastPost = (path) => server.mock.requests.findLast((r) => r.method === "POST" && r.path === path);

  async function accepted(res) {
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    return res.json();
  }

  async function refused(res, status, pattern, message) {
    assert.equal(res.status, status, message);
    const body = await res.json();
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.match(body.error, pattern);
    return body.error;
  }

  it("every endpoint accepts JSON: 202 { job_id, status, message }, and the log keeps the body", async () => {
    for (const path of SINGLE) {
      const sent = { file_url: "https://example.com/a.pdf", async: true, scenario: "ok", pages: "1-3", extensions: { x: [1, 2] } };
      const body = await accepted(await submitJson(path, sent, { "x-api-key": "k-json" }));
      assert.deepEqual(Object.keys(body).sort(), ["job_id", "message", "status"]);
      assert.equal(body.status, "pending");
      assert.match(body.job_id, /^ok-sub-[0-9a-f]{8}$/);
      assert.equal(body.message, "Mock job submitted (scenario ok)");
      const [record] = await records(`?job=${body.job_id}`);
      assert.equal(record.method, "POST");
      assert.equal(record.path, path);
      assert.equal(record.status, 202);
      assert.equal(record.headers["x-api-key"], "k-json");
      assert.deepEqual(record.body, { kind: "json", async: true, fields: sent });
      assert.equal((await pollJson(body.job_id)).status, "completed");
    }
  });

  it("every endpoint accepts multipart with a file part; the log describes the file, never its bytes", async () => {
    for (const path of SINGLE) {
      const res = await submitForm(path, [["file", pdf(), "doc.pdf"], ["async", "true"], ["scenario", "ok"], ["pages", "2"]]);
      const body = await accepted(res);
      assert.equal(body.status, "pending");
      assert.match(body.job_id, /^ok-sub-[0-9a-f]{8}$/);
      const [record] = await records(`?job=${body.job_id}`);
      assert.equal(record.path, path);
      assert.match(record.headers["content-type"], /^multipart\/form-data; boundary=/);
      assert.deepEqual(record.body, {
        kind: "multipart",
        async: true,
        fields: { file: { filename: "doc.pdf", size: PDF.length, type: "application/pdf" }, async: "true", scenario: "ok", pages: "2" },
      });
      assert.ok(!JSON.stringify(record).includes(PDF), "the file's bytes are not in the log");
    }
  });

  it("multipart with a file_url field instead of a file", async () => {
    const body = await accepted(await submitForm("/extract", [["file_url", "https://example.com/b.pdf"], ["async", "true"]]));
    assert.match(body.job_id, /^demo-quick-/, "no scenario: quick");
    assert.deepEqual(lastPost("/extract").body, { kind: "multipart", async: true, fields: { file_url: "https://example.com/b.pdf", async: "true" } });
  });

  it("a table scenario's job behaves like that id, polled to its end", async () => {
    const body = await accepted(await submitJson("/extract", { file_url: "u", async: true, scenario: "steps_2" }));
    assert.match(body.job_id, /^steps_2-sub-[0-9a-f]{8}$/);
    assert.deepEqual(await statuses(body.job_id, 4), ["pending", "processing", "completed", "completed"]);
    assert.equal((await pollJson(body.job_id)).job_id, body.job_id);

    // An id with its own nonce keeps it; the suffix goes after it.
    const flaky = await accepted(await submitJson("/split", { file_url: "u", async: true, scenario: "flaky_1-mine" }));
    assert.match(flaky.job_id, /^flaky_1-mine-sub-[0-9a-f]{8}$/);
    assert.equal((await poll(flaky.job_id)).status, 500);
    assert.equal((await pollJson(flaky.job_id)).status, "completed");

    // Downloads follow the created id too.
    const large = await accepted(await submitJson("/tables", { file_url: "u", async: true, scenario: "large_3000" }));
    const done = await pollJson(large.job_id);
    assert.equal(done.result.url, `${server.storageUrl}/result/${large.job_id}?token=1`);
    assert.equal((await (await get(done.result.url)).arrayBuffer()).byteLength, 3000);
  });

  it("two submissions of one scenario get independent jobs (own poll counters)", async () => {
    const submit = async () => (await accepted(await submitJson("/extract", { file_url: "u", async: true, scenario: "steps_1" }))).job_id;
    const [first, second] = [await submit(), await submit()];
    assert.notEqual(first, second);
    assert.deepEqual(await statuses(first, 2), ["pending", "completed"]);
    assert.deepEqual(await statuses(second, 2), ["pending", "completed"]);
  });

  it("demo names are time-driven demo jobs; the table's slow/large/flaky need a parameter or a nonce", async () => {
    for (const name of ["quick", "slow", "large", "failing", "flaky"]) {
      const body = await accepted(await submitJson("/schema", { file_url: "u", async: true, scenario: name }));
      assert.match(body.job_id, new RegExp(`^demo-${name}-[0-9a-f]{8}$`));
      assert.equal((await pollJson(body.job_id)).status, "pending");
    }
    const table = await accepted(await submitJson("/schema", { file_url: "u", async: true, scenario: "slow_20" }));
    assert.match(table.job_id, /^slow_20-sub-/);
  });

  it("the job's created_at is the submission time", async () => {
    const body = await accepted(await submitJson("/extract", { file_url: "u", async: true, scenario: "steps_3" }));
    const submittedAt = lastPost("/extract").at;
    await sleep(30);
    const job = await pollJson(body.job_id);
    assert.ok(Math.abs(Date.parse(job.created_at) - submittedAt) < 20, `${job.created_at} vs ${new Date(submittedAt).toISOString()}`);
    assert.ok(Date.parse(job.updated_at) > Date.parse(job.created_at));
  });

  it("batch: 202 { batch_job_id, status, total_files }, polled on /job/{batch_job_id}", async () => {
    let res = await submitJson("/batch/extract", { file_url: "u", async: true, scenario: "steps_1" });
    let body = await accepted(res);
    assert.deepEqual(Object.keys(body).sort(), ["batch_job_id", "status", "total_files"]);
    assert.equal(body.status, "pending");
    assert.equal(body.total_files, 1);
    assert.match(body.batch_job_id, /^steps_1-sub-[0-9a-f]{8}$/);
    assert.deepEqual(await statuses(body.batch_job_id, 2), ["pending", "completed"]);
    assert.equal(lastPost("/batch/extract").jobId, body.batch_job_id);

    res = await submitForm("/batch/split", [
      ["async", "true"], ["scenario", "ok"],
      ["file", pdf(), "one.pdf"], ["file", new Blob(["xy"]), "two.bin"], ["file_url", "https://example.com/c.pdf"],
    ]);
    body = await accepted(res);
    assert.equal(body.total_files, 3);
    assert.deepEqual(lastPost("/batch/split").body.fields, {
      async: "true",
      scenario: "ok",
      file: [{ filename: "one.pdf", size: PDF.length, type: "application/pdf" }, { filename: "two.bin", size: 2, type: "application/octet-stream" }],
      file_url: "https://example.com/c.pdf",
    });
    assert.equal((await pollJson(body.batch_job_id)).status, "completed");
    assert.equal((await submitJson("/batch/", { file_url: "u", async: true })).status, 404);
  });

  it("asynchronous only: async missing, false, or not exactly true / \"true\" answers 400", async () => {
    for (const sent of [{ file_url: "u" }, { file_url: "u", async: false }, { file_url: "u", async: "true" }, { file_url: "u", async: 1 }]) {
      await refused(await submitJson("/extract", sent), 400, /only accepts asynchronous submissions/);
      assert.deepEqual(lastPost("/extract").body, { kind: "json", async: false, fields: sent }, "a refused body is recorded too");
      assert.equal(lastPost("/extract").jobId, null);
    }
    for (const entries of [[], [["async", "false"]], [["async", "yes"]]]) {
      await refused(await submitForm("/split", [["file", pdf(), "a.pdf"], ...entries]), 400, /only accepts asynchronous submissions/);
    }
    assert.equal(lastPost("/split").body.async, false);
  });

  it("a submission needs file_url (a string) or a file part: 400", async () => {
    for (const sent of [{ async: true }, { async: true, file_url: 123 }, { async: true, file_url: "" }]) {
      await refused(await submitJson("/extract", sent), 400, /file or file_url must be provided/);
    }
    await refused(await submitForm("/extract", [["async", "true"]]), 400, /file or file_url must be provided/);
    // A `file` field that is plain text (no filename) is not an upload.
    await refused(await submitForm("/extract", [["async", "true"], ["file", "not a file"]]), 400, /file or file_url/);
    await refused(await submitForm("/batch/extract", [["async", "true"]]), 400, /file or file_url/);
  });

  it("an unknown scenario answers 400 saying how to name one", async () => {
    for (const scenario of ["nope", "status", "steps_x", "demo-quick-1234abcd", "", 7]) {
      const error = await refused(await submitJson("/extract", { file_url: "u", async: true, scenario }), 400, /^Unknown scenario/);
      assert.match(error, /quick, slow, large, failing, flaky/);
      assert.match(error, /scenario table/);
    }
    await refused(await submitForm("/tables", [["file_url", "u"], ["async", "true"], ["scenario", "nope"]]), 400, /^Unknown scenario "nope"/);
  });

  it("bodies that cannot be read: bad JSON 400, wrong content type 415, too large 413", async () => {
    await refused(await submitJson("/extract", "{not json"), 400, /not valid JSON/);
    await refused(await submitJson("/extract", "[1]"), 400, /JSON object/);
    assert.equal(lastPost("/extract").body, null);
    const text = await get(`${server.apiUrl}/extract`, { method: "POST", body: JSON.stringify({ async: true, file_url: "u" }) });
    await refused(text, 415, /text\/plain.*application\/json or multipart\/form-data/);
    const none = await get(`${server.apiUrl}/schema`, { method: "POST" });
    await refused(none, 415, /\(none\)/);
    const noBoundary = await get(`${server.apiUrl}/extract`, { method: "POST", headers: { "content-type": "multipart/form-data" }, body: "x" });
    await refused(noBoundary, 400, /multipart\/form-data body could not be parsed/);

    const bigJson = JSON.stringify({ async: true, file_url: "u", pad: "x".repeat(1024 * 1024) });
    await refused(await submitJson("/extract", bigJson), 413, /1 MB for application\/json/);
    const bigFile = new Blob([new Uint8Array(16 * 1024 * 1024 + 1)]);
    await refused(await submitForm("/extract", [["async", "true"], ["file", bigFile, "big.pdf"]]), 413, /16 MB for multipart\/form-data/);
    assert.equal(lastPost("/extract").status, 413);
    // Below the limit a large upload goes through.
    const fine = await submitForm("/extract", [["async", "true"], ["file", new Blob([new Uint8Array(3 * 1024 * 1024)]), "ok.pdf"], ["scenario", "ok"]]);
    assert.equal((await accepted(fine)).status, "pending");
    assert.equal(lastPost("/extract").body.fields.file.size, 3 * 1024 * 1024);
  });

  it("only POST; an x-api-key of `wrong` gets 401 before the body is read", async () => {
    const res = await get(`${server.apiUrl}/split`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    await refused(await submitForm("/batch/tables", [["async", "true"], ["file", pdf(), "a.pdf"]], { "x-api-key": "wrong" }), 401, /Invalid API key/);
    assert.equal(lastPost("/batch/tables").body, null);
  });

  it("every submission needs a file or a file_url, a demo scenario's too", async () => {
    assert.match((await accepted(await submitJson("/split", { file_url: "u", async: true, scenario: "failing" }))).job_id, /^demo-failing-/);
    await refused(await submitJson("/extract", { async: true, scenario: "quick" }), 400, /file or file_url/);
    await refused(await submitJson("/batch/extract", { async: true, scenario: "quick" }), 400, /file or file_url/);
    await refused(await submitJson("/extract", { async: true }), 400, /file or file_url/, "no scenario named");
    await refused(await submitJson("/extract", { async: true, scenario: "quick", file_url: null }), 400, /file or file_url/);
    await refused(await submitForm("/extract", [["async", "true"], ["scenario", "quick"]]), 400, /file or file_url/);
  });

  it("the standalone mock never prints a key it was sent", async () => {
    const KEY = "sk-never-printed-5150";
    const child = spawn(process.execPath, [SERVER_JS], { env: { ...process.env, API_PORT: "0", STORAGE_PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    try {
      await eventually(() => (output.match(/http:\/\/\S+/g) ?? []).length >= 2, 5000);
      const [apiUrl] = output.match(/http:\/\/\S+/g);
      const headers = { "x-api-key": KEY };
      const sent = await get(`${apiUrl}/extract`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: `{"async":true,"file_url":"${KEY}","scenario":"failedecho"}` });
      const { job_id: id } = await sent.json();
      assert.equal((await (await get(`${apiUrl}/job/${id}`, { headers })).json()).error, `could not parse; key was ${KEY}`);
      await get(`${apiUrl}/batch/x`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: "{bad" });
      await get(`${apiUrl}/extract`, { method: "POST", headers: { ...headers, "content-type": "text/plain" }, body: KEY });
      assert.ok((await (await get(`${apiUrl}/__mock/requests`)).text()).includes(KEY), "the log keeps it (the tests read it there)");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    }
    assert.equal(output.trim().split("\n").length, 2, output);
    assert.ok(!output.includes(KEY), output);
  });

  it("browsers on another origin pass the preflight of a JSON or multipart submission", async () => {
    for (const path of ["/extract", "/batch/extract"]) {
      const res = await get(`${server.apiUrl}${path}`, {
        method: "OPTIONS",
        headers: { origin: "http://page.test", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key" },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.match(res.headers.get("access-control-allow-methods"), /POST/);
      assert.equal(res.headers.get("access-control-allow-headers"), "content-type,x-api-key");
    }
  });
});

describe("lifecycle", () => {
  it("close() destroys hanging and stalled connections and resolves quickly", async () => {
    const local = await startMock();
    const hanging = get(`${local.apiUrl}/job/hang-c`).catch((error) => error);
    const stalled = await get(`${local.apiUrl}/job/stall_1-c`);
    const job = await (await get(`${local.apiUrl}/job/dlstall_300000-c`)).json();
    const download = await get(job.result.url);
    const bodies = [stalled.arrayBuffer(), download.arrayBuffer()].map((p) => p.then(() => "done", (e) => e));
    await eventually(() => local.mock.requests.length === 4);
    const started = Date.now();
    await local.close();
    assert.ok(Date.now() - started < 1000, `close took ${Date.now() - started} ms`);
    assert.ok((await hanging) instanceof Error);
    for (const outcome of await Promise.all(bodies)) assert.ok(outcome instanceof Error);
    await assert.rejects(get(`${local.apiUrl}/job/ok-c`), TypeError);
    await local.close(); // idempotent
  });

  it("`node mock/server.js` prints both URLs and serves until killed", async () => {
    const child = spawn(process.execPath, [SERVER_JS], {
      env: { ...process.env, API_PORT: "0", STORAGE_PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      await eventually(() => (output.match(/http:\/\/\S+/g) ?? []).length >= 2, 5000);
      const [apiUrl, storageUrl] = output.match(/http:\/\/\S+/g);
      assert.match(output, /API:\s+http/);
      assert.match(output, /storage:\s+http/);
      const job = await (await get(`${apiUrl}/job/large_1000-s`)).json();
      assert.ok(job.result.url.startsWith(`${storageUrl}/result/`));
      assert.equal((await get(job.result.url)).status, 200);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    }
  });
});
