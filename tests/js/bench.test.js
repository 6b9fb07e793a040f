// `make bench`'s baselines (bench/baselines.js, bench/run.js): the target is
// the plain poller bounding each request with the package's per-request
// timeout; the poller without one is a second, labelled column on the lines
// where that timeout is at work, measured in the same pairs, in rotated order.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "./support/runner.js";
import { repoRoot } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { SLACK, exitGuard } from "./support/util.js";
import { PLAIN, PLAIN_NO_TIMEOUT, PULSE, REQUEST_TIMEOUT_MS, optionsFor } from "../../bench/baselines.js";
import { plainWaitForJob } from "../../bench/plain-poller.js";

exitGuard();
/**
 * Runs `node bench/run.js args` in a process group of its own, killed whole
 * (the mock and the child measuring included) if it outlives `limitMs`;
 * resolves { stdout } on exit 0, else rejects with its stderr.
 */
function runBench(args, limitMs = 20_000) {
  const child = spawn(process.execPath, ["bench/run.js", ...args], { cwd: repoRoot, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => process.kill(-child.pid, "SIGKILL"), limitMs);
  return new Promise((resolve, reject) =>
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout });
      else reject(new Error(`node bench/run.js ${args.join(" ")}: ${signal ?? `exit ${code}`}\n${stderr}`));
    }),
  );
}

/** Turns of the event loop (not timers: those are mocked) until `cond()` holds, for up to 10 s. */
async function until(cond) {
  const end = Date.now() + 10 * SLACK;
  while (!cond() && Date.now() < end) await new Promise(setImmediate);
  assert.ok(cond(), "condition never held");
}

describe("the baselines' per-request timeout", () => {
  let m;
  before(async () => {
    m = await startMockServer();
  });
  after(() => m?.close());

  test("the package and the target baseline run with the same per-request timeout, the package's default", () => {
    assert.equal(REQUEST_TIMEOUT_MS, 30_000);
    assert.equal(optionsFor(PULSE, m.apiUrl).requestTimeoutMs, REQUEST_TIMEOUT_MS);
    assert.equal(optionsFor(PLAIN, m.apiUrl).requestTimeoutMs, REQUEST_TIMEOUT_MS);
    assert.equal(optionsFor(PLAIN_NO_TIMEOUT, m.apiUrl).requestTimeoutMs, undefined);
    assert.throws(() => optionsFor("plain-timeouts", m.apiUrl), /unknown implementation plain-timeouts; one of pulse, plain, plain-no-timeout/);
  });

  // A poll that never answers, with the poller's setTimeout mocked: the
  // target's request ends when the timeout passes, the other's stays in flight.
  for (const [impl, timesOut] of [
    [PLAIN, true],
    [PLAIN_NO_TIMEOUT, false],
  ]) {
    test(`${impl}: a hung poll ${timesOut ? "ends" : "stays in flight"} after ${REQUEST_TIMEOUT_MS} ms`, async (t) => {
      t.mock.timers.enable({ apis: ["setTimeout"] });
      const id = jid("hang");
      const controller = new AbortController();
      let settled = null;
      plainWaitForJob(id, { ...optionsFor(impl, m.apiUrl), maxRetries: 0, signal: controller.signal }).then(
        () => (settled = { resolved: true }),
        (error) => (settled = { error }),
      );
      await until(() => m.pollsFor(id).length === 1);
      t.mock.timers.tick(REQUEST_TIMEOUT_MS - 1);
      for (let i = 0; i < 100; i += 1) await new Promise(setImmediate);
      assert.equal(settled, null, "nothing ends before the timeout");
      t.mock.timers.tick(1);
      if (timesOut) {
        await until(() => settled !== null);
        assert.equal(settled.error?.name, "TimeoutError", `rejected with ${settled.error}`);
      } else {
        t.mock.timers.tick(10 * REQUEST_TIMEOUT_MS);
        for (let i = 0; i < 1000; i += 1) await new Promise(setImmediate);
        assert.equal(settled, null, "still in flight");
        controller.abort();
        await until(() => settled !== null);
        assert.equal(settled.error?.name, "AbortError", `rejected with ${settled.error}`);
      }
      assert.equal(m.pollsFor(id).length, 1, "one poll, no retry");
    });
  }
});

describe("node bench/run.js", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pulse-bench-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("two pairs: each line against the poller with timeouts, the abort in flight also against the one without, orders rotated", { timeout: 300_000 }, async () => {
    const out = path.join(dir, "results.json");
    const { stdout } = await runBench(["--pairs", "2", "--only", "abortSleep,abortFlight", "--out", out], 240_000);
    const report = JSON.parse(readFileSync(out, "utf8"));
    assert.match(report.baselines.target, new RegExp(`^${PLAIN}: per-request timeout ${REQUEST_TIMEOUT_MS} ms$`));
    assert.match(report.baselines.second, new RegExp(`^${PLAIN_NO_TIMEOUT}: no per-request timeout$`));
    assert.equal(report.pairs, 2);
    assert.ok(report.measuredS[PLAIN_NO_TIMEOUT] >= 0 && report.measuredS[PULSE] > 0 && report.measuredS[PLAIN] > 0, JSON.stringify(report.measuredS));

    const [sleeping, flight] = report.results;
    assert.match(sleeping.line, /abort → rejection, sleeping/);
    assert.match(flight.line, /abort → rejection, poll in flight/);

    // The sleeping abort has no request in flight: two implementations, no second column.
    assert.deepEqual(Object.keys(sleeping.runs), [PULSE, PLAIN]);
    assert.equal("plain, no timeout" in sleeping, false);
    assert.deepEqual(sleeping.orders, [
      [PULSE, PLAIN],
      [PLAIN, PULSE],
    ]);

    // The abort in flight: three, each first in some pair, both ratios from the same pairs.
    assert.deepEqual(Object.keys(flight.runs), [PULSE, PLAIN, PLAIN_NO_TIMEOUT]);
    assert.deepEqual(flight.orders, [
      [PULSE, PLAIN, PLAIN_NO_TIMEOUT],
      [PLAIN, PLAIN_NO_TIMEOUT, PULSE],
    ]);
    for (const line of [sleeping, flight]) {
      for (const values of Object.values(line.runs)) {
        assert.equal(values.length, 2);
        for (const us of values) assert.ok(Number.isFinite(us) && us > 0, `${line.line}: ${values}`);
      }
    }
    const mean = (xs) => (xs[0] + xs[1]) / 2; // the median of two
    const close = (actual, expected, what) => assert.ok(Math.abs(actual / expected - 1) < 0.005, `${what}: ${actual} against ${expected}`);
    const { [PULSE]: pulse, [PLAIN]: plain, [PLAIN_NO_TIMEOUT]: bare } = flight.runs;
    close(flight.pulse, mean(pulse), "pulse");
    close(flight.plain, mean(plain), "plain");
    close(flight["plain, no timeout"], mean(bare), "plain, no timeout");
    close(flight["ratio of medians"], mean(pulse) / mean(plain), "ratio of medians");
    close(flight["median pair ratio"], mean(pulse.map((x, i) => x / plain[i])), "median pair ratio");
    close(flight["vs. no per-request timeout: ratio of medians"], mean(pulse) / mean(bare), "vs. no per-request timeout: ratio of medians");
    close(flight["vs. no per-request timeout: median pair ratio"], mean(pulse.map((x, i) => x / bare[i])), "vs. no per-request timeout: median pair ratio");

    assert.match(stdout, /5b\. abort → rejection, poll in flight/);
    assert.match(stdout, /vs\. no per-request timeout/);
    assert.match(stdout, /pulse ÷ plain, the poller with the package's per-request timeout \(30000 ms\)/);
  });

  test("bad arguments are named before anything runs", { timeout: 120_000 }, async () => {
    await assert.rejects(runBench(["--plain-timeouts"]), /--plain-timeouts is gone: the poller with per-request timeouts is now the baseline/);
    await assert.rejects(runBench(["--only", "polls,nope"]), /--only: no line nope; one of large, inline, waits, polls, abortSleep, abortFlight, waiting/);
    await assert.rejects(runBench(["--pairs", "0"]), /--pairs needs a positive whole number/);
    await assert.rejects(runBench(["--pairs"]), /bad argument --pairs/);
  });
});
