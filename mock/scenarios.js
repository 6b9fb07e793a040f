// The scenario table: a job id `<name>[_<n>[_<m>]][-<nonce>]` picks a scenario
// and its parameters. Each scenario turns a context into a reply descriptor:
//
//   poll(ctx)      GET /job/{id}            ctx.poll counts GETs of the id from 1
//   download(ctx)  GET {storage}/result/{id} and {api}/proxy/result/{id}
//                                           ctx.download counts them from 1, ctx.token is ?token=
//   remove(ctx)    DELETE /job/{id}         default: cancel the job
//
// ctx = { id, args, state, poll, download, token, side, headers, now, apiBase, storageBase, plainStorageBase }
// (headers: the request's, lower-cased; side: "api" | "storage", for downloads).

import { MAX_RESULT_BYTES, SMALL_RESULT_BYTES, compressedDocument, resultDocument } from "./results.js";
import {
  bytes, chunked, cut, encoded, hang, job, json, noContent, notFound, redirect, stall, text, truncate,
} from "./replies.js";

const DEFAULT_URL_RESULT_BYTES = 6_000_000; // large_, chunked_, proxy_ (above the API's 5 MB pointer threshold)
const DEFAULT_DOWNLOAD_BYTES = 100_000; // presign*, dlflaky_, dl429_, dlstall_, dlcut_
const DEFAULT_INLINE_BYTES = 100_000;
const TRANSIENT_STATUSES = [500, 502, 503, 504];
export const FAILED_ERROR = "Document could not be parsed";
const RETENTION_STUB = { page_count: 1, message: "The result has expired and is no longer retained" };

// ---- parameters -------------------------------------------------------------

const count = (fallback) => ({ fallback, parse: (v) => (Number.isSafeInteger(v) ? v : undefined) });
const size = (fallback) => ({
  fallback,
  parse: (v) => (Number.isSafeInteger(v) && v > 0 && v <= MAX_RESULT_BYTES ? v : undefined),
});
const httpStatus = () => ({ parse: (v) => (Number.isInteger(v) && v >= 200 && v <= 599 ? v : undefined) });
const oneOf = (...choices) => ({ parse: (v) => (choices.includes(v) ? v : undefined) });

/** Splits a job id into `{ name, args, nonce }`; numeric args become numbers. */
export function parseJobId(id) {
  const dash = id.indexOf("-");
  const head = dash === -1 ? id : id.slice(0, dash);
  const [name, ...args] = head.split("_");
  return {
    name,
    args: args.map((arg) => (/^\d{1,15}$/.test(arg) ? Number(arg) : arg)),
    nonce: dash === -1 ? "" : id.slice(dash + 1),
  };
}

function resolveArgs(specs = [], raw) {
  if (raw.length > specs.length) return null;
  const values = specs.map((spec, i) => (raw[i] === undefined ? spec.fallback : spec.parse(raw[i])));
  return values.includes(undefined) ? null : values;
}

// ---- building blocks ----------------------------------------------------------

export const completed = (ctx, result = resultDocument(SMALL_RESULT_BYTES)) => job(ctx, "completed", { result });
export const pointer = (ctx, url) => completed(ctx, { is_url: true, url });
export const storageUrl = (ctx, token) => `${ctx.storageBase}/result/${encodeURIComponent(ctx.id)}?token=${token}`;
const proxyUrl = (ctx) => `${ctx.apiBase}/proxy/result/${encodeURIComponent(ctx.id)}`;
const largeResultsUrl = (ctx) => `${ctx.apiBase}/large_results/${encodeURIComponent(ctx.id)}`;
export const documentReply = (size) => bytes(200, resultDocument(size));

export function transient(poll) {
  const status = TRANSIENT_STATUSES[(poll - 1) % TRANSIENT_STATUSES.length];
  return json(status, { error: `mock transient ${status}` });
}

// Rounded up to the next whole second, so the date is at least `seconds` ahead.
function httpDate(now, seconds) {
  return new Date(Math.ceil(now / 1000 + seconds) * 1000).toUTCString();
}

// ---- error bodies that test the package's message cleaning (section 2 of issue 6) ----

/** echo_C: a 401-style error echoing the request's key and x-tenant header. */
export function echoError(headers) {
  const key = headers["x-api-key"] ?? "(none)";
  const tenant = headers["x-tenant"];
  return `invalid api key ${key}` + (tenant === undefined ? "" : ` for tenant ${tenant}`);
}

export const FASTAPI_DETAIL = [
  { loc: ["body", "file_url"], msg: "field required", type: "value_error.missing" },
  { loc: ["query", "pages"], msg: "must be positive", type: "value_error" },
];
export const ERROR_OBJECT = { code: "rate_limited", message: "Slow down please" };
/**
 * pulseerr_C: Pulse's own error shape, `{ code, message, details }`. With an
 * `x-echo` request header, the code and the details echo the request's key.
 */
export function pulseError(headers) {
  const key = headers["x-echo"] === undefined ? undefined : headers["x-api-key"] ?? "(none)";
  if (key === undefined) return { code: "invalid_pages", message: "pages must be positive", details: { field: "pages", min: 1 } };
  return { code: `bad_key_${key}`, message: "pages must be positive", details: { field: "pages", key } };
}
export const ANSI_ERROR = "\u001b[31mred\u001b[0m text\u0007 with\nnewline";
export const LONG_ERROR_CHARS = 5000;

/** long_C: 5000 characters of words separated by single spaces (nothing to clean), ending `END-OF-ERROR`. */
export function longErrorText(length = LONG_ERROR_CHARS) {
  const tail = " END-OF-ERROR";
  let text = "The uploaded document failed validation:";
  for (let i = 1; text.length < length; i++) text += ` check${i} failed`;
  return text.slice(0, length - tail.length) + tail;
}

function expiredUrl() {
  const xml = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
  return text(403, xml, "application/xml");
}

function badUrl(ctx, kind) {
  if (kind === "ftp") return `ftp://${new URL(ctx.storageBase).host}/result/${encodeURIComponent(ctx.id)}`;
  if (kind === "rel") return `/result/${encodeURIComponent(ctx.id)}`;
  return 12345;
}

/** A scenario whose completed result is a pointer; `download` serves the URL. */
function byUrl({ args, url = (ctx) => storageUrl(ctx, 1), download }) {
  return { args, poll: (ctx) => pointer(ctx, url(ctx)), download };
}

const answerEveryTime = (make) => ({ args: [httpStatus()], poll: make, remove: make });

/** dlgzip_B / dlbr_B: the document compressed, with Content-Encoding and the compressed Content-Length. */
function compressedReply(size, encoding) {
  return encoded(documentReply(size), encoding, compressedDocument(size, encoding));
}

// dlredirect_<kind>: the storage URL (?token=1) answers 302; the hop (?token=2) serves the result.
function redirectTarget(ctx, kind) {
  const id = encodeURIComponent(ctx.id);
  if (kind === "http") return `${ctx.plainStorageBase}/result/${id}?token=2`;
  if (kind === "https") return storageUrl(ctx, 2);
  if (kind === "rel") return `./${id}?token=2`;
  const next = Number(ctx.token);
  return storageUrl(ctx, Number.isSafeInteger(next) ? next + 1 : 2); // loop: a new URL every hop, forever
}

// ---- the table ------------------------------------------------------------------

export const SCENARIOS = {
  ok: { poll: (ctx) => completed(ctx) },
  steps: {
    args: [count(2)],
    poll: (ctx) => {
      if (ctx.poll > ctx.args[0]) return completed(ctx);
      return job(ctx, ctx.poll === 1 ? "pending" : "processing");
    },
  },
  slow: {
    args: [count(100)],
    poll: (ctx) => new Promise((resolve) => setTimeout(() => resolve(ctx.poll > 1 ? completed(ctx) : job(ctx, "processing")), ctx.args[0])),
  },
  failed: { poll: (ctx) => job(ctx, "failed", { error: FAILED_ERROR }) },
  canceled: { poll: (ctx) => job(ctx, "canceled") },
  cancelled: { poll: (ctx) => job(ctx, "cancelled") },
  expired: { poll: (ctx) => job(ctx, "expired", { result: RETENTION_STUB }) },
  unknown: {
    args: [count(1)],
    poll: (ctx) => (ctx.poll <= ctx.args[0] ? job(ctx, "queued_for_review") : completed(ctx)),
  },
  flaky: {
    args: [count(4)],
    poll: (ctx) => (ctx.poll <= ctx.args[0] ? transient(ctx.poll) : completed(ctx)),
  },
  status: answerEveryTime((ctx) => json(ctx.args[0], { error: `mock status ${ctx.args[0]}` })),
  detail: answerEveryTime((ctx) => json(ctx.args[0], { detail: `mock detail ${ctx.args[0]}` })),
  text: answerEveryTime((ctx) => text(ctx.args[0], `mock text ${ctx.args[0]}`)),
  retry429: {
    args: [count(1)],
    poll: (ctx) => {
      if (ctx.poll > 1) return completed(ctx);
      return json(429, { error: "Too many requests" }, { "retry-after": String(ctx.args[0]) });
    },
  },
  retrydate: {
    args: [count(1)],
    poll: (ctx) => {
      if (ctx.poll > 1) return completed(ctx);
      return json(503, { error: "Service unavailable" }, { "retry-after": httpDate(ctx.now, ctx.args[0]) });
    },
  },
  retryok: {
    args: [count(1)],
    poll: (ctx) => {
      if (ctx.poll > 1) return completed(ctx);
      return job(ctx, "processing", { headers: { "retry-after": String(ctx.args[0]) } });
    },
  },
  notjson: {
    poll: () => text(200, "<!doctype html><html><body><h1>Pulse</h1><p>Not JSON.</p></body></html>", "text/html; charset=utf-8"),
  },
  nostatus: {
    poll: (ctx) => json(200, { job_id: ctx.id, message: "This payload has no status field" }),
  },
  hang: { poll: hang, remove: hang },
  stall: {
    args: [count(1)],
    poll: (ctx) => (ctx.poll <= ctx.args[0] ? stall(completed(ctx)) : completed(ctx)),
  },
  cut: {
    args: [count(1)],
    poll: (ctx) => (ctx.poll <= ctx.args[0] ? cut() : completed(ctx)),
  },
  inline: {
    args: [size(DEFAULT_INLINE_BYTES)],
    poll: (ctx) => completed(ctx, resultDocument(ctx.args[0])),
  },
  large: byUrl({
    args: [size(DEFAULT_URL_RESULT_BYTES)],
    download: (ctx) => documentReply(ctx.args[0]),
  }),
  chunked: byUrl({
    args: [size(DEFAULT_URL_RESULT_BYTES)],
    download: (ctx) => chunked(documentReply(ctx.args[0])),
  }),
  proxy: byUrl({
    args: [size(DEFAULT_URL_RESULT_BYTES)],
    url: proxyUrl,
    download: (ctx) => documentReply(ctx.args[0]),
  }),
  presign: byUrl({
    args: [size(DEFAULT_DOWNLOAD_BYTES)],
    url: (ctx) => storageUrl(ctx, ctx.poll),
    download: (ctx) => (ctx.token === "1" ? expiredUrl() : documentReply(ctx.args[0])),
  }),
  presignstale: byUrl({ url: (ctx) => storageUrl(ctx, ctx.poll), download: expiredUrl }),
  presignsame: byUrl({ download: expiredUrl }),
  dlflaky: byUrl({
    args: [count(1), size(DEFAULT_DOWNLOAD_BYTES)],
    download: (ctx) => {
      if (ctx.download > ctx.args[0]) return documentReply(ctx.args[1]);
      return json(503, { error: "mock storage 503" });
    },
  }),
  dl429: byUrl({
    args: [count(1), size(DEFAULT_DOWNLOAD_BYTES)],
    download: (ctx) => {
      if (ctx.download > 1) return documentReply(ctx.args[1]);
      return json(429, { error: "Too many requests" }, { "retry-after": String(ctx.args[0]) });
    },
  }),
  dlstatus: byUrl({
    args: [httpStatus()],
    download: (ctx) => json(ctx.args[0], { error: `mock storage status ${ctx.args[0]}` }),
  }),
  dlstall: byUrl({
    args: [size(DEFAULT_DOWNLOAD_BYTES)],
    download: (ctx) => stall(documentReply(ctx.args[0])),
  }),
  dlcut: byUrl({
    args: [size(DEFAULT_DOWNLOAD_BYTES)],
    download: (ctx) => {
      const reply = documentReply(ctx.args[0]);
      return ctx.download === 1 ? truncate(reply) : reply;
    },
  }),
  // ---- issue 6 (reliability) ----
  echo: answerEveryTime((ctx) => json(ctx.args[0], { error: echoError(ctx.headers) })),
  fastapi: answerEveryTime((ctx) => json(ctx.args[0], { detail: FASTAPI_DETAIL })),
  errobj: answerEveryTime((ctx) => json(ctx.args[0], { error: ERROR_OBJECT })),
  pulseerr: answerEveryTime((ctx) => json(ctx.args[0], { error: pulseError(ctx.headers) })),
  ansi: answerEveryTime((ctx) => json(ctx.args[0], { error: ANSI_ERROR })),
  long: answerEveryTime((ctx) => json(ctx.args[0], { error: longErrorText() })),
  failedecho: {
    poll: (ctx) => job(ctx, "failed", { error: `could not parse; key was ${ctx.headers["x-api-key"] ?? "(none)"}` }),
  },
  cancel204: {
    poll: (ctx) => job(ctx, ctx.poll === 1 ? "pending" : "processing"),
    remove: (ctx) => {
      ctx.state.canceled = true;
      return noContent();
    },
  },
  singleuse: byUrl({
    args: [size(DEFAULT_DOWNLOAD_BYTES)],
    url: largeResultsUrl,
    download: (ctx) => (ctx.download === 1 ? documentReply(ctx.args[0]) : json(410, { error: "Gone" })),
  }),
  dlpulseerr: byUrl({
    args: [httpStatus()],
    url: largeResultsUrl,
    download: (ctx) => json(ctx.args[0], { error: pulseError(ctx.headers) }),
  }),
  dlgzip: byUrl({
    args: [size(DEFAULT_URL_RESULT_BYTES)],
    download: (ctx) => compressedReply(ctx.args[0], "gzip"),
  }),
  dlbr: byUrl({
    args: [size(DEFAULT_URL_RESULT_BYTES)],
    download: (ctx) => compressedReply(ctx.args[0], "br"),
  }),
  dlredirect: byUrl({
    args: [oneOf("http", "https", "rel", "loop"), size(DEFAULT_DOWNLOAD_BYTES)],
    download: (ctx) => {
      const [kind, size] = ctx.args;
      if (kind === "loop" || ctx.token === "1") return redirect(redirectTarget(ctx, kind));
      return documentReply(size);
    },
  }),
  proxyredirect: byUrl({
    args: [size(DEFAULT_URL_RESULT_BYTES)],
    url: proxyUrl,
    download: (ctx) => (ctx.side === "api" ? redirect(storageUrl(ctx, 1)) : documentReply(ctx.args[0])),
  }),
  badurl: {
    args: [oneOf("ftp", "rel", "num")],
    poll: (ctx) => pointer(ctx, badUrl(ctx, ctx.args[0])),
  },
};

/** `{ scenario, args }` for a job id, or null when the id names no scenario. */
export function findScenario(id) {
  const { name, args } = parseJobId(id);
  const scenario = Object.hasOwn(SCENARIOS, name) ? SCENARIOS[name] : null;
  const values = scenario && resolveArgs(scenario.args, args);
  return values ? { scenario, args: values } : null;
}

// ---- applying a scenario (shared defaults) ---------------------------------------

export function pollReply(scenario, ctx) {
  if (ctx.state.canceled) return job(ctx, "canceled");
  return scenario.poll(ctx);
}

export function deleteReply(scenario, ctx) {
  if (scenario.remove) return scenario.remove(ctx);
  ctx.state.canceled = true;
  return json(200, { job_id: ctx.id, message: "Job canceled" });
}

export function downloadReply(scenario, ctx) {
  return scenario.download ? scenario.download(ctx) : notFound("Result not found");
}
