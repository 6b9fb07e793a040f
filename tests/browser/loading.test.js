// The browser entry's loading (docs/contract.md, "Loading"), in headless
// Chromium on a page that imports pkg/web/index.js unbundled, against the
// mock: the import loads only the shell, the first call fetches the glue and
// the wasm, and where the browser refuses the wasm (a CSP without
// 'wasm-unsafe-eval', an engine without WebAssembly) the import still works
// and every call rejects WASM_UNAVAILABLE.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";

import { ROOT, launchBrowser, newPage, nonce, serveStatic } from "./helpers.js";

const PAGE = `<!doctype html><meta charset="utf-8"><title>loading</title><script type="module" src="main.js"></script>`;
const MAIN = `import * as pulse from "./pulse-jobs/web/index.js";
window.pulse = pulse;
window.settle = (promise) =>
  promise.then(
    (job) => ({ status: job.status }),
    (e) => ({ isPulseError: e instanceof pulse.PulseError, code: e.code, message: e.message, cause: e.cause?.name, retryable: e.retryable }),
  );
document.documentElement.dataset.imported = "true";
`;

let site;
let mock;
let browser;
let noWasmBrowser;
const chunk = (requests, name) => requests.some((r) => r.url.endsWith(`/pulse-jobs/web/${name}`));

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulse-loading-"));
  cpSync(join(ROOT, "pkg"), join(dir, "pulse-jobs"), { recursive: true });
  writeFileSync(join(dir, "index.html"), PAGE);
  writeFileSync(join(dir, "main.js"), MAIN);
  site = { dir, open: await serveStatic(dir), strict: await serveStatic(dir, { "content-security-policy": "script-src 'self'" }) };
  mock = await import(pathToFileURL(join(ROOT, "mock", "server.js")).href).then((m) => m.startMock());
  [browser, noWasmBrowser] = await Promise.all([launchBrowser(), launchBrowser(["--js-flags=--jitless"])]);
});

after(async () => {
  await Promise.all([browser?.close(), noWasmBrowser?.close()]);
  await Promise.all([site?.open.close(), site?.strict.close(), mock?.close()]);
  rmSync(site.dir, { recursive: true, force: true });
});

/** Opens `url` in `on`; resolves with the page and its request log once the package is imported. */
async function open(on, url) {
  const { context, page, log } = await newPage(on);
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.dataset.imported === "true", null, { timeout: 10_000 });
  return { context, page, log };
}

const getJob = (page, id) => page.evaluate(([api, id]) => window.settle(window.pulse.getJob(id, { baseUrl: api })), [mock.apiUrl, id]);

test("the import loads only the shell; the first call fetches the glue and the wasm, never the inflater", async () => {
  const { context, page, log } = await open(browser, site.open.url);
  try {
    assert.ok(chunk(log.requests, "index.js"));
    assert.ok(!chunk(log.requests, "start.js") && !chunk(log.requests, "wasm.js"), "nothing of the wasm before the first call");
    assert.deepEqual(await getJob(page, `steps_1-${nonce()}`), { status: "pending" });
    assert.ok(chunk(log.requests, "start.js") && chunk(log.requests, "wasm.js"), "the first call fetched the glue and the wasm");
    assert.ok(!chunk(log.requests, "inflate.js"), "Chromium inflates with DecompressionStream");
    assert.deepEqual(log.errors, []);
  } finally {
    await context.close();
  }
});

test("a Content-Security-Policy without 'wasm-unsafe-eval': each call rejects WASM_UNAVAILABLE naming the fix", async () => {
  const { context, page, log } = await open(browser, site.strict.url);
  try {
    const id = `steps_1-${nonce()}`;
    for (const attempt of [1, 2]) {
      const error = await getJob(page, id);
      assert.equal(error.isPulseError, true, `call ${attempt}: ${JSON.stringify(error)}`);
      assert.equal(error.code, "WASM_UNAVAILABLE");
      assert.equal(error.retryable, false);
      assert.equal(error.cause, "CompileError");
      assert.match(error.message, /'wasm-unsafe-eval'/);
    }
    assert.equal(mock.mock.requests.filter((r) => r.jobId === id).length, 0, "nothing was sent");
    assert.deepEqual(log.errors, []);
  } finally {
    await context.close();
  }
});

test("an engine without WebAssembly: the import works and each call rejects WASM_UNAVAILABLE", async () => {
  const { context, page, log } = await open(noWasmBrowser, site.open.url);
  try {
    assert.equal(await page.evaluate(() => typeof WebAssembly), "undefined");
    const error = await getJob(page, `steps_1-${nonce()}`);
    assert.equal(error.code, "WASM_UNAVAILABLE", JSON.stringify(error));
    assert.equal(error.cause, "ReferenceError");
    assert.match(error.message, /WebAssembly is not defined/);
    assert.deepEqual(log.errors, []);
  } finally {
    await context.close();
  }
});
