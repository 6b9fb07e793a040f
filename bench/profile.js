// Where a child's CPU goes: runs `node --cpu-prof bench/child.js <impl> <case>`
// against the mock (in this process, not the profiled one) and prints the
// functions with the most self time. The .cpuprofile stays in bench/out/prof/
// (open it in Chrome DevTools for the full tree).
//   node bench/profile.js [pulse|plain|plain-no-timeout] [case] [--top N]     (default: pulse waits, top 15; plain has the per-request timeout)
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { startMock } from "../mock/server.js";

const [impl = "pulse", name = "waits"] = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--top");
const top = Number(process.argv[process.argv.indexOf("--top") + 1]) || 15;
const dir = fileURLToPath(new URL(`./out/prof/${impl}-${name}/`, import.meta.url));
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const mock = await startMock();
const child = ["--expose-gc", "--cpu-prof", `--cpu-prof-dir=${dir}`, fileURLToPath(new URL("./child.js", import.meta.url)), impl, name];
const { stdout } = await promisify(execFile)(process.execPath, child, { env: { ...process.env, PULSE_BENCH_API: mock.apiUrl } });
await mock.close();
console.log(`${impl} ${name}: ${stdout.trim()}`);

// Self time per function: each sample's time delta goes to the node it hit.
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
const { nodes, samples, timeDeltas } = JSON.parse(readFileSync(dir + file, "utf8"));
const byId = new Map(nodes.map((n) => [n.id, n]));
const self = new Map();
const bySource = new Map();
let total = 0;
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
samples.forEach((id, i) => {
  const { functionName, url, lineNumber } = byId.get(id).callFrame;
  add(self, `${functionName || "(anonymous)"}  ${url ? `${basename(url)}:${lineNumber + 1}` : ""}`, timeDeltas[i]);
  add(bySource, url.startsWith("wasm://") ? "(wasm)" : url ? basename(url) : functionName, timeDeltas[i]);
  total += timeDeltas[i];
});
const table = (map, column, n) =>
  console.table([...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, us]) => ({ [column]: key, "self ms": +(us / 1000).toFixed(1), "%": +((100 * us) / total).toFixed(1) })));
table(self, "function", top);
table(bySource, "source", 12);
console.log(`profile: ${dir}${file} (${(total / 1000).toFixed(0)} ms sampled)`);
