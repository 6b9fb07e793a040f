// The README's examples, as a user would paste them: each ```js block after
// an `<!-- example: NAME -->` line runs as a script of its own in a consumer
// project that installed the packed package, with `jobId` and the API key
// given, and the default API origin sent to the mock instead.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "./support/runner.js";
import { installPackage, repoRoot } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";

const run = promisify(execFile);
const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
const examples = Object.fromEntries([...readme.matchAll(/<!-- example: ([\w-]+) -->\n```js\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]));

// What the examples take as given, and the API origin rerouted to the mock.
const preamble = `
const jobId = process.env.JOB_ID;
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => realFetch(String(input).replace("https://api.runpulse.com", process.env.MOCK_API), init);
`;

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());

/** Runs example `name` for a job of `scenario`; resolves with its output lines. */
async function runExample(name, scenario) {
  assert.ok(examples[name], `README has no example "${name}"`);
  const { consumer } = await installPackage();
  const file = path.join(consumer, `readme-${name}.mjs`);
  writeFileSync(file, `${preamble}\n${examples[name]}`); // imports are hoisted above the preamble anyway
  const id = jid(scenario);
  const env = { ...process.env, JOB_ID: id, MOCK_API: m.apiUrl, PULSE_API_KEY: "readme-key" };
  const { stdout } = await run(process.execPath, [file], { cwd: consumer, env, timeout: 30_000 });
  return { id, lines: stdout.trim().split("\n") };
}

test("README: watch", async () => {
  const { id, lines } = await runExample("watch", "steps_2");
  assert.deepEqual(lines.slice(0, 3), ["pending", "processing", "completed"]);
  assert.ok(Number(lines[3]) > 0, `markdown length: ${lines[3]}`);
  assert.ok(m.pollsFor(id).every((r) => r.headers["x-api-key"] === "readme-key"));
});

test("README: cancel-on-abort", async () => {
  const { id, lines } = await runExample("cancel-on-abort", "steps_1000");
  assert.deepEqual(lines, ["canceled on the server: true"]);
  assert.equal(m.apiFor(id).filter((r) => r.method === "DELETE").length, 1);
});
