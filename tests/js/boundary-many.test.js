// The newer entry points at the wasm boundary (docs/contract.md): values a
// caller hands waitForJobs, watchJob and the client's caps may throw or lie;
// each becomes an INVALID_ARGUMENT rejection (or, for the constructor, a
// thrown PulseError), never an exception escaping the call.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard, rejectsWith } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { PulseClient, PulseError, waitForJobs, watchJob } = P;
const boom = new Error("boom");
const throwing = () => {
  throw boom;
};

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());

/** A call that must return a promise rejecting INVALID_ARGUMENT with `cause` (what was thrown), not throw. */
async function rejectsUnreadable(call, cause = boom) {
  let promise;
  assert.doesNotThrow(() => (promise = call()), "no synchronous throw");
  const err = await rejectsWith(PulseError, promise, "INVALID_ARGUMENT");
  if (typeof cause === "function") assert.ok(err.cause instanceof cause, String(err.cause));
  else assert.equal(err.cause, cause);
  return err;
}

describe("the boundary of waitForJobs, watchJob and the caps", { concurrency: true }, () => {
  test("jobIds that throw when read: a Proxy whose traps throw, a revoked Proxy", async () => {
    const trapped = new Proxy([jid("ok")], { get: throwing, getOwnPropertyDescriptor: throwing, ownKeys: throwing });
    assert.match((await rejectsUnreadable(() => waitForJobs(trapped, { baseUrl: m.apiUrl }))).message, /jobIds could not be read/);
    const { proxy, revoke } = Proxy.revocable([], {});
    revoke();
    await rejectsUnreadable(() => waitForJobs(proxy, { baseUrl: m.apiUrl }), TypeError);
  });

  test("options whose getters throw: onJobSettled, the caps, a wait option", async () => {
    const ids = [jid("ok")];
    const throwingAt = (name) => Object.defineProperty({ baseUrl: m.apiUrl }, name, { get: throwing, enumerable: true });
    for (const name of ["onJobSettled", "maxConcurrentRequests", "initialDelayMs"]) {
      await rejectsUnreadable(() => waitForJobs(ids, throwingAt(name)));
    }
    // on a client the caps are the client's, so the call reads only the others
    for (const name of ["onJobSettled", "initialDelayMs"]) {
      await rejectsUnreadable(() => new PulseClient({ baseUrl: m.apiUrl }).waitForJobs(ids, throwingAt(name)));
    }
    assert.equal(m.requestsFor(ids[0]).length, 0);
  });

  test("a throwing options Proxy: watchJob's first next() rejects, waitForJobs rejects", async () => {
    const options = new Proxy({}, { get: throwing, has: throwing });
    const iterator = watchJob(jid("ok"), options);
    await rejectsUnreadable(() => iterator.next());
    await rejectsUnreadable(() => waitForJobs([jid("ok")], options));
  });

  test("the constructor throws a PulseError for caps whose getters throw", () => {
    for (const name of ["maxConcurrentRequests", "maxRequestsPerSecond"]) {
      const options = {};
      Object.defineProperty(options, name, { get: throwing });
      assert.throws(() => new PulseClient(options), (e) => e instanceof PulseError && e.code === "INVALID_ARGUMENT" && e.cause === boom, name);
    }
  });
});
