// make bench: pulse-jobs against the plain-JS poller (bench/plain-poller.js),
// same options, against the local mock run in its own process. Every
// measurement is a fresh `node bench/child.js <impl> <case>`; each pair runs
// both implementations, alternating which goes first. Per line: the median of
// each, the ratio of medians and the median of the per-pair ratios
// (pulse ÷ plain; below 1 means pulse-jobs is faster or smaller).
//   node bench/run.js [--pairs N] [--only large,polls] [--plain-timeouts]
// (default: 5 pairs, every line). `--plain-timeouts` gives the plain poller
// the package's per-request timeout (bench/plain-poller.js): an experiment,
// not the baseline.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

const flag = process.argv.indexOf("--pairs");
const pairs = flag > 0 ? Number(process.argv[flag + 1]) : 5;
if (!Number.isInteger(pairs) || pairs < 1) throw new Error("--pairs needs a positive whole number");
const root = fileURLToPath(new URL("..", import.meta.url));
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt > 0 ? process.argv[onlyAt + 1].split(",") : null;
const plainTimeouts = process.argv.includes("--plain-timeouts");

// case (in bench/child.js) → the metrics it reports, as table lines.
const lines = [
  { case: "large", metrics: { ms: "1. 50 MB result by URL: time (ms)", maxRssMB: "1. 50 MB result by URL: peak RSS (MB)" } },
  { case: "inline", metrics: { ms: "2. 4 MB inline result: time (ms, median of 5)" } },
  {
    case: "waits",
    metrics: {
      wallMs: "3. 2,000 waits × 5 polls: wall (ms)",
      cpuMs: "3. 2,000 waits × 5 polls: CPU (ms)",
      maxRssMB: "3. 2,000 waits × 5 polls: peak RSS (MB)",
    },
  },
  { case: "polls", metrics: { cpuUsPerPoll: "4. CPU per poll, 2,000 polls (µs)" } },
  { case: "abortSleep", metrics: { us: "5a. abort → rejection, sleeping (µs)" } },
  { case: "abortFlight", metrics: { us: "5b. abort → rejection, poll in flight (µs)" } },
  { case: "waiting", metrics: { kbPerWait: "6. 10,000 sleeping waits: memory per wait (KB)" } },
].filter((line) => !only || only.includes(line.case));

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
      const out = await run(["--expose-gc", "bench/child.js", impl, name], { env: { PULSE_BENCH_API: apiUrl, PULSE_BENCH_PLAIN_TIMEOUTS: plainTimeouts ? "1" : "" }, limitMs: 180_000 }).done;
      return JSON.parse(out.trim().split("\n").pop());
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

const started = performance.now();
const results = [];
for (const line of lines) {
  const runs = { pulse: [], plain: [] };
  for (let pair = 0; pair < pairs; pair += 1) {
    for (const impl of pair % 2 ? ["plain", "pulse"] : ["pulse", "plain"]) runs[impl].push(await measure(impl, line.case));
  }
  for (const [key, label] of Object.entries(line.metrics)) {
    const pulse = runs.pulse.map((r) => r[key]);
    const plain = runs.plain.map((r) => r[key]);
    results.push({
      line: label,
      pulse: round(median(pulse)),
      plain: round(median(plain)),
      "ratio of medians": round(median(pulse) / median(plain)),
      "median pair ratio": round(median(pulse.map((x, i) => x / plain[i]))),
      runs: { pulse: pulse.map(round), plain: plain.map(round) },
    });
  }
  console.error(`${line.case}: done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
mock.child.kill("SIGTERM");
await mock.done.catch(() => {});

const seconds = (performance.now() - started) / 1000;
console.table(Object.fromEntries(results.map(({ line, runs, ...columns }) => [line, columns])));
const against = plainTimeouts ? "plain with per-request timeouts" : "plain";
console.log(`${pairs} pairs per line, fresh process per measurement; pulse ÷ ${against}, below 1 favours pulse-jobs; ${seconds.toFixed(0)} s`);
mkdirSync(new URL("./out/", import.meta.url), { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, pairs, plainTimeouts, seconds: Math.round(seconds) };
writeFileSync(new URL("./out/results.json", import.meta.url), JSON.stringify({ ...meta, results }, null, 2) + "\n");
