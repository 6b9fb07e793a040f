// The demo's proxy to the Pulse API: the pattern a browser app uses to keep
// its Pulse key on the server. The page calls its own origin
// (`/pulse/job/{id}`); this module forwards the request to the upstream API
// and adds `x-api-key` there, so the key never reaches the browser.
//
// What it guards against, and why:
// - the key leaking to the browser: only a short list of request headers is
//   forwarded (the browser's own x-api-key, authorization and cookies are
//   dropped), only a short list of response headers comes back, and every
//   response body and header is scanned for the key, which is masked with
//   `*` of the same length (so Content-Length stays true);
// - an open proxy (SSRF): the target is always the upstream origin under its
//   base path, built from the request path; a path that escapes it is refused;
// - other web sites using the key: a page elsewhere could POST to
//   127.0.0.1:8080 (CSRF) or rebind its own DNS name to it. Requests must name
//   this server in Host and must not come from another origin (Origin,
//   Sec-Fetch-Site).
//
// Plain Node ESM, no dependencies. serve.js mounts it under /pulse.

import http from "node:http";
import https from "node:https";
import { pipeline } from "node:stream/promises";

export const DEFAULT_UPSTREAM = "https://api.runpulse.com";
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024; // a document upload
export const DEFAULT_TIMEOUT_MS = 120_000; // upstream socket idle time
const JOB_JSON_LIMIT = 16 * 1024 * 1024; // job answers buffered to rewrite links (inline results are < 5 MB)
const MIN_REDACTED_KEY = 8; // shorter "keys" would mask ordinary words in bodies

// Request headers the API needs; everything else the browser sent stays here.
const FORWARD_REQUEST = ["accept", "content-type", "content-length"];
// Response headers the page needs (the package reads Retry-After and Content-Length).
const FORWARD_RESPONSE = ["content-type", "content-length", "content-encoding", "retry-after", "location"];
const METHODS = new Set(["GET", "POST", "DELETE"]);

/** A settings error (bad upstream or key); its message never contains the key. */
export class ProxyConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProxyConfigError";
  }
}

/**
 * Checks the upstream base URL: http(s), no credentials, query or fragment.
 * The message does not repeat the value (a key pasted into it would be printed).
 */
export function parseUpstream(value = DEFAULT_UPSTREAM) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new ProxyConfigError("the Pulse upstream (PULSE_UPSTREAM) is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ProxyConfigError("the Pulse upstream must be an http(s) URL");
  if (url.username || url.password) throw new ProxyConfigError("the Pulse upstream must not carry credentials");
  if (url.search || url.hash) throw new ProxyConfigError("the Pulse upstream must not have a query or fragment");
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, ""), protocol: url.protocol };
}

/** The key as it goes into a header: trimmed, visible ASCII only (Node would throw on the first request otherwise). */
export function checkApiKey(key) {
  const k = typeof key === "string" ? key.trim() : "";
  if (!k) throw new ProxyConfigError("the Pulse API key (PULSE_API_KEY) is empty");
  if (!/^[\x21-\x7e]+$/.test(k)) throw new ProxyConfigError("the Pulse API key contains characters not allowed in an HTTP header");
  return k;
}

/**
 * The proxy URL for `link` when it is on the upstream origin under its base
 * path, else null (links elsewhere, such as presigned S3 URLs, are not ours to
 * proxy: that would make this an open proxy).
 */
export function toProxyUrl(link, upstream, proxyBase) {
  let url;
  try {
    url = new URL(link);
  } catch {
    return null;
  }
  if (url.origin !== upstream.origin || url.username || url.password) return null;
  const rest = underBase(url.pathname, upstream.basePath);
  return rest === null ? null : `${proxyBase}${rest}${url.search}`;
}

// The part of `pathname` after `basePath` ("" or "/…"), or null when outside it.
function underBase(pathname, basePath) {
  if (pathname === basePath) return "";
  return pathname.startsWith(`${basePath}/`) ? pathname.slice(basePath.length) : null;
}

/**
 * The upstream URL for the part of a request path after the mount prefix, or
 * null when it could leave the upstream's base: dot segments, encoded slashes
 * or backslashes (some servers decode them before routing).
 */
export function upstreamUrl(rest, search, upstream) {
  if (rest !== "" && !rest.startsWith("/")) return null;
  for (const segment of rest.split("/")) {
    let decoded;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return null;
    }
    if (decoded === "." || decoded === ".." || decoded.includes("/") || decoded.includes("\\")) return null;
  }
  // Concatenated, never resolved relative to the origin: "//evil.example" stays a path.
  const url = new URL(`${upstream.origin}${upstream.basePath}${rest}${search}`);
  if (url.origin !== upstream.origin || underBase(url.pathname, upstream.basePath) === null) return null;
  return url;
}

/** Masks every occurrence of the key in a buffer, in place, with as many `*`. */
function maskInPlace(buf, needle) {
  for (let i = buf.indexOf(needle); i !== -1; i = buf.indexOf(needle, i + needle.length)) {
    buf.fill(0x2a, i, i + needle.length);
  }
  return buf;
}

/**
 * A redactor for one key: `text(s)` masks it in a string; `stream(source)`
 * masks it in a byte stream, holding back key-length - 1 bytes so an
 * occurrence split across two chunks is caught too.
 */
export function redactor(key) {
  if (!key || key.length < MIN_REDACTED_KEY) return { text: (s) => s, stream: (source) => source };
  const needle = Buffer.from(key);
  const mask = "*".repeat(key.length);
  return {
    text: (s) => String(s).split(key).join(mask),
    stream: async function* (source) {
      let carry = Buffer.alloc(0);
      for await (const chunk of source) {
        const buf = maskInPlace(carry.length ? Buffer.concat([carry, chunk]) : Buffer.from(chunk), needle);
        const cut = Math.max(0, buf.length - (needle.length - 1));
        if (cut > 0) yield buf.subarray(0, cut);
        carry = buf.subarray(cut);
      }
      if (carry.length) yield carry;
    },
  };
}

/**
 * Why a request may not use the proxy, or null. The Host header must name
 * this server (DNS rebinding), and a request from a page must come from this
 * origin (Origin, Sec-Fetch-Site: cross-site form posts and fetches).
 */
export function refusal(req, allowedHosts) {
  const host = String(req.headers.host ?? "").toLowerCase();
  if (!allowedHosts.has(host)) return "this proxy answers only requests addressed to this server";
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return "this proxy answers only this page's own requests";
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`) return "this proxy answers only this page's own requests";
  return null;
}

/** The Host values a server listening on host:port is reached by from this machine. */
export function localHosts(host, port) {
  const names = new Set(["localhost", "127.0.0.1", "[::1]"]);
  if (host && host !== "0.0.0.0" && host !== "::") names.add(host.includes(":") ? `[${host}]` : host);
  return new Set([...names].map((name) => `${name}:${port}`.toLowerCase()));
}

function sendJson(res, status, body, extra = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...extra,
  });
  res.end(text);
}

/**
 * @param {object} o
 * @param {string} o.apiKey          the Pulse key; added upstream, never sent back
 * @param {string} [o.upstream]      the API's base URL (default https://api.runpulse.com)
 * @param {string} [o.prefix="/pulse"] where serve.js mounts the proxy
 * @param {number} [o.maxBodyBytes]  largest POST body forwarded (default 64 MiB)
 * @param {number} [o.timeoutMs]     upstream socket idle timeout (default 120 s)
 * @param {(line: string) => void} [o.log] where failures are reported (default console.error); lines are redacted
 */
export function createPulseProxy({
  apiKey,
  upstream = DEFAULT_UPSTREAM,
  prefix = "/pulse",
  maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  log = (line) => console.error(line),
}) {
  const key = checkApiKey(apiKey);
  const target = parseUpstream(upstream);
  const redact = redactor(key);
  const say = (line) => log(redact.text(line));
  const client = target.protocol === "https:" ? https : http;
  const agent = new client.Agent({ keepAlive: true });
  if (key.length < MIN_REDACTED_KEY) say(`demo proxy: the API key is shorter than ${MIN_REDACTED_KEY} characters; responses are not scanned for it`);

  /**
   * Handles a request whose path starts with the prefix.
   * `url`: the parsed request URL (path still percent-encoded);
   * `allowedHosts`: Host values naming this server (see localHosts).
   */
  async function handle(req, res, url, allowedHosts) {
    const refused = refusal(req, allowedHosts);
    if (refused) return refuse(req, res, 403, { error: refused });
    if (!METHODS.has(req.method)) return refuse(req, res, 405, { error: "method not allowed" }, { allow: "GET, POST, DELETE" });
    const rest = url.pathname.slice(prefix.length);
    const to = upstreamUrl(rest, url.search, target);
    if (!to) return refuse(req, res, 400, { error: "bad path" });
    if (req.method === "POST" && Number(req.headers["content-length"]) > maxBodyBytes) {
      return refuse(req, res, 413, { error: `the body is larger than ${maxBodyBytes} bytes` }); // nothing went upstream
    }
    const proxyBase = `http://${req.headers.host.toLowerCase()}${prefix}`;
    const isJobPoll = req.method === "GET" && /^\/job\/[^/]+$/.test(rest);
    return forward(req, res, to, { proxyBase, isJobPoll, label: `${req.method} ${prefix}${rest}` });
  }

  function forward(req, res, to, ctx) {
    return new Promise((done) => {
      const upReq = client.request(to, { method: req.method, headers: requestHeaders(req), agent, timeout: timeoutMs });
      // The browser went away (the package aborted a poll): stop the upstream request too.
      // That is routine, so what follows from it is not reported.
      let browserLeft = false;
      res.on("close", () => {
        if (!res.writableFinished) {
          browserLeft = true;
          upReq.destroy();
        }
        done();
      });
      upReq.on("timeout", () => upReq.destroy(Object.assign(new Error("upstream timeout"), { code: "ETIMEDOUT" })));
      upReq.on("error", (err) => {
        if (browserLeft) return;
        if (res.headersSent) return res.destroy();
        const timedOut = err.code === "ETIMEDOUT";
        say(`demo proxy: ${ctx.label}: the Pulse API ${timedOut ? "did not answer" : "could not be reached"} (${err.code ?? "error"})`);
        sendJson(res, timedOut ? 504 : 502, {
          error: timedOut
            ? `The Pulse API did not answer within ${Math.round(timeoutMs / 1000)} s.`
            : `The Pulse API could not be reached (${err.code ?? "network error"}).`,
        });
      });
      upReq.on("response", (upRes) => {
        relay(upRes, res, to, ctx).catch((err) => {
          // The browser leaving mid-answer is routine (an aborted wait); the upstream failing is not.
          if (!browserLeft && err.code !== "ERR_STREAM_PREMATURE_CLOSE") say(`demo proxy: ${ctx.label}: the answer broke off (${err.code ?? "error"})`);
          res.destroy();
        });
      });
      sendBody(req, res, upReq);
    });
  }

  /** Forwards a POST body byte for byte (JSON or multipart), up to maxBodyBytes. */
  function sendBody(req, res, upReq) {
    if (req.method !== "POST") {
      req.resume(); // a body on GET/DELETE is not forwarded
      upReq.end();
      return;
    }
    let seen = 0;
    req.on("data", (chunk) => {
      seen += chunk.length;
      if (seen > maxBodyBytes) {
        // A chunked body grew past the limit: the upstream request is dropped unfinished.
        req.removeAllListeners("data");
        upReq.removeAllListeners("error");
        upReq.on("error", () => {});
        upReq.destroy();
        if (!res.headersSent) refuse(req, res, 413, { error: `the body is larger than ${maxBodyBytes} bytes` });
        return;
      }
      if (!upReq.write(chunk)) {
        req.pause();
        upReq.once("drain", () => req.resume());
      }
    });
    req.on("end", () => {
      if (seen <= maxBodyBytes) upReq.end();
    });
    req.on("error", () => upReq.destroy());
  }

  function requestHeaders(req) {
    // accept-encoding identity: the proxy must see the bytes to mask the key and rewrite links.
    const headers = { "x-api-key": key, "accept-encoding": "identity", "user-agent": "pulse-jobs-demo-proxy" };
    for (const name of FORWARD_REQUEST) {
      if (name !== "accept" && req.method !== "POST") continue;
      if (req.headers[name] !== undefined) headers[name] = req.headers[name];
    }
    return headers;
  }

  function responseHeaders(upRes, to, ctx) {
    const headers = { "cache-control": "no-store" }; // answers made with a server's key must not sit in shared caches
    for (const name of FORWARD_RESPONSE) {
      const value = upRes.headers[name];
      if (value === undefined) continue;
      headers[name] = redact.text(name === "location" ? rewriteLocation(value, to, ctx) : value);
    }
    return headers;
  }

  // A redirect to the API itself goes through the proxy; anywhere else stays as it is
  // (the proxy never follows it: the key must not go to another origin).
  function rewriteLocation(value, to, ctx) {
    let absolute;
    try {
      absolute = new URL(value, to).href;
    } catch {
      return value;
    }
    return toProxyUrl(absolute, target, ctx.proxyBase) ?? absolute;
  }

  async function relay(upRes, res, to, ctx) {
    const headers = responseHeaders(upRes, to, ctx);
    const body = redact.stream(upRes);
    const ok = upRes.statusCode >= 200 && upRes.statusCode < 300;
    const json = /\bjson\b/i.test(upRes.headers["content-type"] ?? "") && !upRes.headers["content-encoding"];
    const small = !(Number(upRes.headers["content-length"]) > JOB_JSON_LIMIT);
    if (ctx.isJobPoll && ok && json && small) return relayJob(upRes.statusCode, headers, body, res, ctx);
    res.writeHead(upRes.statusCode, headers);
    await pipeline(body, res);
  }

  /** A job answer: buffered, its large-result link rewritten to the proxy when on the upstream. */
  async function relayJob(status, headers, body, res, ctx) {
    const chunks = [];
    let size = 0;
    const it = body[Symbol.asyncIterator]();
    for (let step = await it.next(); !step.done; step = await it.next()) {
      chunks.push(step.value);
      size += step.value.length;
      if (size > JOB_JSON_LIMIT) {
        // Too large to be a pointer answer: passed on unchanged.
        res.writeHead(status, headers);
        await pipeline(chained(chunks, it), res);
        return;
      }
    }
    const original = Buffer.concat(chunks);
    const rewritten = rewriteJob(original, ctx.proxyBase);
    const out = rewritten ?? original;
    res.writeHead(status, { ...headers, "content-length": out.length });
    res.end(out);
  }

  /** The job JSON with result.url moved to the proxy, or null when nothing changes. */
  function rewriteJob(bytes, proxyBase) {
    let job;
    try {
      job = JSON.parse(bytes.toString("utf8"));
    } catch {
      return null;
    }
    const result = job && typeof job === "object" ? job.result : null;
    if (!result || typeof result !== "object" || result.is_url !== true || typeof result.url !== "string") return null;
    const url = toProxyUrl(result.url, target, proxyBase);
    if (url === null) return null;
    result.url = url;
    return Buffer.from(JSON.stringify(job));
  }

  return {
    handle,
    /** What /backend.json tells the page. */
    info: { backend: "pulse", baseUrl: prefix, upstream: `${target.origin}${target.basePath}` },
    close: () => agent.destroy(),
  };
}

async function* chained(first, it) {
  yield* first;
  for (let step = await it.next(); !step.done; step = await it.next()) yield step.value;
}

// Refusals are answered at once. A request that may still be sending a body gets
// "Connection: close", so its unread bytes are dropped with the socket rather
// than read (a refused upload could be large).
function refuse(req, res, status, body, extra = {}) {
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && !req.readableEnded;
  sendJson(res, status, body, hasBody ? { ...extra, connection: "close" } : extra);
  req.resume();
}
