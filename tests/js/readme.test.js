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

// What the examples take as given (a job id, a key, a browser's
// sessionStorage seeded from SESSION), and the API origin rerouted to the mock.
const preamble = `
const jobId = process.env.JOB_ID;
const jobIds = [jobId, jobId + "-2", jobId.replace(/^[a-z_0-9]+-/, "failed-")];
const apiKey = process.env.PULSE_API_KEY;
const stored = new Map(Object.entries(JSON.parse(process.env.SESSION || "{}")));
globalThis.sessionStorage = {
  getItem: (k) => stored.get(k) ?? null,
  setItem: (k, v) => stored.set(k, String(v)),
  removeItem: (k) => stored.delete(k),
};
process.on("exit", () => console.log("session:", JSON.stringify(Object.fromEntries(stored))));
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => realFetch(String(input).replace("https://api.runpulse.com", process.env.MOCK_API), init);
`;

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());

/** Runs example `name` for a job of `scenario`; resolves with its output lines (the last: what sessionStorage held at exit). */
async function runExample(name, scenario, session = (id) => ({})) {
  assert.ok(examples[name], `README has no example "${name}"`);
  const { consumer } = await installPackage();
  const file = path.join(consumer, `readme-${name}.mjs`);
  writeFileSync(file, `${preamble}\n${examples[name]}`); // imports are hoisted above the preamble anyway
  const id = jid(scenario);
  const env = { ...process.env, JOB_ID: id, MOCK_API: m.apiUrl, PULSE_API_KEY: "readme-key", SESSION: JSON.stringify(session(id)) };
  const { stdout } = await run(process.execPath, [file], { cwd: consumer, env, timeout: 30_000 });
  return { id, lines: stdout.trim().split("\n") };
}

test("README: watch", async () => {
  const { id, lines } = await runExample("watch", "steps_2");
  assert.deepEqual(lines.slice(0, 3), ["pending", "processing", "completed"]);
  assert.equal(lines.length, 5);
  assert.ok(Number(lines[3]) > 0, `markdown length: ${lines[3]}`);
  assert.ok(m.pollsFor(id).every((r) => r.headers["x-api-key"] === "readme-key"));
});

test("README: cancel-on-abort", async () => {
  const { id, lines } = await runExample("cancel-on-abort", "steps_1000");
  assert.deepEqual(lines, ["canceled on the server: true", "session: {}"]);
  assert.equal(m.apiFor(id).filter((r) => r.method === "DELETE").length, 1);
});

test("README: resume", async () => {
  const call = Date.now();
  // A state kept by an earlier page: two polls sent, a minute ago.
  const session = (id) => ({ "pulse-wait": JSON.stringify({ jobId: id, startedAt: call - 60_000, attempt: 2 }) });
  const { id, lines } = await runExample("resume", "steps_2", session);
  assert.deepEqual(lines, ["completed", "session: {}"]);
  // steps_2 answers by poll count on the mock: this run's first poll was its first.
  const polls = m.pollsFor(id);
  assert.equal(polls.length, 3, "pending, processing, completed");
  assert.ok(polls[0].at - call < 1000, "the first poll was sent at once, not after the backoff of attempt 3");
});

test("README: wait-for-jobs", async () => {
  const { id, lines } = await runExample("wait-for-jobs", "steps_1");
  assert.deepEqual(lines.slice(0, 3).sort(), [`${id} fulfilled`, `${id}-2 fulfilled`, `${id.replace(/^[a-z_0-9]+-/, "failed-")} rejected`].sort());
  assert.deepEqual(lines.slice(3), ["2 of 3 completed", "session: {}"]);
});

test("README: run-job", async () => {
  const { lines } = await runExample("run-job", "ok");
  const done = lines.at(-2).split(" ");
  assert.equal(done[0], "completed");
  assert.ok(Number(done[1]) > 0, `markdown length: ${done[1]}`);
  const polls = lines.slice(0, -2);
  assert.ok(polls.length >= 1 && polls.at(-1).endsWith(" completed"), polls.join(" | "));
  const submitted = m.mock.requests.filter((r) => r.method === "POST" && r.body?.fields?.file_url === "https://example.com/invoice.pdf");
  assert.equal(submitted.length, 1);
  assert.equal(submitted[0].headers["x-api-key"], "readme-key");
});

test("README: submit-job", async () => {
  const { lines } = await runExample("submit-job", "ok");
  const [jobId, status] = lines.at(-2).split(" ");
  assert.equal(status, "completed");
  const sent = m.mock.requests.find((r) => r.method === "POST" && r.jobId === jobId);
  assert.equal(sent.body.kind, "multipart");
  assert.equal(sent.body.fields.async, "true");
  assert.equal(sent.body.fields.file.filename, "document.pdf");
  assert.ok(sent.body.fields.file.size > 0);
});
