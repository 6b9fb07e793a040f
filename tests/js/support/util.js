// Small assertion and fake-fetch helpers shared by the behaviour tests.

import assert from "node:assert/strict";
import util from "node:util";
import { after } from "node:test";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A machine running a Rust build next to us is slow: upper bounds are loose. */
export const SLACK = Number(process.env.PULSE_TEST_SLACK_MS || 1000);
/** Timers may fire a hair early relative to another process' Date.now(). */
export const EARLY = 3;

/**
 * Awaits a promise that must reject with a PulseError of `code` (checked
 * against the given PulseError class and Error); returns the error.
 */
export async function rejectsWith(PulseError, promise, code, extra = {}) {
  let value;
  try {
    value = await promise;
  } catch (err) {
    assert.ok(err instanceof Error, `expected an Error, got ${util.inspect(err)}`);
    assert.ok(err instanceof PulseError, `expected a PulseError, got ${util.inspect(err)}`);
    assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
    assert.equal(typeof err.retryable, "boolean", "retryable must be a boolean");
    for (const [k, v] of Object.entries(extra)) assert.deepEqual(err[k], v, `err.${k} (${err.message})`);
    return err;
  }
  assert.fail(`expected rejection with ${code}, resolved with ${util.inspect(value, { depth: 3 })}`);
}

/** Same as rejectsWith for a function that may throw synchronously instead (it must not). */
export function callAsync(fn) {
  let p;
  assert.doesNotThrow(() => {
    p = fn();
  }, "must return a rejected promise, not throw");
  assert.ok(p && typeof p.then === "function", "must return a promise");
  return p;
}

/**
 * Wraps globalThis.fetch and records when the package calls it: the client's
 * own view of "a request starts", unaffected by the mock's event-loop lag.
 */
export function spyFetch() {
  const calls = [];
  const fetch = (input, init) => {
    calls.push({ at: Date.now(), url: typeof input === "string" ? input : input.url ?? String(input), method: init?.method ?? "GET" });
    return globalThis.fetch(input, init);
  };
  fetch.calls = calls;
  return fetch;
}

/** Time a promise: resolves { value|error, ms }. */
export async function timed(promise, start = Date.now()) {
  try {
    const value = await promise;
    return { value, ms: Date.now() - start, end: Date.now() };
  } catch (error) {
    return { error, ms: Date.now() - start, end: Date.now() };
  }
}

/** Every textual view of a thrown value, for secret scanning. */
export function renderings(err) {
  const out = [String(err), util.inspect(err, { depth: 8, showHidden: true })];
  try {
    out.push(JSON.stringify(err));
  } catch {}
  if (err && typeof err === "object") {
    out.push(String(err.message), String(err.stack));
    let c = err.cause;
    for (let i = 0; c && i < 5; i++, c = c.cause) {
      out.push(String(c), util.inspect(c, { depth: 8 }), String(c.stack));
    }
  }
  return out.join("\n");
}

/**
 * A scriptable `fetch`: route(url, init, call) returns a Response (or throws).
 * Honours init.signal like the platform fetch does (rejects the pending call
 * and errors a streaming body). Records calls as { url, method, headers }.
 */
export function fakeFetch(route) {
  const calls = [];
  async function fetch(input, init = {}) {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = (init.method || (typeof input === "object" && input.method) || "GET").toUpperCase();
    const headers = new Headers(init.headers || (typeof input === "object" && input.headers) || undefined);
    const signal = init.signal || (typeof input === "object" && input.signal) || undefined;
    const call = { url, method, headers: Object.fromEntries(headers), at: Date.now(), signal };
    calls.push(call);
    if (signal?.aborted) throw signal.reason;
    const res = await new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      Promise.resolve()
        .then(() => route(url, { ...init, method, headers }, call))
        .then(resolve, reject)
        .finally(() => signal?.removeEventListener("abort", onAbort));
    });
    return res;
  }
  fetch.calls = calls;
  return fetch;
}

export const json = (body, init = {}) =>
  new Response(JSON.stringify(body), {
    status: init.status ?? 200,
    headers: { "content-type": "application/json", ...(init.headers || {}) },
  });

/**
 * A streaming Response whose body is `chunks` (strings), each sent after
 * delays[i] ms; aborting `signal` errors the stream like a real fetch body.
 */
export function dripResponse(chunks, delays, signal, headers = {}) {
  const enc = new TextEncoder();
  let timer;
  const stream = new ReadableStream({
    start(controller) {
      let i = 0;
      const onAbort = () => {
        clearTimeout(timer);
        try {
          controller.error(signal.reason);
        } catch {}
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const next = () => {
        if (i >= chunks.length) {
          signal?.removeEventListener("abort", onAbort);
          controller.close();
          return;
        }
        timer = setTimeout(() => {
          try {
            controller.enqueue(enc.encode(chunks[i++]));
          } catch {
            return;
          }
          next();
        }, delays[i] ?? 0);
      };
      next();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(stream, { status: 200, headers: { "content-type": "application/json", ...headers } });
}

/**
 * If the package (wrongly) leaves timers behind, this file's process would not
 * exit and node --test would hang; end it a few seconds after the last test.
 * The consumer tests check hygiene properly, in child processes.
 */
export function exitGuard(ms = 5000) {
  after(() => {
    setTimeout(() => {
      const left = process.getActiveResourcesInfo?.() ?? [];
      process.stderr.write(`[exit guard] process still alive ${ms} ms after the tests, active: ${left.join(", ")}\n`);
      process.exit();
    }, ms).unref();
  });
}
