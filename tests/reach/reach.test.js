// Reach: the packed package (`npm pack pkg/`) installed into a fresh app for
// each toolchain, built where there is a build step (default settings, no
// plugin but Rollup's node-resolve), then run against the mock API: the
// three waits of app/check.js in Node, Deno and Bun, and in headless
// Chromium for the browser builds. The toolchains come from
// tests/reach/package.json (`make test-reach` installs them).
//
// Run: make test-reach, or node --test tests/reach/reach.test.js   (needs pkg/ built)
// PULSE_REACH_ONLY=esbuild,bun runs only the targets whose names contain one of these.
// PULSE_KEEP_SCRATCH=1 keeps tests/reach/.scratch (the apps, installs and builds).
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { launchBrowser, newPage, nonce, serveStatic } from "../browser/helpers.js";
import { npm } from "../js/support/package.js";
import { expected } from "./app/check.js";
import { NODE, RUNNER, bin, cleanUp, run, targets } from "./targets.js";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const PKG_DIR = resolve(process.env.PULSE_PKG_DIR || join(ROOT, "pkg"));
const SCRATCH = join(HERE, ".scratch");
const only = process.env.PULSE_REACH_ONLY?.split(",");

let tarball;
let mockServer;
let browser;
const prepared = new Map();
const servers = new Map();
const results = [];

/** A fresh app for `fixture`: app/ plus fixtures/<files>/ (the fixture's own by default), with the packed package installed. Once per fixture. */
function prepare(fixture, files = fixture) {
  if (!prepared.has(fixture)) {
    prepared.set(fixture, (async () => {
      const dir = join(SCRATCH, fixture);
      rmSync(dir, { recursive: true, force: true });
      cpSync(join(HERE, "app"), dir, { recursive: true });
      const own = join(HERE, "fixtures", files);
      if (existsSync(own)) cpSync(own, dir, { recursive: true });
      await npm(["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir);
      return dir;
    })());
  }
  return prepared.get(fixture);
}

/** The summary a Node-like run printed on its `REACH {...}` line. */
function summaryOf(stdout) {
  const line = stdout.split("\n").find((l) => l.startsWith("REACH "));
  assert.ok(line, `no REACH line in:\n${stdout}`);
  return JSON.parse(line.slice("REACH ".length));
}

/** The markdown length of the mock's large result, read straight from the mock. */
async function largeMarkdownChars(n) {
  const job = await (await fetch(`${mockServer.apiUrl}/job/large_6000000-${n}`)).json();
  return (await (await fetch(job.result.url)).json()).markdown.length;
}

/** Opens the app at `url` in Chromium; resolves with the summary it wrote. */
async function runInBrowser(url, n) {
  const { context, page, log } = await newPage(browser, { width: 900, height: 600 });
  try {
    await page.goto(`${url}?${new URLSearchParams({ api: mockServer.apiUrl, nonce: n })}`);
    await page.waitForFunction(() => document.documentElement.dataset.done, null, { timeout: 30_000 }).catch(() => {});
    const state = await page.evaluate(() => document.documentElement.dataset.done);
    const text = await page.textContent("#result");
    assert.equal(state, "true", `the app did not finish: ${text}\nerrors: ${log.errors.join("\n")}\nconsole: ${log.console.join("\n")}`);
    assert.deepEqual(log.errors, [], "page errors");
    assert.deepEqual(log.requests.filter((r) => r.url.endsWith(".wasm")), [], "the wasm travels inside the JS");
    return JSON.parse(text);
  } finally {
    await context.close();
  }
}

/** Serves a static build and opens it; every request must find its file. */
async function runBuildInBrowser(dir, n) {
  const site = await serveStatic(dir);
  try {
    const summary = await runInBrowser(site.url, n);
    assert.deepEqual(site.served.filter((s) => s.status !== 200), [], "requests the build output could not answer");
    return summary;
  } finally {
    await site.close();
  }
}

/** The fixture's own server (`target.server`), started once and closed at the end. */
function server(target) {
  if (!servers.has(target.fixture)) servers.set(target.fixture, prepare(target.fixture, target.files).then(target.server));
  return servers.get(target.fixture);
}

/** test-output/reach/works-with.md: this run as the README's "Works with" table. */
function writeWorksWith() {
  const rows = targets.flatMap((target) => results.filter((r) => r.target === target));
  if (!rows.length) return;
  const where = (t) => t.runsIn ?? (t.browser ? "Chromium" : t.name.startsWith("Next") ? "next start" : "its runtime");
  const lines = rows.map((r) => `| ${r.target.name} | ${where(r.target)} | ${r.ok ? "works" : "FAILS"} | ${r.seconds.toFixed(1)} |`);
  const out = join(ROOT, "test-output", "reach");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "works-with.md"), ["| toolchain | run in | result | seconds |", "|---|---|---|---|", ...lines].join("\n") + "\n");
}

before(async () => {
  assert.ok(existsSync(join(PKG_DIR, "package.json")), `${PKG_DIR} has no built package: run make pkg first`);
  mkdirSync(SCRATCH, { recursive: true });
  const { stdout } = await npm(["pack", PKG_DIR, "--pack-destination", SCRATCH, "--json"], SCRATCH);
  tarball = join(SCRATCH, JSON.parse(stdout)[0].filename);
  mockServer = await import(pathToFileURL(join(ROOT, "mock", "server.js")).href).then((m) => m.startMock());
  if (targets.some((t) => t.browser && selected(t))) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await mockServer?.close();
  writeWorksWith();
  for (const started of servers.values()) (await started.catch(() => null))?.close();
  cleanUp();
  if (!process.env.PULSE_KEEP_SCRATCH) rmSync(SCRATCH, { recursive: true, force: true });
});

const selected = (target) => !only || only.some((word) => target.name.includes(word));

describe("the packed package in every toolchain, default settings", { concurrency: 2 }, () => {
  for (const target of targets.filter(selected)) {
    test(target.name, async () => {
      const started = Date.now();
      let ok = false;
      try {
        const dir = await prepare(target.fixture, target.files);
        const n = nonce();
        let summary;
        if (target.server) {
          const site = await server(target);
          summary = target.browser ? await runInBrowser(site.url, n) : summaryOf(await target.run(site, mockServer.apiUrl, n));
        } else {
          const built = target.build ? await target.build(dir) : dir;
          summary = target.browser ? await runBuildInBrowser(built, n) : summaryOf(await target.run(built, mockServer.apiUrl, n));
        }
        assert.deepEqual(summary, expected(await largeMarkdownChars(n)));
        ok = true;
      } finally {
        results.push({ target, ok, seconds: (Date.now() - started) / 1000 });
      }
    });
  }
});

describe("a runtime that cannot run the wasm", () => {
  test("a Worker bundled through the default entry: every call rejects WASM_UNAVAILABLE, naming the workerd condition", async () => {
    const dir = await prepare("workers-default-entry");
    await run(bin("esbuild"), ["unavailable.js", "--bundle", "--format=esm", "--outfile=dist/unavailable.js"], { cwd: dir });
    const calls = summaryOf(await run(NODE[24], [RUNNER("workerd.mjs"), dir, mockServer.apiUrl, nonce()], { cwd: dir }));
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.equal(call.isPulseError, true, JSON.stringify(call));
      assert.equal(call.code, "WASM_UNAVAILABLE");
      assert.equal(call.cause, "CompileError");
      assert.match(call.message, /Wasm code generation disallowed by embedder/);
      assert.match(call.message, /workerd or edge-light export condition/);
    }
  });
});

describe("the package's manifest and types", { concurrency: true }, () => {
  test("publint --strict finds nothing", async () => {
    assert.match(await run(bin("publint"), ["--strict", PKG_DIR]), /All good!/);
  });

  // The .wasm subpath is an asset for hosts that load it themselves: no types to check.
  test("attw --pack finds no problem in any resolution mode", async () => {
    assert.match(await run(bin("attw"), ["--pack", PKG_DIR, "--format", "table-flipped", "--exclude-entrypoints", "./pulse_jobs.wasm"]), /No problems found/);
  });
});

describe("the pulse-jobs command on the oldest and newest Node", { concurrency: true }, () => {
  for (const version of [18, 24]) {
    test(`Node ${version}: wait downloads a large result; extract --file uploads and waits`, async () => {
      const dir = await prepare("node");
      const cli = join(dir, "node_modules", "pulse-jobs", "cli.js");
      const n = nonce();
      const common = ["--base-url", mockServer.apiUrl, "--api-key", "reach-key", "--json"];
      const job = JSON.parse(await run(NODE[version], [cli, "wait", `large_6000000-${n}`, ...common], { cwd: dir }));
      assert.equal(job.status, "completed");
      assert.equal(job.result.markdown.length, await largeMarkdownChars(n));
      // Node 18 has no fs.openAsBlob: the command reads the file whole instead.
      const extracted = JSON.parse(await run(NODE[version], [cli, "extract", "--file", "package.json", "--wait", ...common], { cwd: dir }));
      assert.equal(extracted.status, "completed");
      const upload = mockServer.mock.requests.find((r) => r.method === "POST" && r.jobId === extracted.job_id);
      assert.equal(upload.body.kind, "multipart");
      assert.equal(upload.body.fields.file.filename, "package.json");
    });
  }
});
