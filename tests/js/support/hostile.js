// Hostile JS values for the reliability suites (boundary.test.js, fuzz.test.js):
// a seeded PRNG, thrown sentinels tracked by identity, Response look-alikes that
// throw or lie (plain objects, node-fetch v2 style with a Node stream body,
// scripted body readers), signal-like objects, and a process guard that records
// uncaughtException / unhandledRejection / MaxListenersExceededWarning.

import { getEventListeners } from "node:events";
import { Readable } from "node:stream";
import util from "node:util";

// ---------------------------------------------------------------- randomness

/** mulberry32: a tiny deterministic PRNG; returns floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed mixed with an index (for an independent stream per call). */
export function mixSeed(seed, index) {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Helpers over a PRNG: int(lo, hi) inclusive, pick(array), chance(p). */
export function rand(next) {
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

// ---------------------------------------------------------------- sentinels

const sentinelLabels = new Map();
let sentinelCounter = 0;

/**
 * A unique value to throw, remembered with its label (e.g. "getter apiKey").
 * kind "error" (default) gives an Error, "object" a plain object, "string" a
 * unique string, "symbol" a Symbol.
 */
export function sentinel(label, kind = "error") {
  sentinelCounter += 1;
  const tag = `sentinel#${sentinelCounter} (${label})`;
  let value;
  if (kind === "object") value = { sentinel: tag };
  else if (kind === "string") value = tag;
  else if (kind === "symbol") value = Symbol(tag);
  else value = new Error(tag);
  sentinelLabels.set(value, label);
  return value;
}

/** The label of a sentinel, or undefined for any other value. */
export const sentinelLabel = (value) => sentinelLabels.get(value);
export const isSentinel = (value) => sentinelLabels.has(value);
/** Forget sentinels (the fuzz suite makes many). */
export const forgetSentinels = () => sentinelLabels.clear();

/** Defines an enumerable getter `name` on obj that throws `error`. */
export function throwingGetter(obj, name, error) {
  Object.defineProperty(obj, name, {
    enumerable: true,
    configurable: true,
    get() {
      throw error;
    },
  });
  return obj;
}

/** A Proxy whose listed traps throw `error` (other traps behave normally). */
export function throwingProxy(target, traps, error) {
  const handler = {};
  for (const trap of traps) {
    handler[trap] = () => {
      throw error;
    };
  }
  return new Proxy(target, handler);
}

/** A revoked Proxy: any operation on it throws a TypeError. */
export function revokedProxy(target = {}) {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

// ---------------------------------------------------------------- timing

export const macrotask = () => new Promise((r) => setImmediate(r));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * { status: "fulfilled", value } | { status: "rejected", reason } | { status: "pending" }
 * after at most `ms`.
 */
export function settleWithin(promise, ms) {
  let timer;
  const timeout = new Promise((r) => {
    timer = setTimeout(() => r({ status: "pending" }), ms);
  });
  const settled = Promise.resolve(promise).then(
    (value) => ({ status: "fulfilled", value }),
    (reason) => ({ status: "rejected", reason }),
  );
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- responses

const enc = new TextEncoder();
export const bytesOf = (text) => enc.encode(text);

/**
 * A Response look-alike as a plain object. `spec` fields:
 *   status (any value, default 200), statusText, headers (object: plain
 *   Headers-like with get; default empty), body (any value; default null),
 *   text (string, or a function returning what text() returns),
 *   arrayBuffer (same), throwing: { status|headers|body|ok|text|arrayBuffer: error }
 *   (those properties become getters that throw).
 */
export function plainResponse(spec = {}) {
  const text = spec.text ?? "";
  const status = "status" in spec ? spec.status : 200;
  const res = {
    ok: typeof status === "number" && status >= 200 && status <= 299,
    status,
    statusText: spec.statusText ?? "",
    url: spec.url ?? "",
    redirected: false,
    type: "basic",
    headers: spec.headers ?? new Headers(),
    body: "body" in spec ? spec.body : null,
    bodyUsed: false,
    text: typeof text === "function" ? text : async () => text,
    arrayBuffer:
      typeof spec.arrayBuffer === "function"
        ? spec.arrayBuffer
        : async () => {
            const b = bytesOf(typeof text === "function" ? await text() : text);
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
          },
    async json() {
      return JSON.parse(await res.text());
    },
  };
  if ("ok" in spec) res.ok = spec.ok;
  for (const [name, error] of Object.entries(spec.throwing ?? {})) throwingGetter(res, name, error);
  return res;
}

/** A Headers-like object whose get() throws `error`. */
export function throwingHeaders(error) {
  return {
    get() {
      throw error;
    },
    has() {
      throw error;
    },
    forEach() {
      throw error;
    },
    entries() {
      throw error;
    },
    [Symbol.iterator]() {
      throw error;
    },
  };
}

/**
 * node-fetch v2's Response shape: `body` is a Node Readable (no getReader),
 * headers is a Headers-like object, and text()/arrayBuffer()/json() read the
 * whole body. `opts.arrayBuffer` may override arrayBuffer (e.g. never resolves).
 */
export function nodeFetchV2Response(text, opts = {}) {
  const status = opts.status ?? 200;
  const buf = Buffer.from(text, "utf8");
  const headerMap = new Map(Object.entries({ "content-type": "application/json", ...(opts.headers ?? {}) }).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const headers = {
    get: (name) => (headerMap.has(String(name).toLowerCase()) ? headerMap.get(String(name).toLowerCase()) : null),
    has: (name) => headerMap.has(String(name).toLowerCase()),
    raw: () => Object.fromEntries([...headerMap].map(([k, v]) => [k, [v]])),
    forEach: (cb) => headerMap.forEach((v, k) => cb(v, k)),
  };
  const calls = { text: 0, arrayBuffer: 0, json: 0, body: 0 };
  let body;
  const res = {
    url: opts.url ?? "",
    status,
    statusText: "OK",
    ok: status >= 200 && status < 300,
    redirected: false,
    size: 0,
    timeout: 0,
    headers,
    get body() {
      calls.body += 1;
      body ??= Readable.from([buf.subarray(0, buf.length >> 1), buf.subarray(buf.length >> 1)]);
      return body;
    },
    bodyUsed: false,
    async text() {
      calls.text += 1;
      return buf.toString("utf8");
    },
    arrayBuffer:
      opts.arrayBuffer ??
      (async () => {
        calls.arrayBuffer += 1;
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      }),
    async json() {
      calls.json += 1;
      return JSON.parse(buf.toString("utf8"));
    },
    clone() {
      return nodeFetchV2Response(text, opts);
    },
  };
  res.calls = calls;
  return res;
}

/**
 * A response whose `body` is `{ getReader() }` returning `reader` (an object
 * with read/cancel/releaseLock the caller scripts). text()/arrayBuffer() throw
 * so that a package reading the body some other way is noticed.
 */
export function readerResponse(reader, opts = {}) {
  const misuse = new Error("readerResponse: the body was read through text()/arrayBuffer() instead of its reader");
  return plainResponse({
    status: opts.status ?? 200,
    headers: new Headers({ "content-type": "application/json", ...(opts.headers ?? {}) }),
    body: opts.body ?? {
      locked: false,
      getReader: () => reader,
      cancel: async () => {},
    },
    text: () => Promise.reject(misuse),
    arrayBuffer: () => Promise.reject(misuse),
  });
}

/**
 * A scripted reader: `steps` are functions returning what read() returns
 * (called in order; the last repeats). Tracks cancel() calls; cancelImpl
 * decides what cancel does (default: resolves).
 */
export function scriptedReader(steps, cancelImpl = () => Promise.resolve()) {
  let i = 0;
  const reader = {
    reads: 0,
    cancels: 0,
    released: 0,
    read() {
      reader.reads += 1;
      const step = steps[Math.min(i, steps.length - 1)];
      i += 1;
      return step();
    },
    cancel(reason) {
      reader.cancels += 1;
      return cancelImpl(reason);
    },
    releaseLock() {
      reader.released += 1;
    },
    get closed() {
      return new Promise(() => {});
    },
  };
  return reader;
}

/** read() steps that stream `text` in `n` chunks, then done. */
export function chunkSteps(text, n = 2) {
  const b = bytesOf(text);
  const size = Math.max(1, Math.ceil(b.length / n));
  const steps = [];
  for (let o = 0; o < b.length; o += size) {
    const chunk = b.slice(o, o + size);
    steps.push(() => Promise.resolve({ done: false, value: chunk }));
  }
  steps.push(() => Promise.resolve({ done: true, value: undefined }));
  return steps;
}

// ---------------------------------------------------------------- signals

/**
 * A signal-like object (has `aborted` and `addEventListener`). `throws` may
 * hold errors for "aborted", "reason", "addEventListener",
 * "removeEventListener". fire(reason) marks it aborted and calls the listeners.
 */
export function signalLike(throws = {}) {
  const listeners = new Set();
  let aborted = false;
  let reason;
  const s = {
    get aborted() {
      if ("aborted" in throws) throw throws.aborted;
      return aborted;
    },
    get reason() {
      if ("reason" in throws) throw throws.reason;
      return reason;
    },
    addEventListener(type, fn) {
      if ("addEventListener" in throws) throw throws.addEventListener;
      if (type === "abort") listeners.add(fn);
    },
    removeEventListener(type, fn) {
      if ("removeEventListener" in throws) throw throws.removeEventListener;
      if (type === "abort") listeners.delete(fn);
    },
    dispatchEvent() {
      return true;
    },
    onabort: null,
    throwIfAborted() {
      if (aborted) throw reason;
    },
    get listenerCount() {
      return listeners.size;
    },
    fire(r = new Error("signal-like aborted")) {
      if (aborted) return;
      aborted = true;
      reason = r;
      const event = { type: "abort", target: s };
      for (const fn of [...listeners]) {
        try {
          if (typeof fn === "function") fn.call(s, event);
          else fn?.handleEvent?.(event);
        } catch {}
      }
    },
  };
  return s;
}

/** Abort listeners currently on a real AbortSignal. */
export const abortListeners = (signal) => getEventListeners(signal, "abort").length;

// ---------------------------------------------------------------- process guard

const FORBIDDEN = /unreachable|null pointer passed to rust|recursive use of an object|already (mutably )?borrowed|RuntimeError/i;

/** True when `value` looks like a wasm trap or a wasm-bindgen internal failure. */
export function isWasmFault(value) {
  if (typeof WebAssembly !== "undefined" && value instanceof WebAssembly.RuntimeError) return true;
  let text;
  try {
    text = value instanceof Error ? `${value.name}: ${value.message}` : typeof value === "string" ? value : "";
  } catch {
    text = "";
  }
  if (FORBIDDEN.test(text)) return true;
  try {
    const cause = value?.cause;
    if (cause && cause !== value && cause instanceof Error) return isWasmFault(cause);
  } catch {}
  return false;
}

export function show(value) {
  try {
    return util.inspect(value, { depth: 2, breakLength: 160 }).slice(0, 600);
  } catch {
    return "<uninspectable>";
  }
}

let guard;
/**
 * Installs (once per process) listeners for uncaughtException,
 * unhandledRejection and MaxListenersExceededWarning; returns
 * { events, reset(), assertClean(assert, label) }.
 */
export function processGuard() {
  if (guard) return guard;
  const events = [];
  const onUnhandled = (reason) => events.push({ type: "unhandledRejection", value: reason });
  process.on("uncaughtException", (error) => events.push({ type: "uncaughtException", value: error }));
  process.on("unhandledRejection", onUnhandled);
  process.on("warning", (w) => {
    if (w?.name === "MaxListenersExceededWarning") events.push({ type: "MaxListenersExceededWarning", value: w });
  });
  guard = {
    events,
    /**
     * Runs fn with this guard as the only unhandledRejection listener and
     * uncaught exceptions captured, so that they are reported (with context)
     * by the caller instead of ending the current test at once.
     */
    async exclusive(fn) {
      const others = process.listeners("unhandledRejection").filter((l) => l !== onUnhandled);
      for (const l of others) process.off("unhandledRejection", l);
      process.setUncaughtExceptionCaptureCallback((error) => events.push({ type: "uncaughtException", value: error }));
      try {
        return await fn();
      } finally {
        process.setUncaughtExceptionCaptureCallback(null);
        for (const l of others) process.on("unhandledRejection", l);
      }
    },
    reset() {
      events.length = 0;
    },
    /** Lets pending rejections be reported, then fails if anything was recorded. */
    async assertClean(assert, label = "") {
      await macrotask();
      await sleep(20);
      await macrotask();
      const seen = events.splice(0);
      assert.deepEqual(
        seen.map((e) => `${e.type}: ${show(e.value)}`),
        [],
        `${label} process-level events (must be none)`,
      );
    },
  };
  return guard;
}

/** Every option name of waitForJob, in the order of docs/contract.md. */
export const WAIT_OPTION_NAMES = [
  "apiKey",
  "baseUrl",
  "headers",
  "fetch",
  "signal",
  "requestTimeoutMs",
  "initialDelayMs",
  "maxDelayMs",
  "multiplier",
  "jitter",
  "timeoutMs",
  "maxRetries",
  "downloadResult",
  "maxResultBytes",
  "cancelOnAbort",
  "resume",
  "onProgress",
  "onDownloadProgress",
];
