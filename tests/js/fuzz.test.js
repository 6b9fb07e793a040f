// Seeded fuzz of the public API (reliability; docs/contract.md, "Behaviour"): thousands of calls of
// waitForJob / getJob / cancelJob (free functions and PulseClient methods)
// with hostile job ids, option values of every type, throwing getters and
// Proxies, signal-like objects, real AbortSignals (some shared by many calls),
// throwing callbacks and a hostile custom `fetch` (throws, rejects, lies about
// status/headers/body, broken body readers, node-fetch v2 responses), plus a
// fraction of calls against the real mock server.
//
// For every call: it returns a promise (only the PulseClient constructor may
// throw, and then only a PulseError INVALID_ARGUMENT), the promise settles
// within its own limits + a slack, and it settles with a job-shaped value or a
// PulseError with a documented code (consistent with the call: TIMEOUT and
// JOB_* only for waits, ABORTED only with an aborted signal and cause = reason,
// INVALID_ARGUMENT for bad ids, throwing getters and unreadable options), or
// with exactly a value the call's own onProgress/onDownloadProgress threw.
// Some waits with cancelOnAbort go through two clients shared by the run: one
// that the calls' own 429s (Retry-After: 30) keep paused, and one whose only
// place in flight (maxConcurrentRequests: 1) a background request holds most
// of the time; their cancel must still come within requestTimeoutMs.
// For the whole run: no uncaughtException, unhandledRejection,
// MaxListenersExceededWarning or wasm trap; no abort listener left on any real
// AbortSignal (or well-behaved signal-like) once its calls settled, and at most
// one on a signal at any time.
//
// Replay a failure:   PULSE_FUZZ_SEED=<seed> node --test tests/js/fuzz.test.js
// Only some calls:    PULSE_FUZZ_SEED=<seed> PULSE_FUZZ_ONLY=17,4711 node --test tests/js/fuzz.test.js
// Other knobs:        PULSE_FUZZ_CALLS (10000), PULSE_FUZZ_CONCURRENCY (200), PULSE_FUZZ_SLACK_MS (2000),
//                     PULSE_FUZZ_REPORT=<file> (every failure, not only the first 25)

import assert from "node:assert/strict";
import fs from "node:fs";
import { after, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard } from "./support/util.js";
import {
  abortListeners,
  chunkSteps,
  isWasmFault,
  mixSeed,
  mulberry32,
  nodeFetchV2Response,
  plainResponse,
  processGuard,
  rand,
  readerResponse,
  revokedProxy,
  scriptedReader,
  show,
  signalLike,
  throwingHeaders,
  WAIT_OPTION_NAMES,
} from "./support/hostile.js";

exitGuard();
const { esm, cjs } = await loadPulse();
const guard = processGuard();

const SEED = process.env.PULSE_FUZZ_SEED ? Number(process.env.PULSE_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const CALLS = Number(process.env.PULSE_FUZZ_CALLS || 10_000);
const CONCURRENCY = Number(process.env.PULSE_FUZZ_CONCURRENCY || 200);
const SLACK_MS = Number(process.env.PULSE_FUZZ_SLACK_MS || 2000);
const ONLY = process.env.PULSE_FUZZ_ONLY ? process.env.PULSE_FUZZ_ONLY.split(",").map((s) => Number(s.trim())) : null;
const MAX_FAILURES = 60; // stop launching calls after this many failures (a broken build would take minutes)
const REPLAY = `PULSE_FUZZ_SEED=${SEED} node --test tests/js/fuzz.test.js`;
console.log(`[fuzz] seed ${SEED}: ${ONLY ? `calls ${ONLY.join(",")}` : `${CALLS} calls`}, ${CONCURRENCY} in flight; replay: ${REPLAY}`);

const m = await startMockServer();
after(() => m.close());

const CODES = new Set([
  "INVALID_ARGUMENT",
  "JOB_FAILED",
  "JOB_CANCELED",
  "JOB_EXPIRED",
  "TIMEOUT",
  "ABORTED",
  "HTTP_ERROR",
  "NETWORK_ERROR",
  "INVALID_RESPONSE",
  "RESULT_TOO_LARGE",
  "RESULT_DOWNLOAD_FAILED",
]);
const WAIT_ONLY_CODES = new Set(["JOB_FAILED", "JOB_CANCELED", "JOB_EXPIRED", "TIMEOUT", "RESULT_TOO_LARGE", "RESULT_DOWNLOAD_FAILED"]);
const SCOPE = {
  client: ["apiKey", "baseUrl", "headers", "fetch"],
  request: ["apiKey", "baseUrl", "headers", "fetch", "signal", "requestTimeoutMs"],
  wait: WAIT_OPTION_NAMES,
};
const ALL_TRAPS = ["get", "has", "ownKeys", "getOwnPropertyDescriptor", "set", "defineProperty", "getPrototypeOf", "apply", "construct"];
const FAKE_BASES = ["http://fuzz.test", "http://fuzz.test/pfx/v1", "https://api.fuzz.test", "http://127.0.0.1:9/x"];

// ------------------------------------------------------------ thrown values

/** A fresh value for the caller's code to throw; kind varies (Error, object, string, symbol, undefined). */
function makeThrown(r, label) {
  const tag = `fuzz-thrown ${label}`;
  return r.pick([
    () => new Error(tag),
    () => new TypeError(tag),
    () => ({ thrown: tag }),
    () => `${tag} ${r.int(0, 1e9)}`,
    () => Symbol(tag),
    () => undefined,
    () => 0,
  ])();
}

function throwingTrapsProxy(target, error) {
  const handler = {};
  for (const trap of ALL_TRAPS) {
    handler[trap] = () => {
      throw error;
    };
  }
  return new Proxy(target, handler);
}

// ------------------------------------------------------------ option values

/** Values of every type, each with a label; `(r, plan) => value`. */
const GARBAGE = [
  ["NaN", () => NaN],
  ["Infinity", () => Infinity],
  ["-Infinity", () => -Infinity],
  ["-0", () => -0],
  ["0", () => 0],
  ["1e308", () => 1e308],
  ["-1", () => -1],
  ["0.5", () => 0.5],
  ["2**53+2", () => 2 ** 53 + 2],
  ["-1e-9", () => -1e-9],
  ["''", () => ""],
  ["'100'", () => "100"],
  ["'abc'", () => "abc"],
  ["lone surrogate", () => "\uD800x"],
  ["control chars", () => "a\u0000\n\u001b[31m"],
  ["true", () => true],
  ["false", () => false],
  ["null", () => null],
  ["undefined", () => undefined],
  ["{}", () => ({})],
  ["[]", () => []],
  ["[1]", () => [1]],
  ["function", () => () => {}],
  ["async function", () => async () => {}],
  ["symbol", () => Symbol("opt")],
  ["10n", () => 10n],
  ["Date", () => new Date(0)],
  ["RegExp", () => /x/],
  ["new Number(5)", () => new Number(5)],
  ["throwing Proxy", (r, plan) => throwingTrapsProxy({}, plan.thrownValue("proxy option"))],
  ["throwing function Proxy", (r, plan) => throwingTrapsProxy(() => {}, plan.thrownValue("proxy fn option"))],
  ["revoked Proxy", () => revokedProxy()],
  ["revoked function Proxy", () => revokedProxy(() => {})],
  ["object with throwing valueOf", (r, plan) => ({ valueOf: () => { throw plan.thrownValue("valueOf"); }, toString: () => { throw plan.thrownValue("toString"); } })],
];

/** A sensible value for `name` (or MISSING); may register signals and callbacks on the plan. */
const MISSING = Symbol("missing");
function saneValue(r, plan, name) {
  switch (name) {
    case "apiKey":
      return r.pick([MISSING, "fuzz-key-1", "sk-fuzz-abcdef", "wrong"]);
    case "baseUrl":
      return plan.mode === "mock" ? m.apiUrl : r.pick([...FAKE_BASES, MISSING]);
    case "headers":
      return r.pick([MISSING, {}, { "x-trace": "t-1" }, { "X-Api-Key": "hdr-key", "x-tenant": "acme" }, { "x-ok": "caf\u00e9" }]);
    case "fetch":
      return plan.fetch;
    case "signal":
      return plan.makeSignal();
    case "requestTimeoutMs":
      return r.chance(0.2) ? MISSING : r.int(1, 300);
    case "initialDelayMs":
      return r.int(0, 5);
    case "maxDelayMs":
      return r.pick([MISSING, MISSING, r.int(5, 50), 15000]); // >= initialDelayMs (0..5)
    case "multiplier":
      return r.pick([MISSING, 1, 1.5, 2, 10]);
    case "jitter":
      return r.pick([MISSING, 0, 0.2, 1]);
    case "timeoutMs":
      return r.chance(0.08) ? r.pick([MISSING, 0]) : r.int(5, 400);
    case "maxRetries":
      return r.pick([MISSING, 0, 1, 2, 3]);
    case "downloadResult":
    case "cancelOnAbort":
      return r.pick([MISSING, true, false]);
    case "maxResultBytes":
      return r.pick([MISSING, MISSING, r.int(1, 4000), 1e9]);
    case "onProgress":
    case "onDownloadProgress":
      return plan.makeCallback(name);
    default:
      return MISSING;
  }
}

// ------------------------------------------------------------ fake server answers

const enc = new TextEncoder();
const later = (fn) =>
  new Promise((resolve, reject) =>
    setImmediate(() => {
      try {
        resolve(fn());
      } catch (e) {
        reject(e);
      }
    }),
  );
const jsonResponse = (body, status = 200, headers = {}) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

function idFromUrl(url) {
  try {
    return decodeURIComponent(url.split("/job/")[1] ?? "x").split("?")[0];
  } catch {
    return "x";
  }
}

function resultDoc(r) {
  const n = r.chance(0.1) ? r.int(200, 2000) : r.int(1, 6);
  return {
    markdown: `# fuzz ${n}\n\nh\u00e9llo \u2603 \u{1F600}`,
    page_count: n,
    chunks: Array.from({ length: n }, (_, i) => ({ chunk_id: `p${i}`, page: i + 1, type: "paragraph", text: "lorem ipsum dolor ".repeat(3) })),
  };
}

/** A ReadableStream body of `text` in a few chunks (one per macrotask). */
function streamOf(text, parts) {
  const bytes = enc.encode(text);
  const size = Math.max(1, Math.ceil(bytes.length / parts));
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      return new Promise((resolve) =>
        setImmediate(() => {
          try {
            if (offset >= bytes.length) controller.close();
            else {
              controller.enqueue(bytes.slice(offset, offset + size));
              offset += size;
            }
          } catch {
            // cancelled by the reader meanwhile
          }
          resolve();
        }),
      );
    },
  });
}

const POLL_ANSWERS = [
  // [label, weight, (r, plan) => (url, init) => answer]
  ["pending", 10, (r) => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: "pending" }))],
  ["processing", 8, (r) => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: "processing" }, 200, r.chance(0.2) ? { "retry-after": r.pick(["0", "1", "-5", "soon"]) } : {}))],
  ["completed", 12, (r) => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: "completed", result: resultDoc(r) }))],
  ["completed+pointer", 12, (r, plan) => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: "completed", result: { is_url: true, url: plan.pointerUrl(url) } }))],
  ["failed", 3, () => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: "failed", error: "Document \u001b[31mcould not\u0007 be parsed sk-fuzz-abcdef" }))],
  ["canceled", 2, (r) => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: r.pick(["canceled", "cancelled"]) }))],
  ["expired", 1, () => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: "expired", result: { page_count: 1 } }))],
  ["unknown status", 2, () => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: "queued_for_review" }))],
  ["non-string status", 1, (r) => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), status: r.pick([42, null, ["completed"], { s: 1 }]) }))],
  ["no status", 1, () => (url) => later(() => jsonResponse({ job_id: idFromUrl(url), message: "hi" }))],
  ["json array/null/number", 1, (r) => () => later(() => jsonResponse(r.pick(["[]", "null", "42", '"completed"'])))],
  ["not json", 1, () => () => later(() => new Response("<html>oops</html>", { status: 200, headers: { "content-type": "text/html" } }))],
  ["empty 200/204", 2, (r) => () => later(() => new Response(null, { status: r.pick([200, 204]) }))],
  ["retryable http", 4, (r) => () => later(() => jsonResponse(r.pick([{ error: "slow down" }, { error: { code: "x", message: "Slow down" } }, { detail: [{ loc: ["body", "file_url"], msg: "field required" }] }, "not json"]), r.pick([408, 425, 429, 500, 502, 503, 504]), r.chance(0.3) ? { "retry-after": r.pick(["0", "1", "Wed, 21 Oct 2015 07:28:00 GMT"]) } : {}))],
  ["fatal http", 2, (r) => () => later(() => jsonResponse({ error: "nope sk-fuzz-abcdef", message: "m", detail: "d" }, r.pick([400, 401, 403, 404, 409, 410, 422])))],
  ["redirect", 1, () => () => later(() => new Response(null, { status: 302, headers: { location: "http://elsewhere.test/job/x" } }))],
  ["fetch throws", 2, (r, plan) => () => {
    throw plan.thrownValue("fetch throws");
  }],
  ["fetch rejects now", 1, (r, plan) => () => Promise.reject(plan.thrownValue("fetch rejects"))],
  ["fetch rejects later", 2, (r, plan) => () => later(() => {
    throw plan.thrownValue("fetch rejects later");
  })],
  ["non-object", 1, (r) => () => r.pick([() => undefined, () => null, () => 42, () => "200 OK", () => Promise.resolve(true), () => later(() => Symbol("res"))])()],
  ["never resolves", 1, () => () => new Promise(() => {})],
  ["never, abortable", 1, () => (url, init) => new Promise((resolve, reject) => init?.signal?.addEventListener?.("abort", () => reject(init.signal.reason), { once: true }))],
  ["status getter throws", 1, (r, plan) => (url) => later(() => plainResponse({ text: JSON.stringify({ job_id: idFromUrl(url), status: "completed" }), throwing: { status: plan.thrownValue("status getter") } }))],
  ["headers getter throws", 1, (r, plan) => (url) => later(() => plainResponse({ text: JSON.stringify({ job_id: idFromUrl(url), status: "completed" }), throwing: { headers: plan.thrownValue("headers getter") } }))],
  ["headers.get throws", 1, (r, plan) => (url) => later(() => plainResponse({ text: JSON.stringify({ job_id: idFromUrl(url), status: "completed" }), headers: throwingHeaders(plan.thrownValue("headers.get")) }))],
  ["bad status", 2, (r) => (url) => later(() => plainResponse({ status: r.pick([65736, 200.5, "200", 0, 99, 600, -1, NaN, undefined, 1e21]), ok: true, text: JSON.stringify({ job_id: idFromUrl(url), status: "completed" }) }))],
  ["text() throws", 1, (r, plan) => () => later(() => plainResponse({ text: () => { throw plan.thrownValue("text throws"); } }))],
  ["text() rejects", 1, (r, plan) => () => later(() => plainResponse({ text: () => Promise.reject(plan.thrownValue("text rejects")) }))],
  ["text() never", 1, () => () => later(() => plainResponse({ text: () => new Promise(() => {}) }))],
  ["text() non-string", 1, (r) => () => later(() => plainResponse({ text: async () => r.pick([42, null, undefined, { status: "completed" }, ["x"]]) }))],
  ["node-fetch v2", 3, (r) => (url) => later(() => nodeFetchV2Response(JSON.stringify({ job_id: idFromUrl(url), status: r.pick(["completed", "pending"]) }), { status: r.pick([200, 200, 200, 503]) }))],
  ["plain object ok", 2, (r) => (url) => later(() => plainResponse({ text: JSON.stringify({ job_id: idFromUrl(url), status: r.pick(["completed", "processing"]) }), headers: new Headers({ "content-type": "application/json" }) }))],
];

const DL_ANSWERS = [
  ["stream", 10, (r, plan) => () => later(() => {
    const text = JSON.stringify(plan.doc);
    const headers = { "content-type": "application/json" };
    if (r.chance(0.7)) headers["content-length"] = String(enc.encode(text).length);
    return new Response(streamOf(text, r.int(1, 4)), { status: 200, headers });
  })],
  ["stream+gzip header", 3, (r, plan) => () => later(() => {
    const text = JSON.stringify(plan.doc);
    return new Response(streamOf(text, 3), { status: 200, headers: { "content-type": "application/json", "content-encoding": r.pick(["gzip", "br", "deflate"]), "content-length": String(Math.max(1, text.length >> 3)) } });
  })],
  ["whole Response", 3, (r, plan) => () => later(() => jsonResponse(plan.doc))],
  ["node-fetch v2", 4, (r, plan) => () => later(() => nodeFetchV2Response(JSON.stringify(plan.doc), { headers: r.chance(0.5) ? { "content-length": String(Buffer.byteLength(JSON.stringify(plan.doc))) } : {} }))],
  ["node-fetch v2 arrayBuffer never", 1, (r, plan) => () => later(() => nodeFetchV2Response(JSON.stringify(plan.doc), { arrayBuffer: () => new Promise(() => {}) }))],
  ["body null", 2, (r, plan) => () => later(() => plainResponse({ text: JSON.stringify(plan.doc), body: null, headers: new Headers() }))],
  ["reader ok", 2, (r, plan) => () => later(() => readerResponse(scriptedReader(chunkSteps(JSON.stringify(plan.doc), r.int(1, 4)))))],
  ["read() rejects", 2, (r, plan) => () => later(() => readerResponse(scriptedReader([() => Promise.reject(plan.thrownValue("read rejects"))])))],
  ["read() {done:false}", 1, () => () => later(() => readerResponse(scriptedReader([() => Promise.resolve({ done: false })])))],
  ["read() non-object", 1, (r) => () => later(() => readerResponse(scriptedReader([() => Promise.resolve(r.pick([5, null, undefined, "x", true]))])))],
  ["read() bad value", 1, (r) => () => later(() => readerResponse(scriptedReader([() => Promise.resolve({ done: false, value: r.pick(["str", new ArrayBuffer(2), [1, 2], 7, {}]) })])))],
  ["read() throws", 1, (r, plan) => () => later(() => readerResponse(scriptedReader([() => { throw plan.thrownValue("read throws"); }])))],
  ["read() never", 1, () => () => later(() => readerResponse(scriptedReader([() => new Promise(() => {})])))],
  ["big body, cancel throws/rejects", 2, (r, plan) => () => later(() => {
    const chunk = new Uint8Array(16384).fill(0x20);
    const steps = Array.from({ length: 20 }, () => () => Promise.resolve({ done: false, value: chunk }));
    steps.push(() => Promise.resolve({ done: true }));
    const cancel = r.pick([
      () => { throw plan.thrownValue("cancel throws"); },
      () => Promise.reject(plan.thrownValue("cancel rejects")),
      () => later(() => { throw plan.thrownValue("cancel rejects later"); }),
      () => undefined,
    ]);
    return readerResponse(scriptedReader(steps, cancel));
  })],
  ["status getter throws", 1, (r, plan) => () => later(() => plainResponse({ text: "{}", body: { getReader: () => scriptedReader(chunkSteps("{}")) }, throwing: { status: plan.thrownValue("dl status getter") } }))],
  ["headers getter throws", 1, (r, plan) => () => later(() => plainResponse({ text: "{}", body: { getReader: () => scriptedReader(chunkSteps("{}")) }, throwing: { headers: plan.thrownValue("dl headers getter") } }))],
  ["body getter throws", 1, (r, plan) => () => later(() => plainResponse({ text: "{}", headers: new Headers(), throwing: { body: plan.thrownValue("dl body getter") } }))],
  ["getReader throws", 1, (r, plan) => () => later(() => readerResponse(null, { body: { getReader: () => { throw plan.thrownValue("getReader"); } } }))],
  ["bad status", 1, (r, plan) => () => later(() => plainResponse({ status: r.pick([65736, 200.5, "200", 99, 600]), ok: true, text: JSON.stringify(plan.doc), body: null }))],
  ["expired link", 2, (r) => () => later(() => new Response("<Error><Code>AccessDenied</Code></Error>", { status: r.pick([403, 404, 410]) }))],
  ["retryable http", 2, (r) => () => later(() => jsonResponse({ error: "busy" }, r.pick([429, 500, 503]), r.chance(0.5) ? { "retry-after": "0" } : {}))],
  ["redirect", 2, (r) => () => later(() => new Response(null, { status: r.pick([301, 302, 307]), headers: { location: r.pick(["/large_results/hop", "http://storage.fuzz.test/r/hop", "http://fuzz.test/large_results/loop", "ftp://x/y"]) } }))],
  ["fetch throws", 1, (r, plan) => () => {
    throw plan.thrownValue("dl fetch throws");
  }],
  ["fetch rejects", 1, (r, plan) => () => later(() => {
    throw plan.thrownValue("dl fetch rejects");
  })],
  ["never resolves", 1, () => () => new Promise(() => {})],
  ["not json", 1, () => () => later(() => new Response("{not json", { status: 200 }))],
];

function weighted(r, table) {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let x = r.next() * total;
  for (const entry of table) {
    x -= entry[1];
    if (x < 0) return entry;
  }
  return table[table.length - 1];
}

const MOCK_SCENARIOS = [
  "ok", "steps_2", "failed", "flaky_1", "cut_1", "large_20000", "hang", "status_404", "status_503", "notjson", "canceled",
  "unknown_1", "chunked_3000", "proxy_3000", "badurl_ftp", "presign_3000", "dlflaky_1_2000", "dlcut_3000", "stall_1", "retryok_0",
];

// ------------------------------------------------------------ shared signals

const sharedRng = rand(mulberry32(mixSeed(SEED, 0x5eed)));
const fuzzStart = Date.now();
const sharedSignals = Array.from({ length: 8 }, (_, i) => {
  const mode = ["never", "never", "never", "later", "later", "later", "pre-aborted", "timeout"][i];
  const ac = new AbortController();
  let signal = ac.signal;
  let abortAt = null; // absolute ms
  if (mode === "later") {
    abortAt = fuzzStart + sharedRng.int(300, 6000);
    setTimeout(() => ac.abort(new Error(`shared signal #${i} aborted`)), abortAt - fuzzStart).unref();
  } else if (mode === "pre-aborted") {
    ac.abort(`shared #${i} reason`);
    abortAt = fuzzStart;
  } else if (mode === "timeout") {
    signal = AbortSignal.timeout(sharedRng.int(500, 4000));
  }
  return { i, mode, signal, abortAt, calls: 0 };
});

// ------------------------------------------------------------ shared clients

// `paused`: kept paused by its calls' own 429s; `busy`: one place in flight,
// held by back-to-back 1.5 s requests of a background loop.
const sharedClients = { paused: new esm.PulseClient({ maxConcurrentRequests: 100 }), busy: new esm.PulseClient({ maxConcurrentRequests: 1 }) };
const LONG_429 = () => () => later(() => jsonResponse({ error: "slow down" }, 429, { "retry-after": "30" }));
const hog = new AbortController();
const hogFetch = () => new Promise((resolve) => setTimeout(() => resolve(jsonResponse({ job_id: "hog", status: "pending" })), 1500));
const hogging = (async () => {
  while (!hog.signal.aborted) {
    await sharedClients.busy.getJob("hog", { fetch: hogFetch, requestTimeoutMs: 5000, signal: hog.signal }).catch(() => {});
  }
})();

// ------------------------------------------------------------ bookkeeping

const realSignals = new Map(); // AbortSignal -> { label, calls: [index] }
const liveSignals = new Map(); // AbortSignal -> calls in flight
const fakeSignals = []; // { s, label, index, expectClean }
let maxListeners = 0;
const maxListenersBySignal = new Map();
const stats = {
  calls: 0,
  resolved: { wait: 0, get: 0, cancel: 0 },
  rejected: {},
  callerThrown: 0,
  constructorThrows: 0,
  constructorOk: 0,
  freedClientCalls: 0,
  mockCalls: 0,
  clientCalls: 0,
  maxSettleMs: 0,
};
const failures = [];
let stopped = false;
let stoppedEarly = false;

function fail(plan, problem) {
  failures.push(`[seed ${SEED}] call #${plan?.index ?? "-"} ${plan ? `(${plan.desc.join(" ")})` : ""}: ${problem}`);
  if (failures.length >= MAX_FAILURES) stopped = stoppedEarly = true;
}

// ------------------------------------------------------------ plans

function makePlan(index) {
  const r = rand(mulberry32(mixSeed(SEED, index)));
  const plan = {
    index,
    r,
    desc: [],
    thrown: new Set(), // every value the caller's code threw (identity), by anything
    callbackThrown: [], // values onProgress / onDownloadProgress threw
    getterThrown: new Set(), // values thrown by option getters / traps in scope
    clientGetterThrown: new Set(),
    signals: [], // { kind: "real"|"fake", signal, abortAfter? , reasonThrown? }
    limits: [], // ms from launch
    inScopeGarbage: 0, // garbage values / lying getters among the options the call reads
    clientGarbage: 0, // garbage values among the client's options
    doc: null,
  };
  plan.thrownValue = (label) => {
    const v = makeThrown(r, label);
    plan.thrown.add(v);
    return v;
  };
  plan.doc = resultDoc(r);

  plan.mode = r.chance(0.03) ? "mock" : "fake";
  plan.fn = r.pick(["wait", "wait", "wait", "get", "cancel"]);
  plan.viaClient = r.chance(0.3);
  plan.module = r.chance(0.5) ? esm : cjs;
  // a wait with cancelOnAbort through a client paused by a 429 or with its only place busy
  plan.shared = plan.mode === "fake" && plan.fn === "wait" && r.chance(0.04) ? r.pick(["paused", "busy"]) : null;
  if (plan.shared) {
    plan.viaClient = false;
    plan.module = esm;
    plan.desc.push(`shared-client:${plan.shared}`);
  }
  plan.desc.push(plan.mode, plan.fn, plan.viaClient ? "client" : "free", plan.module === esm ? "esm" : "cjs");
  const scope = plan.fn === "wait" ? SCOPE.wait : SCOPE.request;

  // --- the fake fetch and its scripts
  const pollLabels = [];
  const dlLabels = [];
  plan.pollScript = Array.from({ length: r.int(1, 5) }, () => {
    const [label, , make] = weighted(r, POLL_ANSWERS);
    pollLabels.push(label);
    return make(r, plan);
  });
  if (r.chance(0.6)) {
    const [label, , make] = weighted(r, POLL_ANSWERS.filter(([l]) => l.startsWith("completed") || l === "failed" || l === "expired" || l === "canceled"));
    pollLabels.push(label);
    plan.pollScript.push(make(r, plan));
  }
  if (plan.shared === "paused") {
    const at = r.int(0, 1);
    plan.pollScript.splice(at, 0, LONG_429());
    pollLabels.splice(at, 0, "429 Retry-After 30");
  }
  plan.dlScript = Array.from({ length: r.int(1, 3) }, () => {
    const [label, , make] = weighted(r, DL_ANSWERS);
    dlLabels.push(label);
    return make(r, plan);
  });
  const pointerKind = r.pick(["api", "api", "api", "storage", "storage", "storage", "ftp", "relative", "number", "http-from-https"]);
  plan.pointerUrl = (url) => {
    const origin = new URL(url).origin;
    const id = encodeURIComponent(idFromUrl(url));
    switch (pointerKind) {
      case "api":
        return `${origin}/large_results/${id}`;
      case "storage":
        return `${origin.startsWith("https") ? "https" : "http"}://storage.fuzz.test/r/${id}?token=1`;
      case "ftp":
        return `ftp://storage.fuzz.test/r/${id}`;
      case "relative":
        return `/r/${id}`;
      case "number":
        return 12345;
      default:
        return `http://storage.fuzz.test/r/${id}`;
    }
  };
  const counts = { poll: 0, download: 0 };
  plan.fetchCalls = counts;
  plan.fetch = function fuzzFetch(input, init) {
    const url = String(typeof input === "string" ? input : (input?.url ?? input));
    const kind = url.includes("/job/") ? "poll" : "download";
    counts[kind] += 1;
    const script = kind === "poll" ? plan.pollScript : plan.dlScript;
    return script[Math.min(counts[kind] - 1, script.length - 1)](url, init ?? {});
  };
  if (plan.mode === "fake") plan.desc.push(`polls:[${pollLabels.join("|")}]`, `dl:[${dlLabels.join("|")}]`, `pointer:${pointerKind}`);

  // --- signals and callbacks (called by saneValue)
  plan.makeSignal = () => {
    const x = r.next();
    if (x < 0.5) return MISSING;
    if (x < 0.62) {
      const ac = new AbortController();
      const after = r.int(0, 300);
      const reason = r.pick([undefined, `reason ${index}`, new Error(`abort ${index}`), 0]);
      plan.signals.push({ kind: "real", signal: ac.signal, abortAfter: after, fire: () => ac.abort(reason) });
      plan.limits.push(after);
      plan.desc.push(`signal:abort@${after}`);
      return ac.signal;
    }
    if (x < 0.66) {
      const ac = new AbortController();
      plan.signals.push({ kind: "real", signal: ac.signal });
      plan.desc.push("signal:never");
      return ac.signal;
    }
    if (x < 0.7) {
      const s = AbortSignal.abort(r.pick([undefined, "pre", new Error("pre-aborted")]));
      plan.signals.push({ kind: "real", signal: s });
      plan.limits.push(0);
      plan.desc.push("signal:pre-aborted");
      return s;
    }
    if (x < 0.73) {
      const ms = r.int(1, 300);
      const s = AbortSignal.timeout(ms);
      plan.signals.push({ kind: "real", signal: s });
      plan.limits.push(ms);
      plan.desc.push(`signal:timeout(${ms})`);
      return s;
    }
    if (x < 0.9) {
      const sh = sharedSignals[r.int(0, sharedSignals.length - 1)];
      plan.signals.push({ kind: "real", signal: sh.signal, shared: sh });
      plan.desc.push(`signal:shared#${sh.i}(${sh.mode})`);
      return sh.signal;
    }
    // signal-like objects
    const variant = r.pick(["fires", "aborted throws", "reason throws", "add throws", "no remove"]);
    plan.desc.push(`signal-like:${variant}`);
    if (variant === "aborted throws") {
      const e = plan.thrownValue("aborted getter");
      plan.getterThrown.add(e);
      plan.signalAbortedThrows = true;
      return signalLike({ aborted: e });
    }
    if (variant === "add throws") {
      return signalLike({ addEventListener: plan.thrownValue("addEventListener") });
    }
    const reasonThrown = variant === "reason throws" ? plan.thrownValue("reason getter") : undefined;
    const s = signalLike(reasonThrown === undefined ? {} : { reason: reasonThrown });
    if (variant === "no remove") delete s.removeEventListener;
    const after = r.int(0, 300);
    const fireReason = new Error(`signal-like ${index} fired`);
    plan.signals.push({ kind: "fake", signal: s, abortAfter: after, fire: () => s.fire(fireReason), reasonThrown, fireReason, expectClean: variant !== "no remove" });
    plan.limits.push(after);
    return s;
  };
  plan.makeCallback = (name) => {
    const x = r.next();
    if (x < 0.55) return MISSING;
    if (x < 0.8) return () => {};
    const at = r.int(1, 3);
    let calls = 0;
    plan.desc.push(`${name}:throws@${at}`);
    return () => {
      calls += 1;
      if (calls >= at) {
        const v = plan.thrownValue(name);
        plan.callbackThrown.push(v);
        throw v;
      }
    };
  };

  // --- job id
  const idx = r.next();
  if (plan.mode === "mock" && idx < 0.9) {
    plan.jobId = jid(r.pick(MOCK_SCENARIOS));
    plan.idClass = "valid";
  } else if (idx < 0.85) {
    plan.jobId = r.pick([() => `job-${r.int(0, 1e9).toString(36)}`, () => "a", () => "x".repeat(256), () => "\u00fcn\u00efc\u00f8d\u00e9-\u{1F600}", () => "a b/c?d#e%", () => "..."])();
    plan.idClass = "valid";
  } else {
    const [label, value, cls] = r.pick([
      ["''", "", "invalid"],
      ["257 chars", "x".repeat(257), "invalid"],
      ["lone high surrogate", "ab\uD800", "invalid"],
      ["lone low surrogate", "\uDC00ab", "invalid"],
      ["NUL", "a\u0000b", "invalid"],
      ["newline", "a\nb", "invalid"],
      ["DEL", "a\u007f", "invalid"],
      ["'..'", "..", "invalid"],
      ["'.'", ".", "invalid"],
      ["42", 42, "invalid"],
      ["null", null, "invalid"],
      ["undefined", undefined, "invalid"],
      ["{}", {}, "invalid"],
      ["['a']", ["a"], "invalid"],
      ["function", () => "x", "invalid"],
      ["symbol", Symbol("id"), "invalid"],
      ["10n", 10n, "invalid"],
      ["String object", new String("abc"), "weird"],
      ["throwing toString", { toString: () => { throw plan.thrownValue("id toString"); } }, "weird"],
      ["revoked Proxy", revokedProxy(), "weird"],
    ]);
    plan.jobId = value;
    plan.idClass = cls;
    plan.desc.push(`id:${label}`);
  }
  if (plan.idClass !== "valid") plan.limits.push(0);

  // --- per-call options: name -> { how: "value"|"getter"|"lying", value }
  const entries = new Map();
  const clean = r.chance(0.5);
  const pGarbage = clean ? 0 : 0.06;
  for (const name of SCOPE.wait) {
    const inScope = scope.includes(name);
    if (!inScope && !r.chance(0.1)) continue; // names the call ignores, sometimes present
    const forbidden = plan.mode === "mock" && (name === "fetch" || name === "baseUrl");
    if (!forbidden && r.chance(pGarbage)) {
      const y = r.next();
      if (y < 0.15) {
        const e = plan.thrownValue(`getter ${name}`);
        entries.set(name, { how: "getter", value: e });
        if (inScope) plan.getterThrown.add(e);
        plan.desc.push(`${name}:getter-throws`);
        continue;
      }
      if (inScope) plan.inScopeGarbage += 1;
      if (y < 0.22 && !["fetch", "baseUrl", "signal", "headers"].includes(name)) {
        const sane = saneValue(r, plan, name);
        const a = sane === MISSING ? undefined : sane;
        const b = r.pick(GARBAGE)[1](r, plan);
        entries.set(name, { how: "lying", values: [a, b] });
        if (name === "onProgress" || name === "onDownloadProgress") plan.callbackMayThrow = true;
        plan.desc.push(`${name}:lying-getter`);
        continue;
      }
      const [label, make] = r.pick(GARBAGE);
      const value = make(r, plan);
      entries.set(name, { how: "value", value });
      plan.desc.push(`${name}=${label}`);
      // a callable that throws when called (a revoked or trapping function Proxy) is a callback that throws
      if ((name === "onProgress" || name === "onDownloadProgress") && typeof value === "function") plan.callbackMayThrow = true;
      continue;
    }
    const v = saneValue(r, plan, name);
    if (v !== MISSING) entries.set(name, { how: "value", value: v });
  }
  if (plan.mode === "mock") {
    entries.delete("fetch");
    if (plan.viaClient) entries.delete("baseUrl");
    else entries.set("baseUrl", { how: "value", value: m.apiUrl });
  }
  const plainValue = (name) => (entries.get(name)?.how === "value" ? entries.get(name).value : MISSING);

  // --- the client
  if (plan.viaClient) {
    const copts = {};
    plan.clientHasFakeFetch = false;
    if (plan.mode === "mock") {
      copts.baseUrl = m.apiUrl;
      if (r.chance(0.5)) copts.apiKey = r.pick(["fuzz-key-1", "wrong"]);
    } else {
      for (const name of SCOPE.client) {
        if (r.chance(clean ? 0 : 0.1)) {
          plan.clientGarbage += 1;
          if (r.chance(0.3)) {
            const e = plan.thrownValue(`client getter ${name}`);
            plan.clientGarbage -= 1; // not counted as other garbage
            Object.defineProperty(copts, name, { enumerable: true, get: () => { throw e; } });
            plan.clientGetterThrown.add(e);
            plan.desc.push(`client.${name}:getter-throws`);
          } else {
            const [label, make] = r.pick(GARBAGE);
            copts[name] = make(r, plan);
            plan.desc.push(`client.${name}=${label}`);
          }
          continue;
        }
        const v = name === "fetch" ? (r.chance(0.8) ? plan.fetch : MISSING) : saneValue(r, plan, name);
        if (v !== MISSING) copts[name] = v;
      }
      const f = Object.getOwnPropertyDescriptor(copts, "fetch");
      plan.clientHasFakeFetch = f?.value === plan.fetch;
      if (r.chance(0.1)) copts.timeoutMs = "ignored by clients";
    }
    plan.clientOptions = r.chance(0.03) && plan.mode === "fake"
      ? r.pick([() => 42, () => "opts", () => [], () => throwingTrapsProxy({}, plan.thrownValue("client options proxy")), () => revokedProxy()])()
      : copts;
    if (plan.clientOptions !== copts) {
      plan.desc.push("client-options:garbage");
      plan.clientHasFakeFetch = false;
    }
    plan.freed = r.chance(0.02);
    if (plan.freed) plan.desc.push("client:freed");
  }

  // --- never the real network: a global fetch only ever talks to the mock
  if (plan.mode === "fake") {
    const f = entries.get("fetch");
    const nullish = !f || (f.how === "value" && (f.value === undefined || f.value === null));
    if (nullish && !(plan.viaClient && plan.clientHasFakeFetch)) entries.set("fetch", { how: "value", value: plan.fetch });
    if (f?.how === "value" && f.value === plan.fetch && r.chance(0.05)) {
      entries.set("fetch", { how: "value", value: throwingTrapsProxy(plan.fetch, plan.thrownValue("fetch apply trap")) });
      plan.desc.push("fetch:proxy-apply-throws");
    }
  }

  // --- the whole options argument
  const wx = r.next();
  // no options at all: the client's defaults only (30 s per request, 30 min per wait), so only with our quick fake
  const canBeNullish = plan.viaClient && plan.mode === "fake" && plan.clientHasFakeFetch;
  plan.optionsShape = "plain";
  if (wx < 0.015) {
    const e = plan.thrownValue("options proxy");
    plan.optionsShape = "throwing proxy";
    plan.optionsThrown = e;
  } else if (wx < 0.025) plan.optionsShape = "revoked proxy";
  else if (wx < 0.035) plan.optionsShape = r.pick(["42", "'str'", "true", "symbol", "10n"]);
  else if (wx < 0.045 && canBeNullish) plan.optionsShape = r.pick(["undefined", "null"]);
  else if (wx < 0.08) plan.optionsShape = "transparent proxy";
  else if (wx < 0.1) plan.optionsShape = "null prototype";
  else if (wx < 0.12) plan.optionsShape = "frozen";
  if (plan.optionsShape !== "plain") plan.desc.push(`options:${plan.optionsShape}`);
  if (plan.optionsShape === "undefined" || plan.optionsShape === "null") {
    // the client's defaults only: no signal, no time limits of the call's own, so a quick answer
    plan.pollScript = [POLL_ANSWERS.find(([l]) => l === "completed")[2](r, plan)];
    plan.getterThrown.clear();
    plan.signalAbortedThrows = false;
    plan.signals = [];
    plan.callbackThrown = [];
    plan.limits = [0];
  }
  plan.optionsUnreadable = ["throwing proxy", "revoked proxy", "42", "'str'", "true", "symbol", "10n"].includes(plan.optionsShape);
  if (plan.optionsUnreadable) plan.limits.push(0);
  if (plan.getterThrown.size) plan.limits.push(0);

  // --- every call has a bound of its own; a wait with no deadline gets few retries
  const validLimit = (v) => typeof v === "number" && Number.isFinite(v) && v > 0 && v <= 3000;
  const ownLimit = plan.fn === "wait" ? plainValue("timeoutMs") : plainValue("requestTimeoutMs");
  if (validLimit(ownLimit)) plan.limits.push(ownLimit);
  const hasShared = plan.signals.some((s) => s.shared && s.shared.abortAt !== null);
  if (!plan.limits.length && !hasShared && !plan.optionsUnreadable) {
    const sig = entries.get("signal");
    const realSig = sig?.how === "value" && plan.signals.some((x) => x.kind === "real" && x.signal === sig.value);
    if (!sig || realSig) {
      const ac = new AbortController();
      const after = r.int(20, 400);
      entries.set("signal", { how: "value", value: ac.signal });
      plan.signals = plan.signals.filter((s) => s.signal !== sig?.value);
      plan.signals.push({ kind: "real", signal: ac.signal, abortAfter: after, fire: () => ac.abort(new Error("fuzz bound")) });
      plan.limits.push(after);
      plan.desc.push(`bound:abort@${after}`);
    } else {
      const ms = r.int(20, 400);
      entries.set("timeoutMs", { how: "value", value: ms });
      entries.set("requestTimeoutMs", { how: "value", value: ms });
      plan.limits.push(ms);
      plan.desc.push(`bound:timeouts=${ms}`);
    }
  }
  if (plan.fn === "wait" && !validLimit(plainValue("timeoutMs"))) {
    // (a throwing getter stays: it rejects INVALID_ARGUMENT before anything else)
    if (entries.get("maxRetries")?.how !== "getter") entries.set("maxRetries", { how: "value", value: r.int(0, 3) });
    const initial = plainValue("initialDelayMs");
    if (!(typeof initial === "number" && initial >= 1) && entries.get("initialDelayMs")?.how !== "getter") {
      entries.set("initialDelayMs", { how: "value", value: r.int(1, 5) });
    }
  }
  // A wait given up with cancelOnAbort sends one DELETE, bounded by
  // requestTimeoutMs, before it settles: that time is part of its bound.
  // Options are read once, so a lying getter's first value is the one used.
  const asked = entries.get("cancelOnAbort");
  if (plan.shared && (!asked || asked.how === "value")) entries.set("cancelOnAbort", { how: "value", value: true });
  const cancelOnAbort = entries.get("cancelOnAbort");
  const readOnce = cancelOnAbort?.how === "lying" ? cancelOnAbort.values[0] : plainValue("cancelOnAbort");
  if (plan.fn === "wait" && readOnce === true) {
    if (!validLimit(plainValue("requestTimeoutMs")) && entries.get("requestTimeoutMs")?.how !== "getter") {
      entries.set("requestTimeoutMs", { how: "value", value: r.int(20, 400) });
    }
    plan.cancelMs = validLimit(plainValue("requestTimeoutMs")) ? plainValue("requestTimeoutMs") : 0;
  }
  plan.entries = entries;
  return plan;
}

function materializeOptions(plan) {
  switch (plan.optionsShape) {
    case "throwing proxy":
      return throwingTrapsProxy({}, plan.optionsThrown);
    case "revoked proxy":
      return revokedProxy();
    case "42":
      return 42;
    case "'str'":
      return "options";
    case "true":
      return true;
    case "symbol":
      return Symbol("options");
    case "10n":
      return 10n;
    case "undefined":
      return undefined;
    case "null":
      return null;
  }
  const o = plan.optionsShape === "null prototype" ? Object.create(null) : {};
  for (const [name, e] of plan.entries) {
    if (e.how === "value") o[name] = e.value;
    else if (e.how === "getter") {
      Object.defineProperty(o, name, { enumerable: true, configurable: true, get: () => { throw e.value; } });
    } else {
      let reads = 0;
      Object.defineProperty(o, name, { enumerable: true, configurable: true, get: () => e.values[Math.min(reads++, 1)] });
    }
  }
  if (plan.optionsShape === "frozen") return Object.freeze(o);
  if (plan.optionsShape === "transparent proxy") return new Proxy(o, {});
  return o;
}

// ------------------------------------------------------------ checks

/** A value for a failure line: errors as "Name: message" and their first frames. */
function brief(value) {
  if (value instanceof Error) {
    const frames = String(value.stack ?? "").split("\n").filter((l) => l.trim().startsWith("at ")).slice(0, 2).map((l) => l.trim());
    return `${value.name}: ${value.message}${frames.length ? ` [${frames.join(" | ")}]` : ""}`;
  }
  return show(value).replace(/\s*\n\s*/g, " ");
}

function isPulseError(e) {
  return e instanceof esm.PulseError || e instanceof cjs.PulseError;
}

function checkPulseError(plan, err, where) {
  if (!(err instanceof Error)) return `${where}: a PulseError that is not an Error`;
  if (!CODES.has(err.code)) return `${where}: undocumented code ${brief(err.code)}: ${err.message}`;
  if (typeof err.retryable !== "boolean") return `${where}: retryable is ${show(err.retryable)}`;
  if (typeof err.message !== "string" || !err.message) return `${where}: empty message`;
  if (err.name !== (err.code === "ABORTED" ? "AbortError" : "PulseError")) return `${where}: name ${err.name} for ${err.code}`;
  if (isWasmFault(err)) return `${where}: a wasm fault inside a PulseError: ${err.message}`;
  return null;
}

/** Problems with how a call settled; [] when it is fine. */
function judge(plan, outcome) {
  const problems = [];
  const { status, value, reason } = outcome;
  const expectInvalid = plan.idClass === "invalid" || plan.optionsUnreadable || plan.freed || plan.getterThrown.size > 0 || plan.signalAbortedThrows;
  if (status === "fulfilled") {
    if (expectInvalid) problems.push(`resolved although the call must reject INVALID_ARGUMENT (${plan.idClass !== "valid" ? "bad id" : "bad options"})`);
    if (plan.fn === "wait" && !(value && typeof value === "object" && value.status === "completed")) problems.push(`waitForJob resolved with a non-completed value ${show(value)}`);
    if (plan.fn === "get" && !(value && typeof value === "object" && typeof value.status === "string")) problems.push(`getJob resolved with ${show(value)}`);
    if (plan.fn === "cancel" && !(value && typeof value === "object")) problems.push(`cancelJob resolved with ${show(value)}`);
    if (plan.fn === "cancel" && value && typeof value === "object" && !(typeof value.message === "string" || Object.keys(value).length > 0)) {
      problems.push(`cancelJob resolved with an empty object ${show(value)}`);
    }
    return problems;
  }
  if (isWasmFault(reason)) {
    problems.push(`rejected with a wasm fault: ${brief(reason)}`);
    return problems;
  }
  if (!isPulseError(reason)) {
    if (plan.callbackThrown.some((v) => Object.is(v, reason))) return problems; // the caller's own callback value, unchanged
    if (plan.callbackMayThrow) return problems; // a callable option that throws when called (a Proxy) is a throwing callback
    if (plan.thrown.has(reason)) problems.push(`rejected with a value the caller's code threw outside a callback (must be wrapped): ${brief(reason)}`);
    else problems.push(`rejected with a non-PulseError: ${brief(reason)}`);
    return problems;
  }
  const bad = checkPulseError(plan, reason, "rejection");
  if (bad) {
    problems.push(bad);
    return problems;
  }
  const code = reason.code;
  if (plan.fn !== "wait" && WAIT_ONLY_CODES.has(code)) problems.push(`${plan.fn} rejected ${code}, a code only waits can have`);
  if (expectInvalid && code !== "INVALID_ARGUMENT") problems.push(`expected INVALID_ARGUMENT, got ${code}: ${reason.message}`);
  // with throwing getters the only bad input, the cause is one of their values
  if (code === "INVALID_ARGUMENT" && plan.inScopeGarbage === 0 && !plan.optionsUnreadable && plan.getterThrown.size && plan.idClass === "valid" && !plan.freed) {
    if (!plan.getterThrown.has(reason.cause)) problems.push(`INVALID_ARGUMENT from a throwing getter must carry it as cause; cause ${brief(reason.cause)} (${reason.message})`);
  }
  if (code === "INVALID_ARGUMENT" && plan.optionsShape === "throwing proxy" && plan.idClass === "valid" && !plan.freed) {
    if (!Object.is(reason.cause, plan.optionsThrown)) problems.push(`INVALID_ARGUMENT for a throwing options Proxy must carry the thrown value as cause; got ${brief(reason.cause)}`);
  }
  if (code === "ABORTED") {
    const fired = plan.signals.filter((s) => (s.kind === "real" ? s.signal.aborted : s.signal.aborted === true));
    if (!fired.length) problems.push("ABORTED without an aborted signal");
    else {
      const causes = fired.map((s) => (s.kind === "real" ? s.signal.reason : s.reasonThrown !== undefined ? s.reasonThrown : s.fireReason));
      if (!causes.some((c) => Object.is(c, reason.cause))) problems.push(`ABORTED with cause ${brief(reason.cause)}, not the signal's reason`);
    }
  }
  return problems;
}

// ------------------------------------------------------------ running one call

let lastSample = Date.now();
let maxStallMs = 0;
function sample() {
  const now = Date.now();
  maxStallMs = Math.max(maxStallMs, now - lastSample);
  lastSample = now;
  for (const s of liveSignals.keys()) {
    const n = abortListeners(s);
    if (n > maxListeners) maxListeners = n;
    if (n > (maxListenersBySignal.get(s) ?? 0)) maxListenersBySignal.set(s, n);
  }
}

function releaseSignals(plan) {
  if (plan.released) return;
  plan.released = true;
  for (const s of plan.signals) {
    if (s.kind !== "real" || !liveSignals.has(s.signal)) continue;
    const n = liveSignals.get(s.signal) - 1;
    if (n > 0) liveSignals.set(s.signal, n);
    else liveSignals.delete(s.signal);
  }
}

async function runCall(index) {
  const plan = makePlan(index);
  try {
    await runPlan(plan);
  } finally {
    releaseSignals(plan);
  }
}

async function runPlan(plan) {
  const { index } = plan;
  stats.calls += 1;
  if (plan.mode === "mock") stats.mockCalls += 1;
  const launchedAt = Date.now();
  for (const s of plan.signals) {
    if (s.kind === "real") {
      const rec = realSignals.get(s.signal) ?? { label: s.shared ? `shared#${s.shared.i}` : `call #${index}`, calls: [] };
      rec.calls.push(index);
      realSignals.set(s.signal, rec);
      liveSignals.set(s.signal, (liveSignals.get(s.signal) ?? 0) + 1);
      if (s.shared?.abortAt != null) plan.limits.push(Math.max(0, s.shared.abortAt - launchedAt));
    } else fakeSignals.push({ s: s.signal, index, expectClean: s.expectClean, plan });
  }

  // the client
  let target = plan.module;
  if (plan.viaClient) {
    stats.clientCalls += 1;
    let client;
    try {
      client = new plan.module.PulseClient(plan.clientOptions);
      stats.constructorOk += 1;
    } catch (e) {
      stats.constructorThrows += 1;
      if (!isPulseError(e)) fail(plan, `new PulseClient threw a non-PulseError: ${brief(e)}${plan.thrown.has(e) ? " (the caller's own value: must be INVALID_ARGUMENT with it as cause)" : ""}`);
      else if (e.code !== "INVALID_ARGUMENT") fail(plan, `new PulseClient threw ${e.code}, not INVALID_ARGUMENT`);
      else {
        const bad = checkPulseError(plan, e, "constructor");
        if (bad) fail(plan, bad);
        if (plan.clientGetterThrown.size && plan.clientGarbage === 0 && !plan.desc.includes("client-options:garbage") && !plan.clientGetterThrown.has(e.cause)) {
          fail(plan, `new PulseClient: INVALID_ARGUMENT from a throwing getter must carry it as cause; cause ${brief(e.cause)}`);
        }
      }
      return;
    }
    if (plan.clientGetterThrown.size) fail(plan, "new PulseClient accepted options whose getter throws");
    if (plan.freed) {
      stats.freedClientCalls += 1;
      if (plan.r.chance(0.5) || !Symbol.dispose) client.free();
      else client[Symbol.dispose]();
      try {
        client.free();
      } catch (e) {
        fail(plan, `a second free() threw: ${brief(e)}`);
      }
      plan.limits.push(0);
    }
    target = client;
  }

  if (plan.shared) target = sharedClients[plan.shared];
  const options = materializeOptions(plan);
  const method = { wait: "waitForJob", get: "getJob", cancel: "cancelJob" }[plan.fn];
  let promise;
  try {
    promise = target[method](plan.jobId, options);
  } catch (e) {
    fail(plan, `${method} threw synchronously: ${brief(e)}`);
    return;
  }
  if (!promise || typeof promise.then !== "function") {
    fail(plan, `${method} returned ${show(promise)}, not a promise`);
    return;
  }

  // scheduled aborts
  const timers = [];
  for (const s of plan.signals) {
    if (s.fire && s.abortAfter !== undefined) timers.push(setTimeout(s.fire, s.abortAfter));
  }
  const bound = Math.min(...plan.limits, 60_000) + (plan.cancelMs ?? 0) + SLACK_MS;
  let watchdog;
  const outcome = await new Promise((resolve) => {
    watchdog = setTimeout(() => resolve({ status: "pending" }), bound);
    promise.then(
      (value) => resolve({ status: "fulfilled", value }),
      (reason) => resolve({ status: "rejected", reason }),
    );
  });
  clearTimeout(watchdog);
  const ms = Date.now() - launchedAt;
  if (ms > stats.maxSettleMs) stats.maxSettleMs = ms;
  if (outcome.status === "pending") {
    fail(plan, `did not settle within ${bound} ms (own limit ${bound - SLACK_MS} ms + ${SLACK_MS} ms)`);
    // let it finish quietly so it is not counted again
    promise.then(() => {}, () => {});
    plan.settled = false;
  } else {
    plan.settled = true;
    if (outcome.status === "fulfilled") stats.resolved[plan.fn] += 1;
    else if (isPulseError(outcome.reason)) stats.rejected[outcome.reason.code] = (stats.rejected[outcome.reason.code] ?? 0) + 1;
    else if (plan.callbackThrown.some((v) => Object.is(v, outcome.reason)) || (plan.callbackMayThrow && !isWasmFault(outcome.reason))) stats.callerThrown += 1;
    else stats.rejected["(other)"] = (stats.rejected["(other)"] ?? 0) + 1;
    for (const p of judge(plan, outcome)) fail(plan, p);
  }
  for (const t of timers) clearTimeout(t);
  // release what the plan holds, except what the end-of-run checks need
  plan.pollScript = plan.dlScript = null;
}

// ------------------------------------------------------------ the test

test(`fuzz: ${ONLY ? ONLY.length : CALLS} hostile calls settle with documented outcomes (seed ${SEED})`, { timeout: 180_000 }, async () => {
  guard.reset();
  const started = Date.now();
  lastSample = started;
  const sampler = setInterval(sample, 10);
  const indexes = ONLY ?? Array.from({ length: CALLS }, (_, i) => i);
  let next = 0;
  const worker = async () => {
    while (next < indexes.length && !stopped) {
      const i = indexes[next++];
      try {
        await runCall(i);
      } catch (e) {
        fail({ index: i, desc: ["(harness)"] }, `the fuzz harness itself threw: ${e?.stack ?? show(e)}`);
      }
    }
  };
  // Uncaught exceptions and unhandled rejections are recorded by the guard and
  // reported below with the seed, instead of ending the test at the first one
  // (node:test's own handler also cannot print a thrown Symbol).
  await guard.exclusive(async () => {
    try {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, indexes.length) }, worker));
    } finally {
      stopped = true;
      clearInterval(sampler);
      hog.abort();
      await hogging;
    }
    sample();
    // let late cleanups and unhandled rejections surface
    await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setImmediate(r));
  });

  // no abort listener left on any real signal, at most one at any time
  for (const [signal, rec] of realSignals) {
    const left = abortListeners(signal);
    if (left) fail(null, `${left} abort listener(s) left on the AbortSignal of ${rec.label} after its ${rec.calls.length} call(s) settled (calls ${rec.calls.slice(0, 8).join(",")})`);
    const most = maxListenersBySignal.get(signal) ?? 0;
    if (most > 1) fail(null, `${most} abort listeners at once on the AbortSignal of ${rec.label} (calls ${rec.calls.slice(0, 8).join(",")}${rec.calls.length > 8 ? ",…" : ""}): one in total expected`);
  }
  for (const f of fakeSignals) {
    if (f.expectClean && f.plan.settled && f.s.listenerCount) fail(f.plan, `${f.s.listenerCount} listener(s) left on the signal-like object after the call settled`);
  }

  // process-level events
  for (const e of guard.events.splice(0)) {
    fail(null, `${e.type}: ${brief(e.value)}${isWasmFault(e.value) ? " (a wasm fault)" : ""}`);
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const summary = [
    `[fuzz] seed ${SEED}: ${stats.calls} calls in ${seconds} s (${stats.mockCalls} against the mock, ${stats.clientCalls} via PulseClient, ${stats.freedClientCalls} on freed clients)`,
    `[fuzz] resolved: wait ${stats.resolved.wait}, get ${stats.resolved.get}, cancel ${stats.resolved.cancel}`,
    `[fuzz] rejected: ${Object.entries(stats.rejected).sort().map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `[fuzz] caller-thrown (callbacks) ${stats.callerThrown}; PulseClient constructor: ${stats.constructorOk} ok, ${stats.constructorThrows} threw`,
    `[fuzz] slowest settle ${stats.maxSettleMs} ms; longest event-loop stall ${maxStallMs} ms; most abort listeners on one signal ${maxListeners}; real signals ${realSignals.size}`,
    `[fuzz] failures: ${failures.length}${stoppedEarly ? ` (stopped launching calls after ${MAX_FAILURES})` : ""}`,
  ];
  console.log(summary.join("\n"));
  if (process.env.PULSE_FUZZ_REPORT) fs.writeFileSync(process.env.PULSE_FUZZ_REPORT, `${summary.join("\n")}\n${failures.join("\n")}\n`);
  if (failures.length) {
    const shown = failures.slice(0, 25).join("\n  ");
    assert.fail(`${failures.length} fuzz failure(s), seed ${SEED} (replay: ${REPLAY}):\n  ${shown}${failures.length > 25 ? `\n  … and ${failures.length - 25} more` : ""}`);
  }
  assert.ok(stats.calls >= Math.min(indexes.length, 1), "no call ran");
});
