// The engine's driver (src/platform/driver.rs) through the real build: a
// callback that calls back into its own client while its progress is being
// reported must not change how the reporting call ends.

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard } from "./support/util.js";

exitGuard();
const { esm: P } = await loadPulse();
const { PulseClient } = P;
const KEY = "driver-key-5d1a";

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const fast = { initialDelayMs: 5, multiplier: 1, jitter: 0 };

describe("callbacks that call into their own client", { concurrency: true }, () => {
  test("onProgress that starts a getJob, then throws on the job's last poll: the wait rejects with its exception, the getJob resolves", async () => {
    const c = new PulseClient({ apiKey: KEY, baseUrl: m.apiUrl });
    const boom = new Error("boom from onProgress");
    const other = jid("ok");
    let started;
    const wait = c.waitForJob(jid("ok"), {
      ...fast,
      onProgress: () => {
        started = c.getJob(other);
        throw boom;
      },
    });
    await assert.rejects(wait, (e) => e === boom);
    assert.ok(started instanceof Promise, "onProgress ran");
    const job = await started;
    assert.equal(job.job_id, other);
    assert.equal(job.status, "completed");
  });

  test("a watch's listener that starts a wait of the same client, then throws: the watch rejects with its exception, the wait resolves", async () => {
    const c = new PulseClient({ apiKey: KEY, baseUrl: m.apiUrl, maxConcurrentRequests: 1 });
    const boom = new Error("boom from a listener");
    const other = jid("steps_1");
    let started;
    const watch = (async () => {
      for await (const _job of c.watchJob(jid("ok"), fast)) {
        started = c.waitForJob(other, fast);
        throw boom;
      }
    })();
    await assert.rejects(watch, (e) => e === boom);
    const job = await started;
    assert.equal(job.job_id, other);
    assert.equal(job.status, "completed");
  });
});
