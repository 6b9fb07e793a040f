// make bench: pulse-jobs against the plain-JS poller (bench/plain-poller.js),
// same options, against the local mock run in its own process. Every
// measurement is a fresh `node bench/child.js <impl> <case>`. Two baselines
// (bench/baselines.js): the target, the plain poller bounding each request
// with the package's per-request timeout, and the same poller without one,
// a second column on the lines where that timeout is at work (`secondColumn`
// below). Each pair runs the package and each baseline back to back, in an
// order rotated from one pair to the next. Per line and baseline: the median
// of each, the ratio of medians and the median of the per-pair ratios
// (pulse ÷ plain; below 1 means pulse-jobs is faster or smaller).
//   node bench/run.js [--pairs N] [--only large,polls] [--out results.json]
// (default: 5 pairs, every line, bench/out/results.json).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PLAIN, PLAIN_NO_TIMEOUT, PULSE, REQUEST_TIMEOUT_MS } from "./baselines.js";

const usage = "usage: node bench/run.js [--pairs N] [--only large,polls] [--out results.json]";
const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) {
  const [flag, value] = process.argv.slice(i, i + 2);
  if (flag === "--plain-timeouts") throw new Error(`--plain-timeouts is gone: the poller with per-request timeouts is now the baseline\n${usage}`);
  if (!["--pairs", "--only", "--out"].includes(flag) || value === undefined) throw new Error(`bad argument ${flag}\n${usage}`);
  args.set(flag, value);
}
const pairs = Number(args.get("--pairs") ?? 5);
if (!Number.isInteger(pairs) || pairs < 1) throw new Error("--pairs needs a positive whole number");
const root = fileURLToPath(new URL("..", import.meta.url));
const only = args.get("--only")?.split(",") ?? null;
const outFile = args.has("--out") ? resolve(args.get("--out")) : fileURLToPath(new URL("./out/results.json", import.meta.url));

// case (in bench/child.js) → the metrics it reports, as table lines.
// `secondColumn`: the line is also measured against the poller without
// per-request timeouts. Not on the lines where those timeouts are not at
// work: the 50 MB and 4 MB results (a poll and a download, or one poll: a
// timer per request against tens to hundreds of ms of download and parsing)
// and the sleeping waits (5a, 6: measured while no request is in flight, so
// no timeout is armed).
const lines = [
  { case: "large", metrics: { ms: "1. 50 MB result by URL: time (ms)", maxRssMB: "1. 50 MB result by URL: peak RSS (MB)" } },
  { case: "inline", metrics: { ms: "2. 4 MB inline result: time (ms, median of 5)" } },
  {
    case: "waits",
    secondColumn: true,
    metrics: {
      wallMs: "3. 2,000 waits × 5 polls: wall (ms)",
      cpuMs: "3. 2,000 waits × 5 polls: CPU (ms)",
      maxRssMB: "3. 2,000 waits × 5 polls: peak RSS (MB)",
    },
  },
  { case: "polls", secondColumn: true, metrics: { cpuUsPerPoll: "4. CPU per poll, 2,000 polls (µs)" } },
  { case: "abortSleep", metrics: { us: "5a. abort → rejection, sleeping (µs)" } },
  { case: "abortFlight", secondColumn: true, metrics: { us: "5b. abort → rejection, poll in flight (µs)" } },
  {
    case: "waiting",
    metrics: {
      kbPerWait: "6. 10,000 sleeping waits: memory per wait (KB)",
      heapKbPerWait: "6. 10,000 sleeping waits: JS heap per wait (KB)",
      externalKbPerWait: "6. 10,000 sleeping waits: outside the JS heap per wait (KB)",
    },
  },
];
const unknown = only?.filter((name) => !lines.some((line) => line.case === name)) ?? [];
if (unknown.length) throw new Error(`--only: no line ${unknown.join(", ")}; one of ${lines.map((line) => line.case).join(", ")}`);
const chosen = lines.filter((line) => !only || only.includes(line.case));

/** Runs `node args`; a measurement is killed after `limitMs`, the mock (no limit) runs to the end. */
function run(args, { env, onLine, limitMs } = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
    onLine?.(out);
  });
  child.stderr.on("data", (chunk) => (err += chunk));
  const done = new Promise((resolve, reject) => {
    const timer = limitMs && setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`node ${args.join(" ")}: ${signal ?? `exit ${code}`}\n${err.trim()}`));
    });
  });
  return { child, done };
}

// The mock in its own process, so that its CPU and memory are not the client's.
let apiUrl;
const mock = run(["mock/server.js"], {
  onLine: (out) => (apiUrl ??= out.match(/^Pulse mock API: +(\S+)$/m)?.[1]),
});
const ready = mock.done.then(() => {
  throw new Error("the mock exited");
});
while (!apiUrl) await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, 20))]);
ready.catch(() => {}); // the mock is stopped at the end

// Lets the mock build and cache the big documents before anything is timed.
for (const job of ["inline_4000000", "large_50000000"]) {
  const res = await fetch(`${apiUrl}/job/${job}-warm`);
  const { result } = await res.json();
  if (result.is_url) await (await fetch(result.url)).arrayBuffer();
}

async function measure(impl, name) {
  for (let attempt = 1; ; attempt += 1) {
    await fetch(`${apiUrl}/__mock/reset`, { method: "POST" }).then((res) => res.arrayBuffer()); // empties the request log
    try {
      const printed = await run(["--expose-gc", "bench/child.js", impl, name], { env: { PULSE_BENCH_API: apiUrl }, limitMs: 180_000 }).done;
      return JSON.parse(printed.trim().split("\n").pop());
    } catch (error) {
      if (attempt === 3) throw error;
      console.error(`retrying ${impl} ${name} (pkg/ being rebuilt?): ${error.message.split("\n")[0]}`);
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round = (x) => Number(x.toPrecision(4));

/** Pair `pair`'s order: the implementations rotated by one per pair, so that none always goes first. */
const rotated = (impls, pair) => impls.map((_, i) => impls[(i + pair) % impls.length]);

/** Medians of `pulse` and `base` (one value per pair, in pair order) and their two ratios. */
function against(pulse, base) {
  return {
    median: round(median(base)),
    "ratio of medians": round(median(pulse) / median(base)),
    "median pair ratio": round(median(pulse.map((x, i) => x / base[i]))),
  };
}

const SECOND = "vs. no per-request timeout";
const started = performance.now();
const results = [];
const spentMs = { [PULSE]: 0, [PLAIN]: 0, [PLAIN_NO_TIMEOUT]: 0 };
for (const line of chosen) {
  const impls = line.secondColumn ? [PULSE, PLAIN, PLAIN_NO_TIMEOUT] : [PULSE, PLAIN];
  const runs = Object.fromEntries(impls.map((impl) => [impl, []]));
  const orders = [];
  for (let pair = 0; pair < pairs; pair += 1) {
    orders.push(rotated(impls, pair));
    for (const impl of orders.at(-1)) {
      const begun = performance.now();
      runs[impl].push(await measure(impl, line.case));
      spentMs[impl] += performance.now() - begun;
    }
  }
  for (const [key, label] of Object.entries(line.metrics)) {
    const values = Object.fromEntries(impls.map((impl) => [impl, runs[impl].map((r) => r[key])]));
    const target = against(values[PULSE], values[PLAIN]);
    const second = values[PLAIN_NO_TIMEOUT] && against(values[PULSE], values[PLAIN_NO_TIMEOUT]);
    results.push({
      line: label,
      pulse: round(median(values[PULSE])),
      plain: target.median,
      "ratio of medians": target["ratio of medians"],
      "median pair ratio": target["median pair ratio"],
      ...(second && {
        "plain, no timeout": second.median,
        [`${SECOND}: ratio of medians`]: second["ratio of medians"],
        [`${SECOND}: median pair ratio`]: second["median pair ratio"],
      }),
      runs: Object.fromEntries(impls.map((impl) => [impl, values[impl].map(round)])),
      orders,
    });
  }
  console.error(`${line.case}: done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
mock.child.kill("SIGTERM");
await mock.done.catch(() => {});

const seconds = (performance.now() - started) / 1000;
const measuredS = Object.fromEntries(Object.entries(spentMs).map(([impl, ms]) => [impl, Math.round(ms / 1000)]));
console.table(Object.fromEntries(results.map(({ line, runs, orders, ...columns }) => [line, columns])));
console.log(
  `${pairs} pairs per line, fresh process per measurement; pulse ÷ plain, the poller with the package's per-request timeout (${REQUEST_TIMEOUT_MS} ms); ` +
    `"${SECOND}": pulse ÷ the same poller without it; below 1 favours pulse-jobs; ${seconds.toFixed(0)} s ` +
    `(measuring pulse ${measuredS[PULSE]} s, plain ${measuredS[PLAIN]} s, plain without timeouts ${measuredS[PLAIN_NO_TIMEOUT]} s)`,
);
mkdirSync(dirname(outFile), { recursive: true });
const baselines = { target: `${PLAIN}: per-request timeout ${REQUEST_TIMEOUT_MS} ms`, second: `${PLAIN_NO_TIMEOUT}: no per-request timeout` };
const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, pairs, baselines, seconds: Math.round(seconds), measuredS };
writeFileSync(outFile, JSON.stringify({ ...meta, results }, null, 2) + "\n");
