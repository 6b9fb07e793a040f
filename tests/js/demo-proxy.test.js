// The demo server's proxy to the Pulse API (www/serve.js + www/proxy.js):
// with an API key it forwards /pulse/* to the upstream and adds x-api-key
// there, so the key stays on the server. Real sockets throughout: the mock
// (mock/server.js startMock) stands in for the Pulse API, and a small echo
// server checks the exact bytes and headers that go upstream.
//
// Needs no build: the demo is started with a stub package directory. Only
// the last group (the package itself through the proxy, the command line)
// needs pkg/ and is skipped without it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import zlib from "node:zlib";

import { after, before, describe, test } from "./support/runner.js";
import { repoRoot, pkgDir } from "./support/package.js";
import { jid } from "./support/mock.js";

const { startDemo } = await import(pathToFileURL(join(repoRoot, "www", "serve.js")).href);
const { startMock } = await import(pathToFileURL(join(repoRoot, "mock", "server.js")).href);
const proxyModule = await import(pathToFileURL(join(repoRoot, "www", "proxy.js")).href);
const { redactor, toProxyUrl, upstreamUrl, parseUpstream } = proxyModule;

const KEY = "pulse-demo-proxy-key-9f3a7c21e8";
const BROWSER_KEY = "key-the-browser-tried-to-send-77";
const HAVE_PKG = existsSync(join(pkgDir, "web", "index.js")) && existsSync(join(pkgDir, "package.json"));

// ---------------------------------------------------------------- fixtures

/** A directory that passes startDemo's "is the package built?" check; the proxy needs no package. */
function stubPackage() {
  const dir = mkdtempSync(join(tmpdir(), "pulse-demo-proxy-"));
  mkdirSync(join(dir, "web"));
  writeFileSync(join(dir, "web", "index.js"), "export {};\n");
  return dir;
}

/**
 * A stand-in upstream that records the exact bytes and headers it gets.
 * /v1/job/pointer-in  → a completed job whose result URL is on this origin, under /v1
 * /v1/job/pointer-out → the same with a URL on this origin but outside /v1
 * /v1/redirect        → 302 to /v1/large_results/r1 on this origin
 * /v1/leaky           → the key back in body (split across writes) and headers, plus headers the browser must not get
 * anything else       → 200 { ok: true }
 */
async function startEcho() {
  const seen = [];
  let origin;
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    try {
      for await (const c of req) chunks.push(c);
    } catch {
      return; // the proxy dropped an upload that grew too large
    }
    const body = Buffer.concat(chunks);
    seen.push({ method: req.method, url: req.url, headers: req.headers, body, complete: req.complete });
    const key = String(req.headers["x-api-key"] ?? "");
    if (req.url === "/v1/job/pointer-in" || req.url === "/v1/job/pointer-out") {
      const url = req.url.endsWith("-in") ? `${origin}/v1/large_results/p1?sig=a%20b` : `${origin}/other/large_results/p1`;
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ job_id: "p1", status: "completed", result: { is_url: true, url } }));
    }
    if (req.url === "/v1/redirect") {
      res.writeHead(302, { location: `${origin}/v1/large_results/r1`, "content-length": 0 });
      return res.end();
    }
    if (req.url === "/v1/leaky") {
      res.writeHead(200, {
        "content-type": "text/plain",
        "retry-after": `3 ${key}`,
        "set-cookie": `session=${key}`,
        "x-echo-key": key,
        "access-control-allow-origin": "*",
        "www-authenticate": `Key ${key}`,
      });
      // The key in pieces of one, two and the rest, so it crosses chunk boundaries.
      res.write(`before ${key.slice(0, 1)}`);
      await new Promise((r) => setTimeout(r, 20));
      res.write(key.slice(1, 3));
      await new Promise((r) => setTimeout(r, 20));
      return res.end(`${key.slice(3)} after ${key}${key}`);
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    seen,
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

/** A port nothing listens on. */
async function closedPort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Every answer the "browser" got, to check for the key at the end as well. */
const answers = [];

/** Asserts that nothing of the answer (status line aside) carries the key. */
function assertNoKey(where, headers, body) {
  const text = typeof body === "string" ? body : Buffer.from(body).toString("latin1");
  assert.ok(!text.includes(KEY), `${where}: the key is in the body`);
  assert.ok(!JSON.stringify(headers).includes(KEY), `${where}: the key is in a header`);
}

/** fetch() as the page would (same origin), with the leak check. */
async function browserFetch(url, init = {}) {
  const res = await fetch(url, { redirect: "manual", ...init });
  const body = Buffer.from(await res.arrayBuffer());
  const headers = Object.fromEntries(res.headers);
  answers.push({ url, headers, body });
  assertNoKey(`${init.method ?? "GET"} ${url}`, headers, body);
  return { status: res.status, headers, body, text: body.toString("utf8"), json: () => JSON.parse(body.toString("utf8")) };
}

/** A raw request (custom Host, unusual paths, chunked bodies), with the leak check. */
function rawRequest(origin, { method = "GET", path = "/", headers = {}, body, chunks } = {}) {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const parts = [];
      res.on("data", (c) => parts.push(c));
      res.on("end", () => {
        const buf = Buffer.concat(parts);
        answers.push({ url: path, headers: res.headers, body: buf });
        try {
          assertNoKey(`${method} ${path}`, res.headers, buf);
        } catch (e) {
          return reject(e);
        }
        resolve({ status: res.statusCode, headers: res.headers, text: buf.toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (chunks) {
      (async () => {
        for (const c of chunks) {
          if (req.destroyed) return;
          req.write(c);
          await new Promise((r) => setTimeout(r, 5));
        }
        req.end();
      })();
    } else req.end(body);
  });
}

/** A multipart/form-data body built by hand, so its exact bytes are known. */
function multipart(fields, file) {
  const boundary = `----pulse-demo-${randomBytes(8).toString("hex")}`;
  const parts = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`,
  ));
  parts.push(file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

const sha = (buf) => createHash("sha256").update(buf).digest("hex");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- servers

const stub = stubPackage();
let upstream; // the mock as the Pulse API
let echo; // the byte-recording stand-in
let demo; // proxy → mock
let echoDemo; // proxy → echo (base path /v1), small body limit
let plain; // no key: the embedded mock only
const logs = [];
const log = (line) => logs.push(line);

before(async () => {
  upstream = await startMock();
  echo = await startEcho();
  demo = await startDemo({ port: 0, pkgDir: stub, apiKey: KEY, upstream: upstream.apiUrl, log });
  echoDemo = await startDemo({ port: 0, pkgDir: stub, apiKey: KEY, upstream: `${echo.origin}/v1`, maxBodyBytes: 64 * 1024, log });
  plain = await startDemo({ port: 0, pkgDir: stub });
});

after(async () => {
  await Promise.all([demo, echoDemo, plain, upstream, echo].map((s) => s?.close()));
  rmSync(stub, { recursive: true, force: true });
  // Nothing any test received, nor any log line, ever carried the key.
  for (const a of answers) assertNoKey(`answer ${a.url}`, a.headers, a.body);
  assert.ok(!logs.join("\n").includes(KEY), "the key is in a log line");
});

const origin = () => demo.url.replace(/\/$/, "");
const echoOrigin = () => echoDemo.url.replace(/\/$/, "");
const apiRecords = (id) => upstream.mock.requests.filter((r) => r.side === "api" && r.jobId === id);

/** Waits until the mock has recorded a request for `id` that satisfies pred. */
async function recordFor(id, pred = () => true, ms = 2000) {
  const end = Date.now() + ms;
  for (;;) {
    const rec = apiRecords(id).find(pred);
    if (rec || Date.now() > end) return rec;
    await sleep(10);
  }
}

// ---------------------------------------------------------------- tests

describe("backend.json", () => {
  test("proxy mode names the Pulse backend, its base URL and upstream", async () => {
    const r = await browserFetch(`${origin()}/backend.json`);
    assert.equal(r.status, 200);
    assert.match(r.headers["content-type"], /^application\/json/);
    assert.equal(r.headers["cache-control"], "no-store");
    assert.deepEqual(r.json(), { backend: "pulse", baseUrl: "/pulse", upstream: upstream.apiUrl });
    assert.deepEqual(demo.backend, r.json());
    assert.equal(demo.proxyBase, `${origin()}/pulse`);
  });

  test("without a key it names the mock", async () => {
    const r = await browserFetch(`${plain.url}backend.json`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { backend: "mock", baseUrl: "/api" });
    assert.equal(plain.proxyBase, null);
  });
});

describe("forwarding to the mock API", { concurrency: true }, () => {
  test("GET /pulse/job/{id} reaches the API with the server's key, not the browser's headers", async () => {
    const id = jid("ok");
    const r = await browserFetch(`${origin()}/pulse/job/${encodeURIComponent(id)}`, {
      headers: { "x-api-key": BROWSER_KEY, authorization: "Bearer browser-token", cookie: "sid=browser", "x-tenant": "acme", accept: "application/json" },
    });
    assert.equal(r.status, 200);
    const job = r.json();
    assert.equal(job.job_id, id);
    assert.equal(job.status, "completed");
    assert.equal(r.headers["cache-control"], "no-store", "answers made with the server's key are not cacheable");
    assert.equal(r.headers["access-control-allow-origin"], undefined, "no CORS header: the proxy is same-origin only");
    const [rec] = apiRecords(id);
    assert.equal(rec.method, "GET");
    assert.equal(rec.path, `/job/${encodeURIComponent(id)}`);
    assert.equal(rec.headers["x-api-key"], KEY);
    assert.equal(rec.headers.authorization, undefined);
    assert.equal(rec.headers.cookie, undefined);
    assert.equal(rec.headers["x-tenant"], undefined, "headers the API does not need stay in the browser");
    assert.equal(rec.headers.accept, "application/json");
  });

  test("a percent-encoded job id and a query string arrive as sent", async () => {
    const id = jid("ok", " a&b");
    const r = await browserFetch(`${origin()}/pulse/job/${encodeURIComponent(id)}?x=1`);
    assert.equal(r.status, 200);
    assert.equal(r.json().job_id, id);
    assert.equal(apiRecords(id)[0].path, `/job/${encodeURIComponent(id)}?x=1`);
  });

  test("POST /pulse/extract with JSON: the mock gets the same fields and creates the job", async () => {
    // A scenario id of its own per submission, so each creates a distinct job on the mock.
    const sent = { file_url: "https://example.com/doc.pdf", async: true, scenario: jid("ok"), pages: "1-2" };
    const r = await browserFetch(`${origin()}/pulse/extract`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": BROWSER_KEY },
      body: JSON.stringify(sent),
    });
    assert.ok(r.status === 200 || r.status === 202, `POST answered ${r.status}: ${r.text}`);
    const { job_id: id } = r.json();
    assert.equal(typeof id, "string");
    const rec = upstream.mock.requests.find((x) => x.jobId === id && x.method === "POST");
    assert.equal(rec.path, "/extract");
    assert.equal(rec.headers["x-api-key"], KEY);
    assert.equal(rec.headers["content-type"], "application/json");
    assert.equal(Number(rec.headers["content-length"]), Buffer.byteLength(JSON.stringify(sent)));
    if (rec.body) assert.deepEqual(rec.body.fields, sent);
    // and the job it created is polled through the proxy as well
    const poll = await browserFetch(`${origin()}/pulse/job/${encodeURIComponent(id)}`);
    assert.equal(poll.status, 200);
    assert.equal(poll.json().job_id, id);
  });

  test("POST /pulse/extract with multipart: same bytes, fields and file reach the mock", async () => {
    const bytes = randomBytes(3000); // every byte value, not text
    const scenario = jid("ok");
    const { body, contentType } = multipart({ async: "true", scenario }, { name: "doc.pdf", type: "application/pdf", bytes });
    const r = await browserFetch(`${origin()}/pulse/extract`, { method: "POST", headers: { "content-type": contentType }, body });
    const rec = upstream.mock.requests.findLast((x) => x.method === "POST" && x.headers["content-type"] === contentType);
    assert.ok(rec, "the multipart request reached the mock");
    assert.equal(rec.headers["x-api-key"], KEY);
    assert.equal(Number(rec.headers["content-length"]), body.length, "the body arrives whole, with its length");
    if (r.status === 415 || (r.status === 400 && /json/i.test(r.text))) return; // a mock without multipart: the log above is the check
    assert.ok(r.status === 200 || r.status === 202, `multipart POST answered ${r.status}: ${r.text}`);
    assert.equal(typeof r.json().job_id, "string");
    assert.equal(rec.body.kind, "multipart");
    assert.equal(rec.body.fields.async, "true");
    assert.equal(rec.body.fields.scenario, scenario);
    assert.deepEqual(rec.body.fields.file, { filename: "doc.pdf", size: bytes.length, type: "application/pdf" });
  });

  test("DELETE /pulse/job/{id} cancels the job with the key", async () => {
    const id = jid("steps_5");
    assert.equal((await browserFetch(`${origin()}/pulse/job/${id}`)).json().status, "pending");
    const del = await browserFetch(`${origin()}/pulse/job/${id}`, { method: "DELETE", headers: { "x-api-key": BROWSER_KEY } });
    assert.equal(del.status, 200);
    assert.equal(del.json().message, "Job canceled");
    const rec = apiRecords(id).find((x) => x.method === "DELETE");
    assert.equal(rec.headers["x-api-key"], KEY);
    assert.equal((await browserFetch(`${origin()}/pulse/job/${id}`)).json().status, "canceled");
    const empty = await browserFetch(`${origin()}/pulse/job/${jid("cancel204")}`, { method: "DELETE" });
    assert.equal(empty.status, 204);
    assert.equal(empty.body.length, 0);
  });

  test("the API's statuses and Retry-After come through", async () => {
    const id = jid("retry429_2");
    const r = await browserFetch(`${origin()}/pulse/job/${id}`);
    assert.equal(r.status, 429);
    assert.equal(r.headers["retry-after"], "2");
    const again = await browserFetch(`${origin()}/pulse/job/${id}`);
    assert.equal(again.json().status, "completed");
    assert.equal((await browserFetch(`${origin()}/pulse/job/${jid("status_503")}`)).status, 503);
  });

  test("the browser leaving mid-request ends the upstream request too", async () => {
    const id = jid("hang");
    const ctl = new AbortController();
    const pending = fetch(`${origin()}/pulse/job/${id}`, { signal: ctl.signal }).catch((e) => e);
    assert.ok(await recordFor(id), "the poll reached the mock");
    ctl.abort();
    assert.equal((await pending).name, "AbortError");
    assert.ok(await recordFor(id, (x) => x.closedEarly), "the upstream request was closed");
    await sleep(50);
    assert.deepEqual(logs.filter((l) => l.includes(id)), [], "a routine abort is not logged as a failure");
  });
});

describe("large results by URL", { concurrency: true }, () => {
  test("a link on the API origin comes back through the proxy, and the download carries the key upstream", async () => {
    const id = jid("singleuse_50000");
    const r = await browserFetch(`${origin()}/pulse/job/${id}`);
    const job = r.json();
    assert.equal(job.status, "completed");
    assert.equal(job.result.is_url, true);
    assert.equal(job.result.url, `${origin()}/pulse/large_results/${encodeURIComponent(id)}`);
    assert.equal(Number(r.headers["content-length"]), r.body.length, "Content-Length matches the rewritten body");
    const dl = await browserFetch(job.result.url);
    assert.equal(dl.status, 200);
    assert.equal(dl.body.length, 50000);
    assert.equal(Number(dl.headers["content-length"]), 50000);
    assert.equal(typeof dl.json().markdown, "string");
    const rec = apiRecords(id).find((x) => x.path.startsWith("/large_results/"));
    assert.equal(rec.headers["x-api-key"], KEY);
    // Pulse's links are single-use: the API's 410 comes through as it is
    assert.equal((await browserFetch(job.result.url)).status, 410);
  });

  test("the older /proxy/result link on the API origin is rewritten too", async () => {
    const id = jid("proxy_20000");
    const job = (await browserFetch(`${origin()}/pulse/job/${id}`)).json();
    assert.equal(job.result.url, `${origin()}/pulse/proxy/result/${encodeURIComponent(id)}`);
    const dl = await browserFetch(job.result.url);
    assert.equal(dl.status, 200);
    assert.equal(dl.body.length, 20000);
  });

  test("a link on another origin (presigned storage) is left as it is and never fetched by the proxy", async () => {
    const id = jid("large_5000");
    const job = (await browserFetch(`${origin()}/pulse/job/${id}`)).json();
    assert.equal(job.result.url, `${upstream.storageUrl}/result/${encodeURIComponent(id)}?token=1`);
    assert.deepEqual(upstream.mock.requests.filter((x) => x.side === "storage" && x.jobId === id), []);
  });

  test("a redirect from the API to storage is passed on, not followed with the key", async () => {
    const id = jid("proxyredirect_5000");
    const job = (await browserFetch(`${origin()}/pulse/job/${id}`)).json();
    assert.equal(job.result.url, `${origin()}/pulse/proxy/result/${encodeURIComponent(id)}`);
    const r = await browserFetch(job.result.url);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, `${upstream.storageUrl}/result/${encodeURIComponent(id)}?token=1`);
    await sleep(50);
    assert.deepEqual(upstream.mock.requests.filter((x) => x.side === "storage" && x.jobId === id), []);
  });

  test("with an upstream base path: links under it are rewritten (query kept), links outside it are not", async () => {
    const inside = (await browserFetch(`${echoOrigin()}/pulse/job/pointer-in`)).json();
    assert.equal(inside.result.url, `${echoOrigin()}/pulse/large_results/p1?sig=a%20b`);
    const outside = (await browserFetch(`${echoOrigin()}/pulse/job/pointer-out`)).json();
    assert.equal(outside.result.url, `${echo.origin}/other/large_results/p1`);
    const r = await browserFetch(`${echoOrigin()}/pulse/redirect`);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, `${echoOrigin()}/pulse/large_results/r1`, "a redirect to the API itself stays in the proxy");
  });
});

describe("the exact request that goes upstream (echo upstream)", { concurrency: false }, () => {
  const last = () => echo.seen.at(-1);

  test("JSON and multipart bodies arrive byte for byte, with only the headers the API needs", async () => {
    const json = Buffer.from(JSON.stringify({ file_url: "https://example.com/ü.pdf", async: true }));
    await browserFetch(`${echoOrigin()}/pulse/extract`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-api-key": BROWSER_KEY, cookie: "a=b", "x-requested-with": "x" },
      body: json,
    });
    let got = last();
    assert.equal(got.method, "POST");
    assert.equal(got.url, "/v1/extract");
    assert.equal(sha(got.body), sha(json));
    assert.deepEqual(Object.keys(got.headers).sort(), ["accept", "accept-encoding", "connection", "content-length", "content-type", "host", "user-agent", "x-api-key"]);
    assert.equal(got.headers["x-api-key"], KEY);

    const file = randomBytes(40_000);
    const { body, contentType } = multipart({ async: "true" }, { name: "scan.png", type: "image/png", bytes: file });
    await browserFetch(`${echoOrigin()}/pulse/extract`, { method: "POST", headers: { "content-type": contentType }, body });
    got = last();
    assert.equal(got.headers["content-type"], contentType);
    assert.equal(got.body.length, body.length);
    assert.equal(sha(got.body), sha(body));
  });

  test("a chunked upload (no Content-Length) is streamed through as it is", async () => {
    const chunks = [randomBytes(1000), randomBytes(7), randomBytes(5000)];
    const r = await rawRequest(echoOrigin(), {
      method: "POST", path: "/pulse/split", headers: { "content-type": "application/octet-stream", host: new URL(echoOrigin()).host }, chunks,
    });
    assert.equal(r.status, 200);
    assert.equal(sha(last().body), sha(Buffer.concat(chunks)));
    assert.equal(last().url, "/v1/split");
  });

  test("GET and DELETE send no body and no content headers", async () => {
    await browserFetch(`${echoOrigin()}/pulse/job/x`, { method: "DELETE", headers: { "content-type": "text/plain" } });
    assert.equal(last().method, "DELETE");
    assert.equal(last().body.length, 0);
    assert.equal(last().headers["content-type"], undefined);
  });

  test("a body over the limit is refused: 413 up front, or cut off mid-stream", async () => {
    const before = echo.seen.length;
    const big = await browserFetch(`${echoOrigin()}/pulse/extract`, { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(100_000) });
    assert.equal(big.status, 413);
    assert.match(big.json().error, /larger than/);
    assert.equal(echo.seen.length, before, "nothing went upstream");

    const chunks = Array.from({ length: 20 }, () => randomBytes(8192)); // 160 KB, no Content-Length
    const r = await rawRequest(echoOrigin(), {
      method: "POST", path: "/pulse/extract", headers: { "content-type": "application/octet-stream", host: new URL(echoOrigin()).host }, chunks,
    }).catch((e) => ({ status: e.code })); // the socket may close under the upload
    assert.ok(r.status === 413 || r.status === "ECONNRESET" || r.status === "EPIPE", `answered ${r.status}`);
    await sleep(50);
    assert.ok(echo.seen.slice(before).every((x) => x.body.length <= 64 * 1024), "no request over the limit completed upstream");
  });

  test("the key echoed by the API is masked in the body (across chunks) and headers; unneeded headers are dropped", async () => {
    const r = await browserFetch(`${echoOrigin()}/pulse/leaky`);
    const mask = "*".repeat(KEY.length);
    assert.equal(r.text, `before ${mask} after ${mask}${mask}`);
    assert.equal(r.headers["retry-after"], `3 ${mask}`);
    for (const h of ["set-cookie", "x-echo-key", "access-control-allow-origin", "www-authenticate"]) {
      assert.equal(r.headers[h], undefined, `${h} was passed on`);
    }
  });
});

describe("the key never reaches the browser", { concurrency: true }, () => {
  test("an API error that quotes the key is masked", async () => {
    const r = await browserFetch(`${origin()}/pulse/job/${jid("echo_401")}`);
    assert.equal(r.status, 401);
    assert.equal(r.json().error, `invalid api key ${"*".repeat(KEY.length)}`);
    const failed = await browserFetch(`${origin()}/pulse/job/${jid("failedecho")}`);
    assert.match(failed.json().error, /key was \*+$/);
  });

  test("even the mock's own request log, read through the proxy, is masked", async () => {
    const r = await browserFetch(`${origin()}/pulse/__mock/requests`);
    assert.equal(r.status, 200);
    assert.ok(r.json().length > 0);
  });

  test("upstream unreachable: 502 with a JSON error, no key, a log line without it", async () => {
    const port = await closedPort();
    const down = await startDemo({ port: 0, pkgDir: stub, apiKey: KEY, upstream: `http://127.0.0.1:${port}`, log });
    try {
      const r = await browserFetch(`${down.url}pulse/job/abc`);
      assert.equal(r.status, 502);
      assert.match(r.headers["content-type"], /^application\/json/);
      assert.match(r.json().error, /could not be reached/);
      const post = await browserFetch(`${down.url}pulse/extract`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      assert.equal(post.status, 502);
      assert.ok(logs.some((l) => /could not be reached/.test(l)), "the failure is logged");
    } finally {
      await down.close();
    }
  });

  test("an upstream that stops answering: 504 after the timeout", async () => {
    const slow = await startDemo({ port: 0, pkgDir: stub, apiKey: KEY, upstream: upstream.apiUrl, timeoutMs: 300, log });
    try {
      const r = await browserFetch(`${slow.url}pulse/job/${jid("hang")}`);
      assert.equal(r.status, 504);
      assert.match(r.json().error, /did not answer/);
    } finally {
      await slow.close();
    }
  });

  test("a bad key or upstream stops the start, without quoting either", async () => {
    const cases = [
      [{ apiKey: "abc\ndef" }, /not allowed in an HTTP header/],
      [{ apiKey: KEY, upstream: "ftp://api.example" }, /http\(s\)/],
      [{ apiKey: KEY, upstream: `https://user:${KEY}@api.example` }, /credentials/],
      [{ apiKey: KEY, upstream: "not a url" }, /not a URL/],
    ];
    for (const [o, message] of cases) {
      await assert.rejects(startDemo({ port: 0, pkgDir: stub, ...o }), (err) => {
        assert.match(err.message, message);
        assert.ok(!err.message.includes(KEY) && !err.message.includes("abc"), "the error quotes the setting");
        return true;
      });
    }
  });
});

describe("no open proxy, no use by other sites", { concurrency: true }, () => {
  const host = () => new URL(origin()).host;

  test("paths that could leave the upstream's base are refused", async () => {
    const tag = jid("path");
    for (const path of ["/pulse/..%2f..%2fadmin", "/pulse/job/a%2fb", "/pulse/job/..%5cadmin", "/pulse/job/%ZZ"]) {
      const r = await rawRequest(origin(), { path: `${path}?${tag}`, headers: { host: host() } });
      assert.equal(r.status, 400, path);
    }
    // Dot segments are resolved by the server before routing: this one lands outside /pulse.
    const r = await rawRequest(origin(), { path: `/pulse/%2e%2e/admin?${tag}`, headers: { host: host() } });
    assert.equal(r.status, 404);
    assert.deepEqual(upstream.mock.requests.filter((x) => x.path.includes(tag)), [], "nothing was forwarded");
  });

  test("a path that looks like another host stays a path on the upstream", async () => {
    const before = upstream.mock.requests.length;
    const r = await rawRequest(origin(), { path: "/pulse//evil.example/x", headers: { host: host() } });
    assert.equal(r.status, 404);
    assert.equal(upstream.mock.requests.slice(before).at(-1)?.path, "//evil.example/x");
  });

  test("unit: targets and rewritten links never leave the upstream origin and base", () => {
    const t = parseUpstream("https://api.example.com/v1/");
    assert.equal(upstreamUrl("//evil.example/x", "", t).origin, "https://api.example.com");
    assert.equal(upstreamUrl("/job/1", "?a=1", t).href, "https://api.example.com/v1/job/1?a=1");
    assert.equal(upstreamUrl("/../x", "", t), null);
    const base = "http://127.0.0.1:8080/pulse";
    assert.equal(toProxyUrl("https://api.example.com/v1/large_results/9", t, base), `${base}/large_results/9`);
    assert.equal(toProxyUrl("https://API.example.com:443/v1/large_results/9", t, base), `${base}/large_results/9`);
    for (const other of [
      "http://api.example.com/v1/x", // another scheme
      "https://api.example.com:8443/v1/x", // another port
      "https://api.example.com.evil/v1/x",
      "https://u:p@api.example.com/v1/x",
      "https://api.example.com/v1x/y", // outside the base path
      "https://api.example.com/x",
      "https://bucket.s3.amazonaws.com/r?X-Amz-Signature=1",
      "/v1/relative",
    ]) assert.equal(toProxyUrl(other, t, base), null, other);
  });

  test("unit: the redactor masks a key split anywhere across chunks and keeps the length", async () => {
    const r = redactor(KEY);
    const text = `a${KEY}b${KEY}${KEY}c`;
    for (const size of [1, 2, 5, KEY.length - 1, KEY.length, 1000]) {
      const chunks = [];
      for (let i = 0; i < text.length; i += size) chunks.push(Buffer.from(text.slice(i, i + size)));
      const out = [];
      for await (const c of r.stream(chunks)) out.push(c);
      const got = Buffer.concat(out).toString();
      assert.equal(got.length, text.length, `chunk size ${size}`);
      assert.ok(!got.includes(KEY), `chunk size ${size}`);
      assert.equal(got, text.split(KEY).join("*".repeat(KEY.length)));
    }
  });

  test("requests addressed to another host name (DNS rebinding) are refused and never forwarded", async () => {
    const id = jid("ok");
    const r = await rawRequest(origin(), { path: `/pulse/job/${id}`, headers: { host: `evil.example:${new URL(origin()).port}` } });
    assert.equal(r.status, 403);
    assert.deepEqual(apiRecords(id), []);
  });

  test("requests from another site (CSRF) are refused; the page's own are not", async () => {
    const fileUrl = `https://example.com/${jid("csrf")}.pdf`;
    const body = JSON.stringify({ async: true, file_url: fileUrl });
    const crossOrigin = await rawRequest(origin(), {
      method: "POST", path: "/pulse/extract", body,
      headers: { host: host(), origin: "https://evil.example", "content-type": "text/plain" },
    });
    assert.equal(crossOrigin.status, 403);
    const id = jid("ok");
    const crossSite = await rawRequest(origin(), { path: `/pulse/job/${id}`, headers: { host: host(), "sec-fetch-site": "cross-site" } });
    assert.equal(crossSite.status, 403);
    assert.deepEqual(apiRecords(id), [], "the poll was not forwarded");
    assert.ok(!upstream.mock.requests.some((x) => JSON.stringify(x.headers).includes("evil.example") || x.body?.fields?.file_url === fileUrl), "the POST was not forwarded");
    const own = await rawRequest(origin(), {
      path: `/pulse/job/${jid("ok")}`, headers: { host: `localhost:${new URL(origin()).port}`, origin: `http://localhost:${new URL(origin()).port}`, "sec-fetch-site": "same-origin" },
    });
    assert.equal(own.status, 200);
  });

  test("only GET, POST and DELETE", async () => {
    const r = await browserFetch(`${origin()}/pulse/job/x`, { method: "PUT", body: "x" });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, "GET, POST, DELETE");
  });

  test("server code is not served as a file", async () => {
    for (const f of ["serve.js", "proxy.js"]) assert.equal((await browserFetch(`${origin()}/${f}`)).status, 404);
  });
});

describe("without a key: the embedded mock, as before", { concurrency: true }, () => {
  test("/pulse/* is 404 and nothing is proxied", async () => {
    for (const path of ["pulse/job/ok", "pulse/extract", "pulse"]) {
      const r = await browserFetch(`${plain.url}${path}`);
      assert.equal(r.status, 404, path);
    }
    const post = await browserFetch(`${plain.url}pulse/extract`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(post.status, 404);
  });

  test("the mock at /api answers polls and demo submissions", async () => {
    const id = jid("ok");
    const r = await browserFetch(`${plain.url}api/job/${id}`);
    assert.equal(r.json().status, "completed");
    const sub = await browserFetch(`${plain.url}api/extract`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ file_url: "https://files.example/a.pdf", async: true, scenario: "quick" }),
    });
    assert.equal(sub.status, 202);
    assert.match(sub.json().job_id, /^demo-quick-/);
    assert.equal((await browserFetch(plain.url)).status, 200);
  });

  test("in proxy mode the embedded mock stays at /api too", async () => {
    const r = await browserFetch(`${origin()}/api/job/${jid("ok")}`);
    assert.equal(r.json().status, "completed");
  });
});

// ---------------------------------------------------------------- issue 19, items 15-18

// A key with "/" (JSON may write it "\/") and upper-case letters (hex escapes in either case).
const ENC_KEY = "enc/Key-7f3A9c/QZ_x";
const ENC_MASK = "*".repeat(ENC_KEY.length);

/** `s` with each character written as `form(c, i)`. */
const spell = (s, form) => [...s].map(form).join("");
const hex = (c) => c.charCodeAt(0).toString(16).padStart(2, "0");
/** Every character as \uXXXX, upper-case hex. */
const jsonUpper = (s) => spell(s, (c) => `\\u${hex(c).padStart(4, "0").toUpperCase()}`);
/** Forms mixed: \uxxxx (lower case), %XX (upper case), and the character itself. */
const mixed = (s) => spell(s, (c, i) => [`\\u00${hex(c)}`, `%${hex(c).toUpperCase()}`, c][i % 3]);
/** Every character percent-encoded, hex case alternating. */
const percentAll = (s) => spell(s, (c, i) => `%${i % 2 ? hex(c).toUpperCase() : hex(c)}`);

const COMPRESS = {
  gzip: zlib.gzipSync,
  deflate: zlib.deflateSync,
  br: zlib.brotliCompressSync,
};
const DECOMPRESS = { gzip: zlib.gunzipSync, "x-gzip": zlib.gunzipSync, deflate: zlib.inflateSync, br: zlib.brotliDecompressSync };

/**
 * What a browser and the package could make of an answer: the body after its
 * content-encoding (as fetch would undo it), JSON-unescaped, percent-decoded,
 * every string of it parsed as JSON and percent-decoded, and each header
 * percent-decoded. Asserts that the key is in none of them.
 */
function assertNoEncodedKey(where, status, headers, raw) {
  let body = raw;
  for (const coding of String(headers["content-encoding"] ?? "").split(",").map((c) => c.trim()).filter(Boolean).reverse()) {
    try {
      body = DECOMPRESS[coding](body);
    } catch {
      break; // a coding the browser could not undo either: scanned as it stands
    }
  }
  const text = body.toString("utf8");
  const tryDecode = (s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const unescaped = text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16))).replace(/\\(.)/g, "$1");
  const views = [text, unescaped, tryDecode(text), tryDecode(unescaped)];
  try {
    JSON.parse(text, (k, v) => {
      for (const s of [k, v]) if (typeof s === "string") views.push(s, tryDecode(s));
      return v;
    });
  } catch {}
  for (const [name, value] of Object.entries(headers)) views.push(`${name}: ${value}`, `${name}: ${tryDecode(String(value))}`);
  for (const v of views) assert.ok(!v.includes(ENC_KEY), `${where} (${status}): the key reached the browser in ${JSON.stringify(v.slice(0, 200))}`);
}

/**
 * An upstream that quotes the key it is sent in the ways issue 19 found, and
 * compresses answers although the proxy asks for identity.
 */
async function startEncoder() {
  const server = http.createServer(async (req, res) => {
    for await (const _ of req);
    const key = String(req.headers["x-api-key"] ?? "");
    const path = req.url.replace(/^\/v1/, "");
    const job = (error) => JSON.stringify({ job_id: "e1", status: "failed", error });
    if (path === "/job/slash") {
      // JSON.stringify would not write "\/"; some encoders (PHP's json_encode) do.
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(`{"job_id":"e1","status":"failed","error":"bad key ${key.replaceAll("/", "\\/")}"}`);
    }
    if (path === "/job/unicode") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(`{"job_id":"e1","status":"failed","error":"${jsonUpper(key)}","hint":"${mixed(key)}","${jsonUpper(key)}":1}`);
    }
    if (path === "/errors/unicode") {
      // Not a job poll, and an error status: the JSON path still parses it.
      res.writeHead(401, { "content-type": "application/json; charset=utf-8" });
      return res.end(`{"error":"invalid key \\u0022${spell(key, (c, i) => (i % 2 ? `\\u${hex(c).padStart(4, "0")}` : c))}\\u0022"}`);
    }
    if (path === "/text/escapes") {
      // Not JSON: the stream is scanned; the key's forms split across writes.
      res.writeHead(500, { "content-type": "text/plain" });
      const body = `a ${jsonUpper(key)} b ${mixed(key)} c ${percentAll(key)} d ${key.replaceAll("/", "\\/")} e`;
      for (let i = 0; i < body.length; i += 7) {
        res.write(body.slice(i, i + 7));
        await new Promise((r) => setImmediate(r));
      }
      return res.end();
    }
    if (path === "/redirect/away" || path === "/redirect/home") {
      const to = path.endsWith("away") ? "https://elsewhere.example/cb" : `http://${req.headers.host}/v1/large_results/r1`;
      res.writeHead(302, { location: `${to}?k=${percentAll(key)}&j=${mixed(key)}`, "retry-after": percentAll(key), "content-length": 0 });
      return res.end();
    }
    if (path === "/job/corrupt-gzip") {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      return res.end(`{"error":"${key}"} is not gzip`);
    }
    const coded = path.match(/^\/(job|text)\/coded-(.+)$/);
    if (coded) {
      const codings = decodeURIComponent(coded[2]); // "gzip", "deflate, br", "compress", ...
      const plain = Buffer.from(coded[1] === "job" ? job(`key ${key} rejected`) : `key ${key} rejected`);
      let body = plain;
      for (const c of codings.split(",").map((x) => x.trim())) body = COMPRESS[c] ? COMPRESS[c](body) : Buffer.concat([Buffer.from("??"), body]);
      res.writeHead(200, {
        "content-type": coded[1] === "job" ? "application/json" : "text/plain",
        "content-encoding": codings,
        "content-length": body.length,
      });
      return res.end(body);
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end("{}");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

/** GET over a plain socket: the raw request target, and the answer's bytes as sent (no decompression). */
function rawGet(origin, target, host = new URL(origin).host) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`); // the server closes after answering
    });
    const parts = [];
    socket.on("data", (c) => parts.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      const all = Buffer.concat(parts);
      const split = all.indexOf("\r\n\r\n");
      const [statusLine, ...lines] = all.subarray(0, split).toString("latin1").split("\r\n");
      const headers = {};
      for (const line of lines) {
        const at = line.indexOf(":");
        headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
      }
      let body = all.subarray(split + 4);
      if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = unchunk(body);
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
  });
}

function unchunk(buf) {
  const out = [];
  for (let at = 0; ;) {
    const eol = buf.indexOf("\r\n", at);
    const size = parseInt(buf.subarray(at, eol).toString("latin1"), 16);
    if (!size) return Buffer.concat(out);
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

describe("issue 19 (15): every encoding of the key is masked", { concurrency: true }, () => {
  let encoder;
  let encDemo;
  const encLogs = [];
  before(async () => {
    encoder = await startEncoder();
    encDemo = await startDemo({ port: 0, pkgDir: stub, apiKey: ENC_KEY, upstream: `${encoder.origin}/v1`, log: (l) => encLogs.push(l) });
  });
  after(async () => {
    await Promise.all([encDemo?.close(), encoder?.close()]);
    assert.ok(!encLogs.some((l) => l.includes(ENC_KEY)), "the key is in a log line");
  });
  const get = async (path) => {
    const r = await rawGet(encDemo.url, path);
    assertNoEncodedKey(path, r.status, r.headers, r.body);
    return { ...r, text: r.body.toString("utf8") };
  };

  test("JSON with the key's / written \\/: masked in the parsed string", async () => {
    const r = await get("/pulse/job/slash");
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).error, `bad key ${ENC_MASK}`);
    assert.equal(Number(r.headers["content-length"]), r.body.length);
  });

  test("JSON with \\uXXXX escapes (upper, lower, mixed with %XX and literals), in values and property names", async () => {
    const r = await get("/pulse/job/unicode");
    assert.equal(r.status, 200);
    const job = JSON.parse(r.text);
    assert.equal(job.error, ENC_MASK);
    const decodedHint = JSON.parse(`"${mixed(ENC_KEY)}"`); // the \u escapes decoded, the %XX as they stand
    assert.equal(job.hint, "*".repeat(decodedHint.length), "the %XX left in the decoded string are masked too");
    assert.equal(job[ENC_MASK], 1, "a property name is masked too");
    const e = await get("/pulse/errors/unicode");
    assert.equal(e.status, 401);
    assert.equal(JSON.parse(e.text).error, `invalid key "${ENC_MASK}"`);
  });

  test("a text answer: every form is masked in the stream, across chunks, lengths kept", async () => {
    const r = await get("/pulse/text/escapes");
    assert.equal(r.status, 500);
    const forms = [jsonUpper(ENC_KEY), mixed(ENC_KEY), percentAll(ENC_KEY), ENC_KEY.replaceAll("/", "\\/")];
    assert.equal(r.text, `a ${"*".repeat(forms[0].length)} b ${"*".repeat(forms[1].length)} c ${"*".repeat(forms[2].length)} d ${"*".repeat(forms[3].length)} e`);
  });

  test("a percent-encoded key in Location (elsewhere and rewritten to the proxy) and Retry-After", async () => {
    for (const [path, prefix] of [["/pulse/redirect/away", "https://elsewhere.example/cb?k="], ["/pulse/redirect/home", `${encDemo.url}pulse/large_results/r1?k=`]]) {
      const r = await get(path);
      assert.equal(r.status, 302, path);
      assert.ok(r.headers.location.startsWith(prefix), `${path}: ${r.headers.location}`);
      assert.match(r.headers.location, /\?k=\*+&j=\*+$/, path);
      assert.match(r.headers["retry-after"], /^\*+$/, path);
    }
  });

  for (const codings of ["gzip", "deflate", "br", "deflate, br"]) {
    test(`a ${codings} answer the proxy did not ask for is decoded, masked and sent as identity`, async () => {
      for (const kind of ["job", "text"]) {
        const r = await get(`/pulse/${kind}/coded-${encodeURIComponent(codings)}`);
        assert.equal(r.status, 200, `${kind}: ${r.text}`);
        assert.equal(r.headers["content-encoding"], undefined, `${kind}: the content-encoding is not passed on`);
        const text = kind === "job" ? JSON.parse(r.text).error : r.text;
        assert.equal(text, `key ${ENC_MASK} rejected`, kind);
      }
    });
  }

  test("a content-encoding the proxy cannot decode: 502 with a clear message, nothing of the body", async () => {
    for (const codings of ["compress", "gzip, zstd"]) {
      const r = await get(`/pulse/job/coded-${encodeURIComponent(codings)}`);
      assert.equal(r.status, 502, codings);
      assert.equal(r.headers["content-encoding"], undefined);
      assert.match(JSON.parse(r.text).error, /content-encoding this proxy cannot decode/);
    }
    assert.ok(encLogs.some((l) => /cannot decode/.test(l)), "the refusal is logged");
  });

  test("a body that does not decompress: 502 with a message, not the bytes", async () => {
    const r = await get("/pulse/job/corrupt-gzip");
    assert.equal(r.status, 502);
    assert.match(JSON.parse(r.text).error, /could not be decoded/);
  });

  test("unit: the stream masker catches every form split at any chunk size", async () => {
    const r = redactor(ENC_KEY);
    const forms = [ENC_KEY, jsonUpper(ENC_KEY), mixed(ENC_KEY), percentAll(ENC_KEY), ENC_KEY.replaceAll("/", "\\/")];
    const text = `x${forms.join("|")}y`;
    const want = `x${forms.map((f) => "*".repeat(f.length)).join("|")}y`;
    for (const size of [1, 2, 3, 5, 6, 7, ENC_KEY.length, 6 * ENC_KEY.length, 1000]) {
      const chunks = [];
      for (let i = 0; i < text.length; i += size) chunks.push(Buffer.from(text.slice(i, i + size)));
      const out = [];
      for await (const c of r.stream(chunks)) out.push(c);
      assert.equal(Buffer.concat(out).toString(), want, `chunk size ${size}`);
    }
    assert.equal(r.text("ENC/KEY-7F3A9C/QZ_X"), "ENC/KEY-7F3A9C/QZ_X", "the key's own letters keep their case: no false match");
  });
});

describe("issue 19 (16-18): the demo's static server", { concurrency: true }, () => {
  let dir;
  let outside;
  let site;
  before(async () => {
    dir = stubPackage();
    outside = mkdtempSync(join(tmpdir(), "pulse-demo-outside-"));
    writeFileSync(join(outside, "secret.txt"), "outside the served directory\n");
    symlinkSync(join(outside, "secret.txt"), join(dir, "web", "leak.txt"));
    symlinkSync(outside, join(dir, "web", "out"));
    symlinkSync(join(dir, "web", "index.js"), join(dir, "web", "alias.js"));
    site = await startDemo({ port: 0, pkgDir: dir });
  });
  after(async () => {
    await site?.close();
    for (const d of [dir, outside]) if (d) rmSync(d, { recursive: true, force: true });
  });
  const siteOrigin = () => site.url.replace(/\/$/, "");

  test("16: a directory redirect never names another host", async () => {
    const cases = [
      ["//evil.example/worker", 404, null],
      ["/\\evil.example/worker", 404, null],
      ["///evil.example/worker", 404, null],
      ["//worker", 301, "/worker/"],
      ["/\\worker", 301, "/worker/"],
      ["/.//worker?x=1", 301, "/worker/?x=1"],
      ["/worker?x=1", 301, "/worker/?x=1"],
      ["/pulse-jobs//web", 301, "/pulse-jobs//web/"],
    ];
    for (const [target, status, location] of cases) {
      const r = await rawGet(siteOrigin(), target);
      const where = `${target} → ${r.status} ${r.headers.location ?? ""}`;
      if (r.headers.location !== undefined) {
        assert.ok(!/^[/\\]{2}/.test(r.headers.location), where);
        assert.equal(new URL(r.headers.location, site.url).origin, siteOrigin(), where);
      }
      assert.equal(r.status, status, where);
      assert.equal(r.headers.location, location ?? undefined, where);
    }
  });

  test("17: every answer forbids framing (CSP frame-ancestors, X-Frame-Options)", async () => {
    const sample = ["/", "/index.html", "/app.js", "/backend.json", "/nope", "/worker", "/api/job/x", "/pulse/job/x", "/pulse-jobs/web/index.js"];
    for (const path of sample) {
      const r = await rawGet(siteOrigin(), path);
      const csp = r.headers["content-security-policy"] ?? "";
      assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/, `${path} (${r.status}): ${csp}`);
      assert.match(csp, /default-src 'self'/, `${path}: the page's own policy is kept`);
      assert.equal(r.headers["x-frame-options"], "DENY", path);
    }
    const proxied = await rawGet(echoOrigin(), "/pulse/job/pointer-in");
    assert.match(proxied.headers["content-security-policy"], /frame-ancestors 'none'/, "proxy answers too");
    assert.equal(proxied.headers["x-frame-options"], "DENY");
  });

  test("18: a symlink to a file or directory outside the served directory is not served", async () => {
    for (const path of ["/pulse-jobs/web/leak.txt", "/pulse-jobs/web/out/secret.txt", "/pulse-jobs/web/out/"]) {
      const r = await rawGet(siteOrigin(), path);
      assert.equal(r.status, 404, `${path}: ${r.body}`);
      assert.ok(!r.body.toString().includes("outside the served"), path);
    }
    const inside = await rawGet(siteOrigin(), "/pulse-jobs/web/alias.js");
    assert.equal(inside.status, 200, "a symlink that stays inside is served");
    assert.equal(inside.body.toString(), "export {};\n");
  });
});

describe("the package and the command line through the proxy", { skip: !HAVE_PKG && "pkg/ is not built (make pkg)" }, () => {
  test("waitForJob with baseUrl {demo}/pulse and no apiKey downloads a large result through the proxy", async () => {
    const { loadPulse } = await import("./support/package.js");
    const { esm: P } = await loadPulse();
    const id = jid("singleuse_120000");
    const progress = [];
    const job = await P.waitForJob(id, {
      baseUrl: `${origin()}/pulse`,
      apiKey: undefined,
      initialDelayMs: 5,
      onDownloadProgress: (p) => progress.push(p.loaded),
    });
    assert.equal(job.status, "completed");
    assert.notEqual(job.result.is_url, true, "the pointer was replaced by the downloaded result");
    assert.equal(typeof job.result.markdown, "string");
    assert.equal(progress.at(-1), 120000);
    const dl = apiRecords(id).filter((x) => x.path.startsWith("/large_results/"));
    assert.equal(dl.length, 1);
    assert.equal(dl[0].headers["x-api-key"], KEY);
    const canceled = await P.cancelJob(jid("steps_9"), { baseUrl: `${origin()}/pulse` });
    assert.equal(canceled.message, "Job canceled");
  });

  test("node www/serve.js reads PULSE_API_KEY and PULSE_UPSTREAM and never prints the key", async () => {
    const child = spawn(process.execPath, [join(repoRoot, "www", "serve.js")], {
      env: { ...process.env, PORT: "0", PULSE_API_KEY: KEY, PULSE_UPSTREAM: upstream.apiUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    try {
      const end = Date.now() + 10000;
      while (!/backend:/.test(out) && Date.now() < end && child.exitCode === null) await sleep(20);
      const url = out.match(/demo: (http:\S+)/)?.[1];
      assert.ok(url, `no URL printed: ${out}`);
      const r = await browserFetch(`${url}backend.json`);
      assert.deepEqual(r.json(), { backend: "pulse", baseUrl: "/pulse", upstream: upstream.apiUrl });
      const id = jid("ok");
      assert.equal((await browserFetch(`${url}pulse/job/${id}`)).json().status, "completed");
      assert.equal(apiRecords(id)[0].headers["x-api-key"], KEY);
      assert.ok(!out.includes(KEY), "the key was printed");
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
    }
  });
});
