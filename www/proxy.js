// The demo's proxy to the Pulse API: the pattern a browser app uses to keep
// its Pulse key on the server. The page calls its own origin
// (`/pulse/job/{id}`); this module forwards the request to the upstream API
// and adds `x-api-key` there, so the key never reaches the browser.
//
// What it guards against, and why:
// - the key leaking to the browser: only a short list of request headers is
//   forwarded (the browser's own x-api-key, authorization and cookies are
//   dropped), only a short list of response headers comes back, and every
//   response body and header is scanned for the key in every form a browser
//   or a JSON parser decodes back to it (see redactor): compressed bodies are
//   decompressed first, and a content-encoding it cannot decode is refused;
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
import { pipeline as chain } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";

export const DEFAULT_UPSTREAM = "https://api.runpulse.com";
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024; // a document upload
export const DEFAULT_TIMEOUT_MS = 120_000; // upstream socket idle time
const JSON_LIMIT = 16 * 1024 * 1024; // JSON answers buffered to parse (inline results are < 5 MB); larger ones are streamed
const MIN_REDACTED_KEY = 8; // shorter "keys" would mask ordinary words in bodies

// Request headers the API needs; everything else the browser sent stays here.
const FORWARD_REQUEST = ["accept", "content-type", "content-length"];
// Response headers the page needs (the package reads Retry-After and Content-Length).
// Content-Encoding is not among them: bodies are decoded here (to be scanned) and sent as identity.
const FORWARD_RESPONSE = ["content-type", "content-length", "retry-after", "location"];
// The content-codings the proxy can decode, to scan what is inside.
const DECODERS = {
  identity: null,
  gzip: () => zlib.createGunzip(),
  "x-gzip": () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};
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

// Every form a visible-ASCII character of the key takes in text that a browser
// or a JSON parser decodes back: itself, a JSON escape (\u0070, or \/ \" \\),
// or percent-encoding (%70); hex digits in either case, forms mixed freely.
function charForms(c) {
  const hex = c.charCodeAt(0).toString(16).padStart(4, "0");
  const anyCase = (h) => h.replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
  const literal = c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  const forms = [literal, `\\\\u${anyCase(hex)}`, `%${anyCase(hex.slice(2))}`];
  if (`/"\\`.includes(c)) forms.push(`\\\\${literal}`);
  return `(?:${forms.join("|")})`;
}
const LONGEST_CHAR_FORM = "\\u0070".length;

/**
 * A redactor for one key. Each occurrence of the key in any of charForms'
 * encodings is replaced by as many `*` as it has characters, so lengths stay
 * true. `text(s)` masks a string; `bytes(buf)` a buffer; `json(value)` every
 * string and property name of a parsed value (escapes are decoded by then;
 * the same value back when nothing changed); `stream(source)` a byte stream,
 * holding back the longest encoded form less one byte so an occurrence split
 * across chunks is caught too.
 */
export function redactor(key) {
  if (!key || key.length < MIN_REDACTED_KEY) {
    return { text: (s) => s, bytes: (b) => b, json: (v) => v, stream: (source) => source };
  }
  const pattern = new RegExp([...key].map(charForms).join(""), "g");
  const text = (s) => String(s).replace(pattern, (m) => "*".repeat(m.length));
  // Latin-1 maps bytes to characters one to one, and the key is ASCII: bytes stay bytes.
  const bytes = (buf) => Buffer.from(text(Buffer.from(buf).toString("latin1")), "latin1");
  const hold = key.length * LONGEST_CHAR_FORM - 1;
  const json = (value) => {
    if (typeof value === "string") return text(value);
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) {
      const out = value.map(json);
      return out.some((v, i) => v !== value[i]) ? out : value;
    }
    let changed = false;
    const entries = Object.entries(value).map(([k, v]) => {
      const [k2, v2] = [text(k), json(v)];
      changed ||= k2 !== k || v2 !== v;
      return [k2, v2];
    });
    return changed ? Object.fromEntries(entries) : value; // fromEntries keeps a "__proto__" key a key
  };
  return {
    text,
    bytes,
    json,
    stream: async function* (source) {
      let carry = "";
      for await (const chunk of source) {
        const buf = text(carry + Buffer.from(chunk).toString("latin1"));
        const cut = Math.max(0, buf.length - hold);
        if (cut > 0) yield Buffer.from(buf.slice(0, cut), "latin1");
        carry = buf.slice(cut);
      }
      if (carry) yield Buffer.from(carry, "latin1");
    },
  };
}

/**
 * The decoders for a Content-Encoding value (applied in order), [] for none,
 * or null when one of its codings cannot be decoded (then the body cannot be
 * scanned for the key and is not passed on).
 */
export function decodersFor(contentEncoding) {
  const codings = String(contentEncoding ?? "").split(",").map((c) => c.trim().toLowerCase()).filter(Boolean);
  if (codings.some((c) => !Object.hasOwn(DECODERS, c))) return null;
  return codings.reverse().flatMap((c) => (DECODERS[c] ? [DECODERS[c]()] : []));
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
        if (browserLeft || res.writableEnded) return; // nothing left to answer (a refused encoding was)
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
          // Not begun yet (a body that would not decompress, say): a clear 502 rather than a reset.
          if (!browserLeft && !res.headersSent) return sendJson(res, 502, { error: "The Pulse API's answer broke off or could not be decoded." });
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
    // accept-encoding identity: the proxy must see the bytes to mask the key and rewrite links (an answer compressed anyway is decoded in relay).
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
    const status = upRes.statusCode;
    // A body-less answer has nothing to decode (and an empty "gzip" body would not decode).
    const bodyless = status === 204 || status === 304 || upRes.headers["content-length"] === "0";
    const decoders = bodyless ? [] : decodersFor(upRes.headers["content-encoding"]);
    if (decoders === null) {
      upRes.destroy();
      say(`demo proxy: ${ctx.label}: the Pulse API answered in a content-encoding the proxy cannot decode`);
      return sendJson(res, 502, {
        error: "The Pulse API answered in a content-encoding this proxy cannot decode, so it cannot check the answer for the key; nothing of it was passed on.",
      });
    }
    const headers = responseHeaders(upRes, to, ctx);
    if (decoders.length) delete headers["content-length"]; // the decoded length is known only at the end
    const body = decoders.length ? chain(upRes, ...decoders, () => {}) : upRes; // errors reach the last stream
    const json = /\bjson\b/i.test(upRes.headers["content-type"] ?? "");
    const small = !(Number(upRes.headers["content-length"]) > JSON_LIMIT);
    if (json && small) return relayJson(status, headers, body, res, ctx);
    res.writeHead(status, headers);
    await pipeline(body, redact.stream, res);
  }

  /**
   * A JSON answer, buffered and parsed so the key is masked in every decoded
   * string, whatever escapes the API used; a job poll's large-result link is
   * moved to the proxy. Too large to parse here: streamed through the masker.
   */
  async function relayJson(status, headers, body, res, ctx) {
    const chunks = [];
    let size = 0;
    const it = body[Symbol.asyncIterator]();
    for (let step = await it.next(); !step.done; step = await it.next()) {
      chunks.push(step.value);
      size += step.value.length;
      if (size > JSON_LIMIT) {
        res.writeHead(status, headers);
        await pipeline(chained(chunks, it), redact.stream, res);
        return;
      }
    }
    const out = rewriteJson(Buffer.concat(chunks), ctx.isJobPoll && status >= 200 && status < 300, ctx.proxyBase);
    res.writeHead(status, { ...headers, "content-length": out.length });
    res.end(out);
  }

  /**
   * The answer's bytes with the key masked: re-serialized when a decoded
   * string held it or a link moved, else the original bytes masked as text
   * (a key of digits could be a number). Bytes that do not parse are text.
   */
  function rewriteJson(bytes, isJob, proxyBase) {
    let value;
    let masked;
    try {
      value = JSON.parse(bytes.toString("utf8"));
      masked = redact.json(value);
    } catch {
      return redact.bytes(bytes); // not JSON after all, or nested too deep to walk
    }
    const moved = isJob ? moveResultLink(masked, proxyBase) : masked;
    return moved === value ? redact.bytes(bytes) : Buffer.from(JSON.stringify(moved));
  }

  /** The job with result.url on the proxy when the API's own link, else the job unchanged. */
  function moveResultLink(job, proxyBase) {
    const result = job && typeof job === "object" ? job.result : null;
    if (!result || typeof result !== "object" || result.is_url !== true || typeof result.url !== "string") return job;
    const url = toProxyUrl(result.url, target, proxyBase);
    return url === null ? job : { ...job, result: { ...result, url } };
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
