// Two builds of the package against each other, for an experiment (a build
// with one thing changed against the shipped one): runs of
// `node bench/child.js pulse <case>` alternate between the two package
// directories, against one mock in its own process, and the medians of each
// metric are printed with their ratio (a ÷ b).
//   node bench/compare.js <pkg dir a> <pkg dir b> <case> [runs per build, default 9]
import { execFile, spawn } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const [a, b, name, runs = "9"] = process.argv.slice(2);
if (!a || !b || !name) throw new Error("usage: node bench/compare.js <pkg dir a> <pkg dir b> <case> [runs]");
const child = fileURLToPath(new URL("./child.js", import.meta.url));
const mock = spawn(process.execPath, [fileURLToPath(new URL("../mock/server.js", import.meta.url))], { stdio: ["ignore", "pipe", "inherit"] });
const api = await new Promise((found) => mock.stdout.on("data", (d) => String(d).match(/API:\s+(\S+)/) && found(String(d).match(/API:\s+(\S+)/)[1])));

const results = { a: [], b: [] };
for (let i = 0; i < Number(runs); i += 1) {
  for (const which of i % 2 ? ["b", "a"] : ["a", "b"]) {
    const env = { ...process.env, PULSE_BENCH_API: api, PULSE_BENCH_PKG: resolve(which === "a" ? a : b) };
    const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", child, "pulse", name], { env, maxBuffer: 1 << 20 });
    results[which].push(JSON.parse(stdout.trim().split("\n").pop()));
  }
}
mock.kill();
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const metric of Object.keys(results.a[0])) {
  const [ma, mb] = [median(results.a.map((r) => r[metric])), median(results.b.map((r) => r[metric]))];
  console.log(`${name} ${metric}: a ${ma.toFixed(1)}, b ${mb.toFixed(1)}, a ÷ b ${(ma / mb).toFixed(3)} (${runs} runs each)`);
}
