// Shared helpers for the browser end-to-end tests (not a test file itself).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inflateSync } from "node:zlib";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, "..", "..");
export const OUT = join(ROOT, "test-output", "browser");
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const PKG_DIR = process.env.PULSE_JOBS_PKG_DIR ? resolve(process.env.PULSE_JOBS_PKG_DIR) : join(ROOT, "pkg");

/** Start the demo server in-process on a free port (www/serve.js). */
export async function startServer() {
  if (!existsSync(join(PKG_DIR, "web", "index.js"))) {
    throw new Error(`${join(PKG_DIR, "web", "index.js")} is missing: run make pkg first`);
  }
  const { startDemo } = await import(pathToFileURL(join(ROOT, "www", "serve.js")).href);
  return startDemo({ port: 0, pkgDir: PKG_DIR });
}

/** Launch Debian's Chromium headless, with `args` besides the usual ones. */
export async function launchBrowser(args = []) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...args,
    ],
  });
}

/**
 * A fresh context and page with console, page-error, CSP-violation and request
 * logs attached. `width` is the viewport width in CSS px.
 */
export async function newPage(browser, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const log = { console: [], errors: [], requests: [], csp: [] };
  const onConsole = (prefix) => (m) => {
    log.console.push(`${prefix}${m.type()}: ${m.text()}`);
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) log.csp.push(m.text());
  };
  page.on("console", onConsole(""));
  page.on("pageerror", (e) => log.errors.push(String(e && e.stack ? e.stack : e)));
  page.on("request", (r) => log.requests.push({ method: r.method(), url: r.url() }));
  page.on("worker", (w) => w.on("console", onConsole("worker ")));
  return { context, page, log };
}

/** Fetch the mock's recorded requests for one job id (through the demo server's /api mount). */
export async function mockRequests(demo, jobId) {
  const res = await fetch(`${demo.apiBase}/__mock/requests?job=${encodeURIComponent(jobId)}`);
  assert.equal(res.status, 200, "GET /api/__mock/requests");
  const body = await res.json();
  return Array.isArray(body) ? body : body.requests;
}

// ---------------------------------------------------------------- screenshots

/**
 * Save a full-page screenshot under test-output/browser/ and assert that it
 * is not blank (see pngStats). Returns the stats.
 */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, `${name}.png`);
  const png = await page.screenshot({ fullPage });
  writeFileSync(path, png);
  const stats = pngStats(png);
  assert.ok(!isBlank(stats), `screenshot ${name} looks blank: ${JSON.stringify(stats)}`);
  return { path, ...stats };
}

/** Blank: (nearly) one colour. A rendered page has many colours and a fair share of non-background pixels. */
export function isBlank(stats) {
  return stats.distinctColors < 16 || stats.dominantFraction > 0.985;
}

/**
 * Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes) with
 * node:zlib, and count its distinct colours and the share of the most common one.
 */
export function pngStats(buf) {
  assert.equal(buf.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", "not a PNG");
  let off = 8;
  let width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8];
      colorType = data[9];
      interlace = data[12];
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  assert.equal(bitDepth, 8, "PNG bit depth");
  assert.equal(interlace, 0, "PNG interlace");
  const bpp = { 2: 3, 6: 4 }[colorType];
  assert.ok(bpp, `PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const prev = Buffer.alloc(stride);
  const cur = Buffer.alloc(stride);
  const counts = new Map();
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    const filter = raw[row];
    for (let x = 0; x < stride; x++) {
      const v = raw[row + 1 + x];
      const a = x >= bpp ? cur[x - bpp] : 0;
      const b = prev[x];
      const c = x >= bpp ? prev[x - bpp] : 0;
      let out;
      switch (filter) {
        case 0: out = v; break;
        case 1: out = v + a; break;
        case 2: out = v + b; break;
        case 3: out = v + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new Error(`bad PNG filter ${filter}`);
      }
      cur[x] = out & 0xff;
    }
    for (let x = 0; x < stride; x += bpp) {
      const key = (cur[x] << 16) | (cur[x + 1] << 8) | cur[x + 2];
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    cur.copy(prev);
  }
  let max = 0;
  for (const n of counts.values()) if (n > max) max = n;
  return { width, height, distinctColors: counts.size, dominantFraction: max / (width * height) };
}

/** Wait for the demo page to have loaded the package. */
export async function waitReady(page) {
  await page.waitForFunction(() => document.documentElement.dataset.ready !== undefined, null, { timeout: 20000 });
  const ready = await page.evaluate(() => document.documentElement.dataset.ready);
  if (ready !== "true") {
    const boot = await page.evaluate(() => document.getElementById("boot")?.textContent ?? document.getElementById("status-text")?.textContent);
    throw new Error(`the page did not load the package: ${boot}`);
  }
}

/** Wait for the demo page's state; on a timeout, say what the page shows instead. */
export async function waitState(page, state, timeout = 30000) {
  try {
    await page.waitForSelector(`#state[data-state="${state}"]`, { timeout });
  } catch (err) {
    const now = await page.evaluate(() => ({
      state: document.getElementById("state").dataset.state,
      text: document.getElementById("status-text").textContent,
      error: document.getElementById("error").hidden ? null : document.getElementById("error").textContent,
    }));
    throw new Error(`state ${state} not reached within ${timeout} ms; page shows ${JSON.stringify(now)}`, { cause: err });
  }
}

export const nonce = () => Math.random().toString(36).slice(2, 10);

// ---------------------------------------------------------------- static builds

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/** Serve `dir` (and nothing else) on 127.0.0.1, each answer with `headers`; `served` logs every request. */
export function serveStatic(dir, headers = {}) {
  const root = resolve(dir);
  const served = [];
  const server = http.createServer((req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
    } catch {
      pathname = "";
    }
    const file = resolve(root, `.${pathname.endsWith("/") ? `${pathname}index.html` : pathname}`);
    const ok = req.method === "GET" && file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile();
    if (!ok) {
      served.push({ path: pathname, status: 404 });
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const type = MIME[extname(file)] || "application/octet-stream";
    served.push({ path: pathname, status: 200, type });
    res.writeHead(200, { ...headers, "content-type": type, "cache-control": "no-store" }).end(readFileSync(file));
  });
  return new Promise((resolveServer, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}/`;
      const close = () => new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      resolveServer({ url, served, close });
    });
  });
}
