// Benchmarks pulse-jobs against the plain-JS poller in the same process, against
// the local mock: medians of interleaved runs and their ratio (pulse / plain;
// below 1 means pulse-jobs is faster). Also prints the package's sizes.
//   node bench/run.js [--runs N]      (make bench)
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { startMock } from "../mock/server.js";
import { waitForJob } from "../pkg/node/index.mjs";
import { plainWaitForJob } from "./plain-poller.js";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 9;
const mock = await startMock();
const options = { apiKey: "bench-key", baseUrl: mock.apiUrl, initialDelayMs: 5, multiplier: 1, maxDelayMs: 5 };
const pulseOptions = { ...options, jitter: 0 };

const cases = [
  { name: "small result after 5 polls", job: "steps_4" },
  { name: "2 MB inline result", job: "inline_2000000" },
  { name: "20 MB result by URL", job: "large_20000000" },
  { name: "50 MB result by URL", job: "large_50000000" },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let nonce = 0;
async function time(fn, job) {
  const id = `${job}-bench${(nonce += 1)}`;
  const start = performance.now();
  const result = await fn(id);
  if (result.status !== "completed" || typeof result.result !== "object") throw new Error(`bad result for ${id}`);
  return performance.now() - start;
}

const rows = [];
for (const { name, job } of cases) {
  await time((id) => waitForJob(id, pulseOptions), job); // warm-up: the mock builds and caches the body
  const pulse = [];
  const plain = [];
  for (let i = 0; i < runs; i += 1) {
    // Interleaved, alternating who goes first, so drift on a shared machine hits both.
    const order = i % 2 ? ["plain", "pulse"] : ["pulse", "plain"];
    for (const who of order) {
      if (who === "pulse") pulse.push(await time((id) => waitForJob(id, pulseOptions), job));
      else plain.push(await time((id) => plainWaitForJob(id, options), job));
    }
  }
  rows.push({ case: name, runs, pulseMedianMs: +median(pulse).toFixed(1), plainMedianMs: +median(plain).toFixed(1), ratio: +(median(pulse) / median(plain)).toFixed(2) });
}
await mock.close();

const size = (path) => {
  const bytes = readFileSync(new URL(`../${path}`, import.meta.url));
  return { path, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const sizes = ["pkg/web/pulse_jobs_bg.wasm", "pkg/web/pulse_jobs.js", "pkg/node/pulse_jobs.cjs", "bench/plain-poller.js"].map(size);

console.table(rows);
console.table(sizes);
mkdirSync(new URL("./out/", import.meta.url), { recursive: true });
writeFileSync(new URL("./out/results.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, sizes }, null, 2) + "\n");
