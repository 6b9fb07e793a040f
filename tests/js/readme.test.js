// The examples of the README and of docs/, as a user would paste them: each
// ```js block after an `<!-- example: NAME -->` line runs as a script of its
// own in a consumer project that installed the packed package, with `jobId`
// and the API key given, and the default API origin sent to the mock
// instead. Every ```js block must be such an example.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "./support/runner.js";
import { installPackage, repoRoot } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { sleep } from "./support/util.js";

const run = promisify(execFile);
const documents = ["README.md", ...readdirSync(path.join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const texts = Object.fromEntries(documents.map((doc) => [doc, readFileSync(path.join(repoRoot, doc), "utf8")]));
const found = Object.values(texts).flatMap((text) => [...text.matchAll(/<!-- example: ([\w-]+) -->\n```js\n([\s\S]*?)```/g)]);
const examples = Object.fromEntries(found.map((m) => [m[1], m[2]]));

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
if (process.env.PAGE_ORIGIN) globalThis.location = { origin: process.env.PAGE_ORIGIN };
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => realFetch(String(input).replace("https://api.runpulse.com", process.env.MOCK_API), init);
`;

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());

/** Example `name` written as a script in the consumer project; resolves with its path and folder. */
async function exampleFile(name) {
  assert.ok(examples[name], `no example "${name}" in ${documents.join(", ")}`);
  const { consumer } = await installPackage();
  const file = path.join(consumer, `readme-${name}.mjs`);
  writeFileSync(file, `${preamble}\n${examples[name]}`); // imports are hoisted above the preamble anyway
  return { file, consumer };
}

/** Runs example `name` for a job of `scenario`; resolves with its output lines (the last: what sessionStorage held at exit). */
async function runExample(name, scenario, session = (id) => ({}), extraEnv = {}) {
  const { file, consumer } = await exampleFile(name);
  const id = jid(scenario);
  const env = { ...process.env, JOB_ID: id, MOCK_API: m.apiUrl, PULSE_API_KEY: "readme-key", SESSION: JSON.stringify(session(id)), ...extraEnv };
  const { stdout } = await run(process.execPath, [file], { cwd: consumer, env, timeout: 30_000 });
  return { id, lines: stdout.trim().split("\n") };
}

/** A port nobody listens on at the moment. */
async function freePort() {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("every js block of the README and docs/ is an example that runs here", () => {
  for (const [doc, text] of Object.entries(texts)) {
    const blocks = [...text.matchAll(/^```js$/gm)].length;
    const marked = [...text.matchAll(/<!-- example: [\w-]+ -->\n```js\n/g)].length;
    assert.equal(marked, blocks, `${doc}: ${blocks - marked} js block(s) without an <!-- example: NAME --> line`);
  }
  const names = found.map((m) => m[1]);
  assert.deepEqual(names, [...new Set(names)], "example names are unique");
  const tested = [...readFileSync(new URL(import.meta.url), "utf8").matchAll(/(?:runExample|exampleFile)\("([\w-]+)"/g)].map((m) => m[1]);
  for (const name of names) assert.ok(tested.includes(name), `example "${name}" is not run by a test`);
});

test("README: node", async () => {
  const { lines } = await runExample("node", "steps_2");
  const [status, length] = lines[0].split(" ");
  assert.equal(status, "completed");
  assert.ok(Number(length) > 0, `markdown length: ${length}`);
});

test("README: browser-page, through docs/browser.md's proxy-server", async () => {
  const { file, consumer } = await exampleFile("proxy-server");
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), MOCK_API: m.apiUrl, PULSE_API_KEY: "server-key", JOB_ID: "unused" };
  const server = spawn(process.execPath, [file], { cwd: consumer, env, stdio: ["ignore", "ignore", "inherit"] });
  try {
    const origin = `http://127.0.0.1:${port}`;
    for (let tries = 0; ; tries += 1) {
      try {
        await fetch(`${origin}/`);
        break;
      } catch (error) {
        if (tries > 200 || server.exitCode !== null) throw error;
        await sleep(50);
      }
    }
    // The page has no key: only the server's reaches the API.
    const page = { PAGE_ORIGIN: origin, PULSE_API_KEY: "" };
    const done = await runExample("browser-page", "steps_2", undefined, page);
    assert.deepEqual(done.lines.slice(0, 3), ["pending 1", "processing 2", "completed 3"]);
    assert.ok(Number(done.lines[3]) > 0, `markdown length: ${done.lines[3]}`);
    const polls = m.pollsFor(done.id);
    assert.equal(polls.length, 3);
    assert.ok(polls.every((r) => r.headers["x-api-key"] === "server-key"), "the server added its key to every poll");
    const failed = await runExample("browser-page", "failed", undefined, page);
    assert.equal(failed.lines[0], "failed 1");
    assert.equal(failed.lines[1], `JOB_FAILED job ${failed.id} failed: Document could not be parsed`);
    const refused = await fetch(`${origin}/elsewhere/job/x`);
    assert.equal(refused.status, 404, "the server forwards /pulse/* only");
  } finally {
    server.kill();
  }
});

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
