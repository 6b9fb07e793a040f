// The projects of examples/, as a user gets them: each copied to a scratch
// folder, the packed package (`npm pack pkg/`) installed over its
// "pulse-jobs" dependency, built with its own toolchain and run against the
// mock API. The toolchains (next, react, vite, wrangler, miniflare) are the
// reach suite's, found by walking up from tests/reach/.scratch-examples/, so
// the copies install only pulse-jobs.
//
// Run: node --test tests/reach/examples.test.js   (needs pkg/ built and tests/reach's toolchains)
// PULSE_PKG_DIR=… packs another build; PULSE_KEEP_SCRATCH=1 keeps the scratch folders.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { launchBrowser, newPage, nonce } from "../browser/helpers.js";
import { npm } from "../js/support/package.js";
import { SLACK } from "../js/support/util.js";
import { NODE, bin, nextServer, run, worker } from "./targets.js";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const PKG_DIR = resolve(process.env.PULSE_PKG_DIR || join(ROOT, "pkg"));
const SCRATCH = join(HERE, ".scratch-examples");
// The key the examples' servers hold. Long and unusual, so finding it anywhere is no accident.
const KEY = "example-server-key-7f3a9c1e";
const BUILT = new Set(["node_modules", ".next", "dist", ".wrangler"]);

let tarball;
let mockServer;
let browser;
const stops = [];

before(async () => {
  assert.ok(existsSync(join(PKG_DIR, "package.json")), `${PKG_DIR} has no built package: run make pkg first`);
  rmSync(SCRATCH, { recursive: true, force: true });
  mkdirSync(SCRATCH, { recursive: true });
  const { stdout } = await npm(["pack", PKG_DIR, "--pack-destination", SCRATCH, "--json"], SCRATCH);
  tarball = join(SCRATCH, JSON.parse(stdout)[0].filename);
  mockServer = await import(pathToFileURL(join(ROOT, "mock", "server.js")).href).then((m) => m.startMock());
  browser = await launchBrowser();
});

after(async () => {
  for (const stop of stops) await stop();
  await browser?.close();
  await mockServer?.close();
  if (!process.env.PULSE_KEEP_SCRATCH) rmSync(SCRATCH, { recursive: true, force: true });
});

/**
 * examples/<name> in a scratch folder with the packed package installed.
 * Its other dependencies (the toolchain) are dropped from the copy's
 * package.json: they come from tests/reach/node_modules.
 */
async function prepare(name) {
  const dir = join(SCRATCH, name);
  cpSync(join(ROOT, "examples", name), dir, { recursive: true, filter: (src) => !BUILT.has(src.split(/[\\/]/).pop()) });
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  assert.equal(manifest.dependencies["pulse-jobs"], "^0.1.0", "the example depends on the published name");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ ...manifest, dependencies: { "pulse-jobs": "^0.1.0" }, devDependencies: {} }, null, 2));
  await npm(["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir);
  return dir;
}

// This test's own reads of the mock carry this user agent, and are left out of `recorded`.
const OWN = { "user-agent": "examples-test" };

/** The job as the mock answers it now (a completed job's result is fixed). */
const mockJob = async (id) => (await fetch(`${mockServer.apiUrl}/job/${id}`, { headers: OWN })).json();

/** The mock's log for one job id, but for this test's own reads. */
const recorded = (jobId) => mockServer.mock.requests.filter((r) => r.jobId === jobId && r.headers["user-agent"] !== OWN["user-agent"]);

/** The markdown of the mock's large result for `id`, read straight from its storage. */
async function largeMarkdown(id) {
  const job = await mockJob(id);
  return (await (await fetch(job.result.url, { headers: OWN })).json()).markdown;
}

/** Asserts that every API request the mock saw for `jobId` carried the server's key, and no storage download did. */
function assertKeyAdded(jobId) {
  const seen = recorded(jobId);
  const api = seen.filter((r) => r.side === "api");
  assert.ok(api.length > 0, `the mock saw no request for ${jobId}`);
  assert.deepEqual([...new Set(api.map((r) => r.headers["x-api-key"]))], [KEY], `the key on ${jobId}'s requests`);
  assert.ok(seen.every((r) => r.side === "api" || r.headers["x-api-key"] === undefined), "presigned storage never gets the key");
}

/**
 * A page in Chromium whose every response body is kept, to show the key
 * never reaches the browser: `assertNoKey()` checks them, and that the page
 * talked to `origin` only (never to the mock).
 */
async function watchedPage(origin) {
  const { context, page, log } = await newPage(browser, { width: 900, height: 700 });
  const bodies = [];
  page.on("response", (response) => {
    if (response.status() < 300 || response.status() >= 400) bodies.push(response.body().then(String, () => ""));
  });
  const assertNoKey = async () => {
    const texts = await Promise.all(bodies);
    assert.ok(texts.length > 3, "the page loaded its scripts");
    assert.equal(texts.filter((t) => t.includes(KEY)).length, 0, "a response to the browser holds the key");
    const elsewhere = log.requests.filter((r) => !r.url.startsWith(origin) && !r.url.startsWith("data:"));
    assert.deepEqual(elsewhere, [], "the page talks to its own server only");
    assert.deepEqual(log.errors, [], "page errors");
  };
  return { context, page, log, assertNoKey };
}

/** Starts `node server.js` of the vite example on a free port; resolves with its URL. */
function startNodeServer(dir, env) {
  const child = spawn(process.execPath, ["server.js"], { cwd: dir, env: { ...process.env, ...env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  stops.push(() => child.kill());
  return new Promise((resolvePromise, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const url = out.match(/http:\/\/\S+/)?.[0];
      if (url) resolvePromise(url);
    });
    child.stderr.on("data", (chunk) => (out += chunk));
    child.on("exit", (code) => reject(new Error(`server.js exited (${code}):\n${out}`)));
  });
}

describe("examples/, each built and run against the mock with the packed package", { concurrency: 2 }, () => {
  test("node-script: uploads a file or sends a URL, shows a progress bar, writes the completed job's result", async () => {
    const dir = await prepare("node-script");
    writeFileSync(join(dir, "report.txt"), "a small document");
    const env = { PULSE_API_KEY: KEY, PULSE_BASE_URL: mockServer.apiUrl };
    const extract = (args) =>
      new Promise((resolvePromise, reject) => {
        const child = spawn(NODE[20], ["extract.js", ...args], { cwd: dir, env: { ...process.env, ...env } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c) => (stdout += c));
        child.stderr.on("data", (c) => (stderr += c));
        child.on("error", reject);
        child.on("exit", (code) => resolvePromise({ code, stdout, stderr }));
      });
    const [upload, byUrl] = await Promise.all([extract(["report.txt", "upload.json"]), extract(["https://example.com/report.pdf", "url.json"])]);

    for (const [outcome, file, body] of [
      [upload, "upload.json", (b) => b.kind === "multipart" && b.fields.file.filename === "report.txt" && b.fields.async === "true"],
      [byUrl, "url.json", (b) => b.kind === "json" && b.fields.file_url === "https://example.com/report.pdf" && b.fields.async === true],
    ]) {
      assert.equal(outcome.code, 0, `extract.js failed:\n${outcome.stdout}\n${outcome.stderr}`);
      const jobId = outcome.stdout.match(/^(\S+): completed, result written to /m)?.[1];
      assert.ok(jobId, `no job id in: ${outcome.stdout}`);
      const job = await mockJob(jobId);
      assert.equal(job.status, "completed");
      assert.deepEqual(JSON.parse(readFileSync(join(dir, file), "utf8")), job.result, `${file} holds the job's result`);
      assert.ok(job.result.markdown.length > 1000);
      const submission = recorded(jobId).find((r) => r.method === "POST");
      assert.equal(submission.path, "/extract");
      assert.ok(body(submission.body), `what was submitted: ${JSON.stringify(submission.body)}`);
      assertKeyAdded(jobId);
      // The bar: at least one stage before the end, then full at "completed".
      assert.match(outcome.stderr, /\[#{10}-{20}\] pending|\[#{20}-{10}\] processing/);
      assert.match(outcome.stderr, /\[#{30}\] completed · poll \d+ · [\d.]+ s/);
      assert.ok(!(outcome.stdout + outcome.stderr).includes(KEY), "the key is not printed");
    }
  });

  test("nextjs: Node and edge route handlers answer jobs; the proxy adds the key; the client component shows progress and resumes after a reload", async () => {
    const dir = await prepare("nextjs");
    // nextServer passes this process's environment to next build and next start.
    Object.assign(process.env, { PULSE_API_KEY: KEY, PULSE_BASE_URL: mockServer.apiUrl });
    const server = await nextServer()(dir);
    stops.push(() => server.close());
    const n = nonce();
    const get = async (path) => {
      const response = await fetch(`${server.url}${path}`);
      return { status: response.status, body: await response.json() };
    };

    // Route handlers: the Node runtime and the edge runtime wait on the server.
    const [nodeJob, edgeLarge, edgeFailed] = await Promise.all([
      get(`api/jobs/steps_2-${n}`),
      get(`api/edge/jobs/large_6000000-${n}`),
      get(`api/edge/jobs/failed-${n}`),
    ]);
    assert.equal(nodeJob.status, 200);
    assert.equal(nodeJob.body.status, "completed");
    assert.deepEqual(nodeJob.body.result, (await mockJob(`steps_2-${n}`)).result);
    assert.equal(recorded(`steps_2-${n}`).length, 3, "polled until completed: steps_2 completes on poll 3");
    assert.equal(edgeLarge.status, 200);
    assert.equal(edgeLarge.body.result.markdown, await largeMarkdown(`large_6000000-${n}`), "the edge route downloaded the large result");
    assert.deepEqual([edgeFailed.status, edgeFailed.body.code, edgeFailed.body.retryable], [422, "JOB_FAILED", false]);
    for (const id of [`steps_2-${n}`, `large_6000000-${n}`, `failed-${n}`]) assertKeyAdded(id);

    // The proxy: the key added upstream; a large-result link on the API's origin moved onto the proxy; nothing else forwarded.
    const pointer = await get(`api/pulse/job/singleuse_3000-${n}`);
    assert.equal(pointer.body.result.url, `${server.url}api/pulse/large_results/singleuse_3000-${n}`);
    const download = await fetch(pointer.body.result.url);
    assert.equal(download.status, 200);
    assert.match((await download.json()).markdown, /^# Mock extraction result/);
    assertKeyAdded(`singleuse_3000-${n}`);
    const before = mockServer.mock.requests.length;
    for (const path of ["api/pulse/__mock/requests", "api/pulse/job/x/..%2F..%2F__mock%2Frequests", "api/pulse/"]) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${server.url}api/pulse/job/ok-${n}`, { method: "PUT" })).status, 405);
    // Only what these refused requests could have become upstream: another
    // example runs beside this one (concurrency 2) against the same mock.
    const forwarded = mockServer.mock.requests
      .slice(before)
      .filter((r) => r.path.includes("__mock") || r.path === "/" || r.path.startsWith("/job/x") || r.jobId === `ok-${n}`);
    assert.deepEqual(forwarded, [], "refused paths reach nothing upstream");

    // The client component, in Chromium: progress through the proxy, a reload, the same wait resumed.
    const { context, page, assertNoKey } = await watchedPage(server.url.slice(0, -1));
    try {
      // Every state the page shows, kept per page load.
      await page.addInitScript(() => {
        window.shown = [];
        new MutationObserver(() => {
          const el = document.getElementById("job");
          if (el) window.shown.push({ ...el.dataset });
        }).observe(document, { subtree: true, childList: true, attributes: true });
      });
      const id = `steps_3-${n}`;
      await page.goto(`${server.url}?job=${id}`);
      await page.waitForSelector('#job[data-attempt="2"]', { timeout: 30_000 });
      const saved = JSON.parse(await page.evaluate(() => localStorage.getItem("pulse-jobs-watch")));
      assert.equal(saved.jobId, id);
      assert.ok(saved.attempt >= 2, `saved state: ${JSON.stringify(saved)}`);
      const shownBefore = await page.evaluate(() => window.shown);
      assert.ok(shownBefore.some((s) => s.status === "pending" && s.attempt === "1"), `shown: ${JSON.stringify(shownBefore)}`);
      await page.reload();
      await page.waitForSelector('#job[data-status="completed"]', { timeout: 30_000 + SLACK });
      const shown = await page.evaluate(() => window.shown.filter((s) => s.attempt));
      assert.equal(shown[0].resumed, "true", `after the reload: ${JSON.stringify(shown)}`);
      assert.ok(Number(shown[0].attempt) > saved.attempt, `the polls go on from the saved attempt: ${JSON.stringify(shown)}`);
      assert.ok(shown.every((s) => s.startedAt === String(saved.startedAt)), "the same wait: its start is kept");
      assert.equal(shown.at(-1).attempt, "4", "steps_3 completes on poll 4");
      await page.waitForFunction(() => localStorage.getItem("pulse-jobs-watch") === null, null, { timeout: 5_000 + SLACK }); // a finished wait is forgotten
      assert.match(await page.textContent("#job pre"), /^# Mock extraction result/);
      assertKeyAdded(id);

      // An upload from the page: multipart through the proxy, then watched to the end.
      await page.setInputFiles('input[type="file"]', { name: "scan.txt", mimeType: "text/plain", buffer: Buffer.from("scanned text") });
      await page.click("button");
      await page.waitForFunction((old) => {
        const el = document.getElementById("job");
        return el && el.dataset.job !== old && el.dataset.status === "completed";
      }, id, { timeout: 30_000 + SLACK });
      const uploaded = await page.getAttribute("#job", "data-job");
      assert.equal(new URL(page.url()).searchParams.get("job"), uploaded, "the address names the new job, for a reload");
      const post = recorded(uploaded).find((r) => r.method === "POST");
      assert.equal(post.path, "/extract");
      assert.equal(post.body.kind, "multipart");
      assert.equal(post.body.fields.file.filename, "scan.txt");
      assertKeyAdded(uploaded);
      await assertNoKey();
    } finally {
      await context.close();
    }
  });

  test("cloudflare-worker: waits for the job of ?job= with the key from its binding and the base URL from a var", async () => {
    const dir = await prepare("cloudflare-worker");
    await worker("cloudflare-worker example", "cloudflare-worker").build(dir);
    const n = nonce();
    const paths = [`/?job=steps_2-${n}`, `/?job=large_6000000-${n}`, `/?job=failed-${n}`, "/"];
    // Miniflare runs dist/ in workerd with wrangler.json's settings, the vars overridden as `wrangler dev --var` would.
    const script = `
      import { Miniflare } from "miniflare";
      import { readFileSync } from "node:fs";
      const [api, key, ...paths] = process.argv.slice(1);
      const config = JSON.parse(readFileSync("wrangler.json", "utf8"));
      const mf = new Miniflare({
        rootPath: "dist", scriptPath: config.main.split("/").pop(), modules: true,
        modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
        compatibilityDate: config.compatibility_date,
        bindings: { ...config.vars, PULSE_BASE_URL: api, PULSE_API_KEY: key },
      });
      try {
        const answers = [];
        for (const path of paths) {
          const response = await mf.dispatchFetch("http://worker.test" + path);
          answers.push({ status: response.status, body: await response.json() });
        }
        console.log(JSON.stringify(answers));
      } finally {
        await mf.dispose();
      }`;
    const [steps, large, failed, missing] = JSON.parse(await run(NODE[24], ["--input-type=module", "-e", script, mockServer.apiUrl, KEY, ...paths], { cwd: dir }));
    assert.equal(steps.status, 200);
    assert.equal(steps.body.status, "completed");
    assert.deepEqual(steps.body.result, (await mockJob(`steps_2-${n}`)).result);
    assert.equal(large.status, 200);
    assert.equal(large.body.result.markdown, await largeMarkdown(`large_6000000-${n}`));
    assert.deepEqual([failed.status, failed.body.code], [422, "JOB_FAILED"]);
    assert.equal(missing.status, 400);
    for (const id of [`steps_2-${n}`, `large_6000000-${n}`, `failed-${n}`]) assertKeyAdded(id);
    assert.ok(!JSON.stringify([steps, failed, missing]).includes(KEY));
  });

  test("vite-browser: the built page completes jobs through server.js's proxy, which holds the key", async () => {
    const dir = await prepare("vite-browser");
    await run(bin("vite"), ["build"], { cwd: dir });
    const origin = await startNodeServer(dir, { PULSE_API_KEY: KEY, PULSE_BASE_URL: mockServer.apiUrl });
    const n = nonce();
    const { context, page, assertNoKey } = await watchedPage(origin);
    try {
      await page.goto(origin);
      const watch = async (id) => {
        await page.fill('input[name="job"]', id);
        await page.click("button");
        // The page says "starting…" at once, then the job's states until the end.
        await page.waitForFunction(() => /^(completed|[A-Z_]+:)/.test(document.getElementById("status").textContent), null, { timeout: 30_000 + SLACK });
        return { status: await page.textContent("#status"), result: await page.textContent("#result") };
      };
      const steps = await watch(`steps_2-${n}`);
      assert.match(steps.status, /^completed · poll 3$/);
      assert.equal(steps.result, (await mockJob(`steps_2-${n}`)).result.markdown);
      assert.equal(await page.evaluate(() => document.getElementById("progress").value), 3);
      // A large result on the API's origin: the proxy moves its link onto itself and adds the key to the download.
      const large = await watch(`singleuse_300000-${n}`);
      assert.match(large.status, /^completed/);
      assert.match(large.result, /^# Mock extraction result/);
      assert.ok(large.result.length > 100_000, `markdown of ${large.result.length} characters`);
      const download = recorded(`singleuse_300000-${n}`).find((r) => r.path.startsWith("/large_results/"));
      assert.equal(download?.headers["x-api-key"], KEY, "the download went through the proxy");
      const failed = await watch(`failed-${n}`);
      assert.match(failed.status, /^JOB_FAILED: .*Document could not be parsed/);
      for (const id of [`steps_2-${n}`, `singleuse_300000-${n}`, `failed-${n}`]) assertKeyAdded(id);
      await assertNoKey();
    } finally {
      await context.close();
    }
  });
});
