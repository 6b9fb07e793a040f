// pulse-jobs bundled into a web app by Vite and by webpack 5, run in Debian's
// Chromium against the local mock API.
//
// For each fixture in tests/bundlers/ (vite/, webpack/): copy it to a scratch
// directory, install the packed package into it as a user would (`npm pack
// pkg/`, then `npm install <tarball>`: a local tarball, no registry traffic),
// build it with the bundler's own production defaults through its Node API
// (vite and webpack come from the repository's node_modules, not the
// fixture's), serve the build output alone on 127.0.0.1 and open it. The app
// waits for a `steps_2-<nonce>` job and a `failed-<nonce>` job of the mock
// (its URL is given as ?api=) and writes the outcome into the page.
//
// Run: node --test tests/browser/bundlers.test.js   (needs pkg/ built and /usr/bin/chromium)
// PULSE_JOBS_PKG_DIR (or PULSE_PKG_DIR) points it at another build of the package;
// PULSE_KEEP_SCRATCH=1 keeps the scratch directory (fixtures, installs, builds).
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";

import { build as viteBuild, createLogger } from "vite";
import webpack from "webpack";

import { CHROMIUM, OUT, ROOT, launchBrowser, newPage, nonce, serveStatic } from "./helpers.js";
import { npm } from "../js/support/package.js";

const PKG_DIR = resolve(process.env.PULSE_JOBS_PKG_DIR || process.env.PULSE_PKG_DIR || join(ROOT, "pkg"));
const FIXTURES = join(ROOT, "tests", "bundlers");
// The gzipped wasm as web/wasm.js carries it: `export default "<base64>"`.
const PKG_WASM_BASE64 = readFileSync(join(PKG_DIR, "web", "wasm.js"), "utf8").match(/"([A-Za-z0-9+/=]{1000,})"/)[1];

let scratch;
let tarball;
let mockServer;
let browser;

// ------------------------------------------------------------------ helpers

/** Copy a fixture into the scratch directory and install the packed package into it. */
async function prepareFixture(name) {
  const dir = join(scratch, name);
  cpSync(join(FIXTURES, name), dir, {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|dist)([\\/]|$)/.test(relative(FIXTURES, src)),
  });
  cpSync(join(FIXTURES, "app.js"), join(dir, "main.js"));
  await npm(["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir);
  assert.ok(existsSync(join(dir, "node_modules", "pulse-jobs", "package.json")), `pulse-jobs installed into ${dir}`);
  return dir;
}

function filesUnder(dir, base = dir, out = []) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) filesUnder(p, base, out);
    else out.push(relative(base, p).split(sep).join("/"));
  }
  return out.sort();
}

// ------------------------------------------------------------------ builds

/** `vite build` with the fixture's vite.config.js; returns { outDir, warnings }. */
async function buildVite(dir) {
  const warnings = [];
  const logger = createLogger("warn", { allowClearScreen: false });
  const warn = logger.warn.bind(logger);
  logger.warn = (msg, opts) => {
    warnings.push(msg);
    warn(msg, opts);
  };
  logger.warnOnce = logger.warn;
  await viteBuild({ root: dir, logLevel: "warn", customLogger: logger });
  return { outDir: join(dir, "dist"), warnings };
}

/** `webpack` with the fixture's webpack.config.js; returns { outDir, warnings }. */
async function buildWebpack(dir) {
  const { default: config } = await import(pathToFileURL(join(dir, "webpack.config.js")).href);
  const compiler = webpack({ ...config, context: dir });
  const stats = await new Promise((res, rej) => compiler.run((err, s) => (err ? rej(err) : res(s))));
  await new Promise((res) => compiler.close(() => res()));
  if (stats.hasErrors()) throw new Error(`webpack build failed:\n${stats.toString({ all: false, errors: true, errorDetails: true })}`);
  const all = stats.toJson({ all: false, warnings: true }).warnings.map((w) => w.message);
  // webpack's performance hints (assets over 244 KiB) are advice about the
  // app's size, not a packaging problem: reported, not failed on.
  const isSizeHint = (m) => /(asset|entrypoint) size limit|webpack performance recommendations/i.test(m);
  return { outDir: compiler.outputPath, warnings: all.filter((m) => !isSizeHint(m)), hints: all.filter(isSizeHint) };
}

// ------------------------------------------------------------------ page

/** Open the build's index.html with the mock's URL and wait for the app's outcome. */
async function runPage(site) {
  const n = nonce();
  const { context, page, log } = await newPage(browser, { width: 1000, height: 700 });
  const responses = [];
  page.on("response", (r) => responses.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] }));
  // Finish as soon as the app has written its outcome, or fail at the first
  // page error (a module that fails to evaluate fails during goto already).
  let onError;
  const failed = new Promise((_, reject) => {
    onError = (e) => reject(new Error(`page error: ${e && e.stack ? e.stack : e}`));
    page.on("pageerror", onError);
  });
  failed.catch(() => {});
  try {
    const url = `${site.url}?${new URLSearchParams({ api: mockServer.apiUrl, nonce: n })}`;
    try {
      const navigation = page.goto(url);
      navigation.catch(() => {}); // settled by the race below, or by closing the context
      const response = await Promise.race([navigation, failed]);
      assert.equal(response.status(), 200, `GET ${url}`);
      await Promise.race([
        page.waitForFunction(() => document.documentElement.dataset.done !== undefined, null, { timeout: 20000 }),
        failed,
      ]);
    } catch (error) {
      const status = await page.textContent("#status").catch(() => null);
      throw new Error(`${error.message}\npage status: ${status}\nconsole:\n${log.console.join("\n")}`, { cause: error });
    } finally {
      page.off("pageerror", onError);
    }
    const done = await page.evaluate(() => document.documentElement.dataset.done);
    const status = await page.textContent("#status");
    assert.equal(done, "true", `the app did not finish: ${status}`);
    const outcome = JSON.parse(await page.textContent("#result"));
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, `bundler-${site.name}.png`), await page.screenshot({ fullPage: true }));
    return { nonce: n, outcome, status, log, responses };
  } finally {
    await context.close();
  }
}

function assertOutcome({ nonce: n, outcome, status }) {
  const { completed, failed } = outcome;
  assert.equal(completed.ok, true, `steps_2 job: ${JSON.stringify(completed.error)}`);
  assert.equal(status, "completed job received");
  assert.equal(completed.job.job_id, `steps_2-${n}`);
  assert.equal(completed.job.status, "completed");
  assert.match(completed.job.markdown, /^# Mock extraction result/);
  assert.ok(completed.job.page_count > 0, `page_count ${completed.job.page_count}`);

  assert.equal(failed.ok, false, "the failed job must reject");
  assert.deepEqual(failed.error, {
    isPulseError: true,
    isError: true,
    name: "PulseError",
    code: "JOB_FAILED",
    message: failed.error.message,
    jobId: `failed-${n}`,
    jobStatus: "failed",
    retryable: false,
  });
  assert.match(failed.error.message, /Document could not be parsed/);
}

/** The mock saw the polls the app made, with the app's key. */
function assertMockTraffic(n) {
  const gets = (id) => mockServer.mock.requests.filter((r) => r.side === "api" && r.jobId === id && r.method === "GET");
  const steps = gets(`steps_2-${n}`);
  assert.equal(steps.length, 3, "steps_2: pending, processing, completed");
  assert.ok(steps.every((r) => r.headers["x-api-key"] === "fixture-key" && r.status === 200));
  assert.equal(gets(`failed-${n}`).length, 1);
}

/** The wasm came inside the bundle: no .wasm request, nothing from another origin, no 404. */
function assertSelfContained({ log }, site) {
  const wasmRequests = log.requests.filter((r) => new URL(r.url).pathname.endsWith(".wasm"));
  assert.deepEqual(wasmRequests, [], "the wasm travels inside the JS");
  const origins = new Set([new URL(site.url).origin, new URL(mockServer.apiUrl).origin]);
  assert.deepEqual(log.requests.filter((r) => !origins.has(new URL(r.url).origin)), [], "requests to other origins");
  assert.deepEqual(site.served.filter((s) => s.status !== 200), [], "requests the build output could not answer");
}

function assertClean(log) {
  assert.deepEqual(log.errors, [], "uncaught page errors");
  // wasm-bindgen warns on the console when it has to fall back from
  // instantiateStreaming; any warning or error is a finding.
  assert.deepEqual(log.console.filter((line) => /^(error|warning): /.test(line)), [], "console errors and warnings");
}

// ------------------------------------------------------------------ suite

before(async () => {
  if (!existsSync(join(PKG_DIR, "package.json")) || !existsSync(join(PKG_DIR, "web", "index.js"))) {
    throw new Error(`${PKG_DIR} has no built package: run make pkg first`);
  }
  scratch = mkdtempSync(join(tmpdir(), "pulse-jobs-bundlers-"));
  const { stdout } = await npm(["pack", PKG_DIR, "--pack-destination", scratch, "--json"], scratch);
  const packed = JSON.parse(stdout)[0];
  assert.equal(packed.name, "pulse-jobs");
  tarball = join(scratch, packed.filename);
  mockServer = await import(pathToFileURL(join(ROOT, "mock", "server.js")).href).then((m) => m.startMock());
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await mockServer?.close();
  if (scratch && !process.env.PULSE_KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
});

const BUNDLERS = [
  { name: "vite", build: buildVite },
  { name: "webpack", build: buildWebpack },
];

for (const bundler of BUNDLERS) {
  describe(`${bundler.name} bundle in ${CHROMIUM}`, () => {
    let built;

    test(`${bundler.name} builds the app with its production defaults, the wasm inside the JS`, async (t) => {
      const dir = await prepareFixture(bundler.name);
      const started = Date.now();
      const { outDir, warnings, hints = [] } = await bundler.build(dir);
      t.diagnostic(`${bundler.name} build: ${Date.now() - started} ms`);
      for (const hint of hints) t.diagnostic(`${bundler.name} hint: ${hint.split("\n")[0]}`);
      assert.deepEqual(warnings, [], `${bundler.name} warnings`);
      const files = filesUnder(outDir);
      assert.ok(files.includes("index.html"), `index.html in ${files.join(", ")}`);
      assert.deepEqual(files.filter((f) => f.endsWith(".wasm")), [], "no .wasm asset: the wasm is inside the JS");
      const js = files.filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(outDir, f), "utf8"));
      assert.ok(js.some((text) => text.includes(PKG_WASM_BASE64)), "the package's wasm is in the bundle");
      t.diagnostic(`${bundler.name} output: ${files.join(", ")}`);
      built = { outDir };
    });

    test(`the ${bundler.name} bundle waits for jobs in Chromium without an init call`, async () => {
      assert.ok(built, `the ${bundler.name} build failed`);
      const site = { name: bundler.name, ...(await serveStatic(built.outDir)) };
      try {
        const result = await runPage(site);
        assertOutcome(result);
        assertMockTraffic(result.nonce);
        assertSelfContained(result, site);
        assertClean(result.log);
      } finally {
        await site.close();
      }
    });
  });
}
