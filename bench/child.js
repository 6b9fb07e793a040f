// One measurement in a fresh process, run by bench/run.js:
//   PULSE_BENCH_API=http://127.0.0.1:PORT node bench/child.js <pulse|plain|plain-no-timeout> <case>
// (`plain`: the plain poller with the package's per-request timeout, the
// baseline; `plain-no-timeout`: without one; bench/baselines.js.) Warms up on
// a smaller job of the same kind (the same for all), measures, prints one
// JSON line of metrics. The mock runs in another process.
import { optionsFor, PLAIN, PLAIN_NO_TIMEOUT, PULSE } from "./baselines.js";
import { plainWaitForJob } from "./plain-poller.js";

const [impl, name] = process.argv.slice(2);
// PULSE_BENCH_PKG: another build of the package (bench/compare.js), else ../pkg.
const pkgDir = process.env.PULSE_BENCH_PKG ? new URL(`file://${process.env.PULSE_BENCH_PKG}/`) : new URL("../pkg/", import.meta.url);
const plain = async () => plainWaitForJob;
const wait = { [PULSE]: async () => (await import(new URL("node/index.mjs", pkgDir).href)).waitForJob, [PLAIN]: plain, [PLAIN_NO_TIMEOUT]: plain }[impl];
if (!wait || !process.env.PULSE_BENCH_API) throw new Error(`usage: PULSE_BENCH_API=<mock api url> node bench/child.js <${PULSE}|${PLAIN}|${PLAIN_NO_TIMEOUT}> <case>`);
const waitForJob = await wait();
const base = optionsFor(impl, process.env.PULSE_BENCH_API);
let nonce = 0;
const id = (job) => `${job}-${impl}${process.pid}n${(nonce += 1)}`;

async function completed(job, options = base) {
  const result = await waitForJob(id(job), options);
  if (result.status !== "completed" || typeof result.result?.markdown !== "string") throw new Error(`bad result for ${job}`);
}
async function elapsedMs(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
const cpuMs = (since) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};
const maxRssMB = () => process.resourceUsage().maxRSS / 1024;
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];

// Starts a wait, aborts it when `arm(fire)` calls fire, resolves with the µs
// from controller.abort() to the rejection.
function abortLatencyUs(job, options, arm) {
  return new Promise((resolve, reject) => {
    const controller = new AbortController();
    let abortedAt = null;
    const fire = () => {
      abortedAt = performance.now();
      controller.abort();
    };
    waitForJob(id(job), { ...options, signal: controller.signal, onProgress: options.onProgress && (() => arm(fire)) }).then(
      () => reject(new Error(`${job} resolved instead of rejecting`)),
      (error) => {
        const us = (performance.now() - abortedAt) * 1000;
        if (abortedAt === null || error?.name !== "AbortError") reject(error);
        else resolve(us);
      },
    );
    if (!options.onProgress) arm(fire);
  });
}
// 20 warm-up aborts and the median of 100: with 5 and 20, one child's
// median of the same plain code ranged from 306 to 460 µs between runs.
async function abortMedianUs(job, options, arm) {
  for (let i = 0; i < 20; i += 1) await abortLatencyUs(job, options, arm); // warm-up
  const us = [];
  for (let i = 0; i < 100; i += 1) us.push(await abortLatencyUs(job, options, arm));
  return median(us);
}

const cases = {
  // 1. 50 MB result by URL: time to resolved, peak RSS.
  async large() {
    await completed("large_200000");
    const ms = await elapsedMs(() => completed("large_50000000"));
    return { ms, maxRssMB: maxRssMB() };
  },
  // 2. 4 MB inline result: the median of 5 (one is ~25 ms, too noisy alone).
  async inline() {
    await completed("inline_200000");
    const ms = [];
    for (let i = 0; i < 5; i += 1) ms.push(await elapsedMs(() => completed("inline_4000000")));
    return { ms: median(ms) };
  },
  // 3. 2,000 concurrent waits of 5 polls each, all started at once.
  async waits() {
    await Promise.all(Array.from({ length: 50 }, () => completed("steps_4")));
    const cpu = process.cpuUsage();
    const wallMs = await elapsedMs(() => Promise.all(Array.from({ length: 2000 }, () => completed("steps_4"))));
    return { wallMs, cpuMs: cpuMs(cpu), maxRssMB: maxRssMB() };
  },
  // 4. One job polled 2,000 times back to back: CPU per poll.
  async polls() {
    const options = { ...base, initialDelayMs: 0 };
    await completed("steps_199", options);
    const cpu = process.cpuUsage();
    await completed("steps_1999", options);
    return { cpuUsPerPoll: (cpuMs(cpu) * 1000) / 2000 };
  },
  // 5a. Abort during the backoff sleep: 5 ms after the first poll's onProgress, 60 s sleep.
  async abortSleep() {
    const options = { ...base, initialDelayMs: 60000, onProgress: true };
    return { us: await abortMedianUs("steps_100000", options, (fire) => setTimeout(fire, 5)) };
  },
  // 5b. Abort while the poll is in flight: the `hang` job never answers.
  async abortFlight() {
    return { us: await abortMedianUs("hang", base, (fire) => setTimeout(fire, 30)) };
  },
  // 6. 10,000 waits sleeping between polls (each polled once, next poll in
  // 60 s), all started at once: memory per waiting job, after a garbage
  // collection: the RSS, and what is live in the JS heap and outside it (the
  // wasm's memory, which never shrinks, so it keeps the peak of the 10,000
  // first polls in flight).
  async waiting() {
    return await sleepingWaits(10_000);
  },
  // 6, split: the same waits started 100 at a time (each batch polled once
  // before the next), so that few requests are in flight at once and the
  // figure is what a sleeping wait holds. For experiments (bench/compare.js).
  async sleeping() {
    await completed("steps_1");
    return await sleepingWaits(100);
  },
};

/** Memory per wait of 10,000 waits sleeping between polls (next poll in
 * 60 s), started `batch` at a time, each batch polled once before the next. */
async function sleepingWaits(batch) {
  const n = 10_000;
  const controller = new AbortController();
  let polled = 0;
  const options = { ...base, initialDelayMs: 60_000, signal: controller.signal, onProgress: () => (polled += 1) };
  const before = settledUsage();
  const waits = [];
  for (let started = 0; started < n; started += batch) {
    for (let i = 0; i < batch; i += 1) waits.push(waitForJob(id("steps_1000"), options).catch(() => {}));
    while (polled < started + batch) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const during = settledUsage();
  controller.abort();
  await Promise.all(waits);
  const kb = (key) => (during[key] - before[key]) / n / 1024;
  return { kbPerWait: kb("rss"), heapKbPerWait: kb("heapUsed"), externalKbPerWait: kb("external") };
}

/** `process.memoryUsage()` after a full garbage collection (the child runs with --expose-gc). */
function settledUsage() {
  globalThis.gc();
  return process.memoryUsage();
}

if (!cases[name]) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(", ")}`);
console.log(JSON.stringify(await cases[name]()));
