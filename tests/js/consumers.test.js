// Consumer fixtures (tests/consumers/node-esm, tests/consumers/node-cjs), each
// installed from the packed tarball and run as `node main.js` against the
// mock. Checks the printed outcome AND that the process ends by itself
// promptly once the wait settles (docs/contract.md, "Behaviour"): no
// timer, listener or request of the package may keep Node alive, whether the
// wait resolved, rejected, timed out or was aborted. The waits use long
// defaults (30 min deadline, 30 s request timeout, 60 s sleeps), so anything
// left behind would hold the process far longer than the exit budget.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "./support/runner.js";
import { installPackage } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard } from "./support/util.js";

exitGuard();

/**
 * How long after settling a consumer may take to exit. Node's own shutdown is
 * ~50 ms; the budget is loose for busy machines but far below what a leaked
 * timer would hold the process for.
 */
const EXIT_BUDGET_MS = 8000;
const KILL_AFTER_MS = 25_000;
const API_KEY = "consumer-key-5b7d0c";
const ALIVE_REPORT = fileURLToPath(new URL("./support/alive-report.cjs", import.meta.url));

let m;
let dirs;
before(async () => {
  [m, dirs] = await Promise.all([startMockServer(), installPackage()]);
});
after(() => m?.close());

function spawnConsumer(dir, env) {
  const child = spawn(process.execPath, ["main.js"], {
    cwd: dir,
    // alive-report prints what keeps the process alive if it lingers.
    env: { ...process.env, NODE_OPTIONS: `--require ${JSON.stringify(ALIVE_REPORT)}`, PULSE_ALIVE_REPORT_MS: "15000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const done = new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    let killed = false;
    const killer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, KILL_AFTER_MS);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const exitedAt = Date.now();
      clearTimeout(killer);
      child.on("close", () => resolve({ code, signal, killed, exitedAt, stdout, stderr }));
    });
  });
  return { child, done };
}

/**
 * Runs a fixture for a fresh job id of `scenario`. With `abortWhen(records)`,
 * sends SIGUSR2 (the fixture aborts its wait) once the mock's records for the
 * job satisfy it.
 */
async function consume(kind, scenario, { options, abortWhen } = {}) {
  const id = jid(scenario);
  const dir = kind === "esm" ? dirs.esmFixture : dirs.cjsFixture;
  const env = {
    PULSE_BASE_URL: m.apiUrl,
    PULSE_JOB_ID: id,
    PULSE_API_KEY: API_KEY,
    PULSE_OPTIONS: JSON.stringify(options || {}),
    ...(abortWhen ? { PULSE_ABORT_ON_SIGUSR2: "1" } : {}),
  };
  const { child, done } = spawnConsumer(dir, env);
  if (abortWhen) {
    const recs = await m.waitFor(id, abortWhen, 20_000);
    assert.ok(abortWhen(recs), `the consumer never reached the point to abort at: ${JSON.stringify(recs)}`);
    child.kill("SIGUSR2");
  }
  const r = await done;
  assert.equal(r.killed, false, `consumer did not exit within ${KILL_AFTER_MS} ms\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n").filter(Boolean);
  assert.equal(lines.length, 1, `expected one output line, got:\n${r.stdout}\nstderr: ${r.stderr}`);
  const out = JSON.parse(lines[0]);
  const exitDelay = r.exitedAt - out.settledAt;
  assert.ok(
    exitDelay < EXIT_BUDGET_MS,
    `process lived ${exitDelay} ms after the wait settled (something of the package kept it alive)\nstderr: ${r.stderr}`,
  );
  assert.equal(r.stderr, "", "nothing on stderr (no warnings, no logs)");
  assert.ok(!r.stdout.includes(API_KEY) && !r.stderr.includes(API_KEY), "API key printed");
  return { id, out, code: r.code };
}

const sleptSince = (ms) => (rs) => rs.length === 1 && Date.now() - rs[0].at > ms;

for (const kind of ["esm", "cjs"]) {
  describe(`node ${kind} consumer`, { concurrency: 4 }, () => {
    test("resolves with the plain job object and exits", async () => {
      const { id, out, code } = await consume(kind, "ok");
      assert.equal(code, 0);
      assert.equal(out.ok, true);
      assert.equal(out.plain, true, "job and job.result are plain objects");
      assert.equal(out.job.job_id, id);
      assert.equal(out.job.status, "completed");
      assert.equal(typeof out.job.result.markdown, "string");
      assert.equal(m.pollsFor(id).length, 1);
      assert.equal(m.pollsFor(id)[0].headers["x-api-key"], API_KEY);
    });

    test("after several polls with sleeps, exits promptly", async () => {
      const { id, out } = await consume(kind, "steps_3", { options: { initialDelayMs: 20, jitter: 0 } });
      assert.equal(out.ok, true);
      assert.equal(out.job.status, "completed");
      assert.equal(m.pollsFor(id).length, 4);
    });

    test("after downloading a large result by URL, exits promptly", async () => {
      const { id, out } = await consume(kind, "large_300000");
      assert.equal(out.ok, true);
      assert.equal(out.plain, true);
      assert.notEqual(out.job.result.is_url, true, "result was downloaded");
      assert.ok(m.storageFor(id).length >= 1);
    });

    test("after a rejected wait (JOB_FAILED), exits promptly", async () => {
      const { out, code } = await consume(kind, "failed");
      assert.equal(code, 3);
      assert.equal(out.ok, false);
      assert.equal(out.error.code, "JOB_FAILED");
      assert.equal(out.error.isPulseError, true);
      assert.equal(out.error.isError, true);
      assert.match(out.error.message, /Document could not be parsed/);
    });

    test("after HTTP_ERROR, exits promptly", async () => {
      const { out } = await consume(kind, "status_404");
      assert.equal(out.error.code, "HTTP_ERROR");
    });

    test("after TIMEOUT, exits promptly", async () => {
      const { out } = await consume(kind, "steps_1000", { options: { initialDelayMs: 50, jitter: 0, multiplier: 1, timeoutMs: 300 } });
      assert.equal(out.ok, false);
      assert.equal(out.error.code, "TIMEOUT");
    });

    test("after NETWORK_ERROR from a request timeout, exits promptly", async () => {
      const { id, out } = await consume(kind, "hang", { options: { requestTimeoutMs: 1500, maxRetries: 0 } });
      assert.equal(out.error.code, "NETWORK_ERROR");
      assert.ok(m.pollsFor(id).length <= 1);
    });

    test("after an abort during a sleep, exits promptly", async () => {
      const { id, out } = await consume(kind, "steps_1000", { options: { initialDelayMs: 60_000 }, abortWhen: sleptSince(150) });
      assert.equal(out.error.code, "ABORTED");
      assert.equal(out.error.name, "AbortError");
      assert.equal(m.pollsFor(id).length, 1);
    });

    test("after an abort during a poll, exits promptly", async () => {
      const { id, out } = await consume(kind, "hang", { abortWhen: sleptSince(100) });
      assert.equal(out.error.code, "ABORTED");
      assert.equal(out.error.name, "AbortError");
      const recs = await m.waitFor(id, (rs) => rs.length === 1 && rs[0].closedEarly === true);
      assert.equal(recs[0].closedEarly, true, "the in-flight request was aborted");
    });

    test("after an abort during a download, exits promptly", async () => {
      const { id, out } = await consume(kind, "dlstall_400000", {
        abortWhen: (rs) => rs.some((r) => r.side === "storage" && Date.now() - r.at > 100),
      });
      assert.equal(out.error.code, "ABORTED");
      const recs = await m.waitFor(id, (rs) => rs.some((r) => r.side === "storage" && r.closedEarly === true));
      assert.ok(recs.some((r) => r.side === "storage" && r.closedEarly === true), "the download was aborted");
    });
  });
}

test("fixtures were installed from the packed tarball, not linked", () => {
  for (const dir of [dirs.esmFixture, dirs.cjsFixture, dirs.consumer]) {
    const p = path.join(dir, "node_modules", "pulse-jobs");
    assert.equal(fs.lstatSync(p).isSymbolicLink(), false, `${p} is a symlink`);
    assert.equal(JSON.parse(fs.readFileSync(path.join(p, "package.json"), "utf8")).name, "pulse-jobs");
    const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
    assert.match(lock.packages["node_modules/pulse-jobs"].resolved, /\.tgz$/, "installed from the tarball");
  }
});
