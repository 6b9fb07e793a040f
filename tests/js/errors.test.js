// PulseError and the two module formats: the package's exports through
// import() and require(), `instanceof PulseError` / `instanceof Error` for
// errors from each, the error fields, and that the API key never shows in
// any thrown error (message, stack, inspect, JSON, cause).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse, pkgDir } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard, fakeFetch, json, rejectsWith, renderings } from "./support/util.js";

exitGuard();
const { esm, cjs } = await loadPulse();
const SECRET = "sk-live-SECRET-b1f2c3d4e5";

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());

describe("module formats", { concurrency: true }, () => {
  for (const [name, mod] of [["ESM", esm], ["CJS", cjs]]) {
    test(`${name} load exposes the public API`, () => {
      for (const fn of ["waitForJob", "getJob", "cancelJob"]) assert.equal(typeof mod[fn], "function", fn);
      assert.equal(typeof mod.PulseClient, "function");
      assert.equal(typeof mod.PulseError, "function");
      assert.ok(Object.create(mod.PulseError.prototype) instanceof Error, "PulseError extends Error");
    });

    test(`${name}: errors are instanceof PulseError and Error, with the documented fields`, async () => {
      const id = jid("status_404");
      const err = await rejectsWith(mod.PulseError, mod.waitForJob(id, { apiKey: SECRET, baseUrl: m.apiUrl }), "HTTP_ERROR");
      assert.ok(err instanceof Error);
      assert.equal(err.jobId, id);
      assert.equal(err.httpStatus, 404);
      assert.equal(err.retryable, false);
      assert.equal(typeof err.message, "string");
      assert.ok(err.message.length > 0);
      // Built in a microtask, the stack would hold only wasm frames: docs/decisions.md.
      assert.equal(err.stack, `PulseError: ${err.message}`);
      assert.equal(Error.stackTraceLimit, 10, "Error.stackTraceLimit is restored");
    });

    test(`${name}: synchronous PulseClient errors are PulseError too`, () => {
      assert.throws(() => new mod.PulseClient({ baseUrl: 5 }), (e) => e instanceof mod.PulseError && e instanceof Error && e.code === "INVALID_ARGUMENT");
    });

    test(`${name}: JOB_FAILED carries the job`, async () => {
      const id = jid("failed");
      const err = await rejectsWith(mod.PulseError, mod.waitForJob(id, { baseUrl: m.apiUrl }), "JOB_FAILED");
      assert.equal(err.job.job_id, id);
    });
  }

  test("errors are still PulseErrors, with a stack, where Error.stackTraceLimit is frozen", async () => {
    const script = `
      Object.defineProperty(Error, "stackTraceLimit", { value: 10, writable: false });
      const { waitForJob, PulseError } = await import(${JSON.stringify(pkgDir + "/node/index.mjs")});
      const err = await waitForJob("j", { baseUrl: ${JSON.stringify(m.apiUrl)}.replace(/:\\d+$/, ":1") }).catch((e) => e);
      console.log(JSON.stringify([err instanceof PulseError, err.code, err.stack.split("\\n").length > 1]));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
    assert.deepEqual(JSON.parse(stdout), [true, "NETWORK_ERROR", true]);
  });

  test("ESM and CJS loads both work against the mock", async () => {
    const [a, b] = await Promise.all([
      esm.waitForJob(jid("ok"), { baseUrl: m.apiUrl }),
      cjs.waitForJob(jid("ok"), { baseUrl: m.apiUrl }),
    ]);
    assert.equal(a.status, "completed");
    assert.equal(b.status, "completed");
  });
});

describe("the API key never appears in a thrown error", { concurrency: true }, () => {
  const { waitForJob, getJob, cancelJob, PulseError } = esm;
  const o = (x = {}) => ({ apiKey: SECRET, baseUrl: m.apiUrl, initialDelayMs: 5, jitter: 0, ...x });
  const cases = [
    ["HTTP 401", () => waitForJob(jid("status_401"), o())],
    ["HTTP 403 (getJob)", () => getJob(jid("status_403"), o())],
    ["HTTP 500 (cancelJob)", () => cancelJob(jid("status_500"), o())],
    ["JOB_FAILED", () => waitForJob(jid("failed"), o())],
    ["JOB_CANCELED", () => waitForJob(jid("canceled"), o())],
    ["JOB_EXPIRED", () => waitForJob(jid("expired"), o())],
    ["INVALID_RESPONSE", () => waitForJob(jid("notjson"), o())],
    ["NETWORK_ERROR (cut)", () => waitForJob(jid("cut_3"), o({ maxRetries: 0 }))],
    ["NETWORK_ERROR (timeout)", () => waitForJob(jid("hang"), o({ requestTimeoutMs: 50, maxRetries: 0 }))],
    ["TIMEOUT", () => waitForJob(jid("steps_100"), o({ timeoutMs: 100 }))],
    ["ABORTED", () => waitForJob(jid("ok"), o({ signal: AbortSignal.abort() }))],
    ["bad url", () => waitForJob(jid("badurl_ftp"), o())],
    ["download 403 x2", () => waitForJob(jid("presignstale"), o())],
    ["RESULT_TOO_LARGE", () => waitForJob(jid("large_100000"), o({ maxResultBytes: 100 }))],
    ["INVALID_ARGUMENT (other field)", () => waitForJob(jid("ok"), o({ multiplier: -1 }))],
    ["INVALID_ARGUMENT (jobId)", () => waitForJob("", o())],
    ["INVALID_ARGUMENT (header next to the key)", () => waitForJob(jid("ok"), o({ headers: { "x-bad": "\n" } }))],
    ["fetch rejecting with a message", () => waitForJob("f", o({ fetch: async () => { throw new TypeError("fetch failed"); }, maxRetries: 0 }))],
    ["401 JSON body echoing nothing", () => getJob("g", o({ fetch: fakeFetch(() => json({ error: "denied" }, { status: 401 })) }))],
  ];
  for (const [label, run] of cases) {
    test(label, async () => {
      let err;
      try {
        await run();
      } catch (e) {
        err = e;
      }
      assert.ok(err, "expected a rejection");
      assert.ok(err instanceof PulseError, `not a PulseError: ${err}`);
      const text = renderings(err);
      assert.ok(!text.includes(SECRET), `API key in the error:\n${text.slice(0, 2000)}`);
      assert.ok(!text.includes("SECRET-b1f2"), "part of the API key in the error");
    });
  }

  test("error messages do not show presigned result URLs (docs/decisions.md)", async () => {
    const id = jid("presignstale");
    let err;
    try {
      await esm.waitForJob(id, o());
    } catch (e) {
      err = e;
    }
    assert.equal(err?.code, "RESULT_DOWNLOAD_FAILED");
    assert.ok(!err.message.includes("token="), `URL in the message: ${err.message}`);
  });

  test("PulseClient with a valid key: errors do not show it either", async () => {
    const client = new esm.PulseClient({ apiKey: SECRET, baseUrl: m.apiUrl });
    let err;
    try {
      await client.waitForJob(jid("status_400"));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof PulseError);
    assert.ok(!renderings(err).includes(SECRET));
  });
});

describe("no log lines", () => {
  test("failing and succeeding calls log nothing (and never the key)", async () => {
    const { waitForJob, getJob, cancelJob } = esm;
    const logged = [];
    const methods = ["log", "info", "warn", "error", "debug", "trace"];
    const saved = methods.map((k) => console[k]);
    for (const k of methods) console[k] = (...args) => logged.push(args.map(String).join(" "));
    try {
      const o = { apiKey: SECRET, baseUrl: m.apiUrl, initialDelayMs: 5, jitter: 0 };
      const runs = [
        waitForJob(jid("ok"), o),
        waitForJob(jid("flaky_2"), o),
        waitForJob(jid("large_20000"), o),
        waitForJob(jid("status_401"), o),
        waitForJob(jid("cut_2"), { ...o, maxRetries: 0 }),
        getJob(jid("notjson"), o),
        cancelJob(jid("status_500"), o),
        waitForJob(jid("ok"), { ...o, jitter: 5 }),
      ];
      await Promise.allSettled(runs);
    } finally {
      methods.forEach((k, i) => (console[k] = saved[i]));
    }
    assert.ok(!logged.join("\n").includes(SECRET), "API key logged");
    assert.deepEqual(logged, [], "the package logs nothing");
  });
});
