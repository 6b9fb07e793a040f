// Demo server for pulse-jobs: one origin that serves
//   /             the demo page (www/)
//   /pulse-jobs/  the built package (pkg/), as an app's server would
//   /api          the mock Pulse API      (mock/server.js handleApi)
//   /storage      the mock result storage (mock/server.js handleStorage)
// Everything is same-origin because the page's CSP (default-src 'self')
// forbids fetches to any other origin.
//
// Plain Node ESM, no dependencies.
//   node www/serve.js            PORT (default 8080), host 127.0.0.1
//   import { startDemo } from "./www/serve.js"; await startDemo({ port: 0 })

import { createServer } from "node:http";
import { createReadStream, existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

export const WWW_DIR = here;
export const PKG_DIR = join(root, "pkg");
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** Thrown (and printed by the script) when the package has not been built. */
export class MissingPackageError extends Error {
  constructor(dir) {
    super(`pulse-jobs package not found at ${dir} (no web/index.js): run make pkg first`);
    this.name = "MissingPackageError";
  }
}

/**
 * Start the demo server.
 * @param {object} [o]
 * @param {number} [o.port=8080]  0 picks a free port
 * @param {string} [o.host="127.0.0.1"]
 * @param {string} [o.pkgDir]     built package directory (default: ../pkg)
 * @returns {Promise<{url: string, apiBase: string, storageBase: string, mock: object, server: import("node:http").Server, close(): Promise<void>}>}
 */
export async function startDemo({ port = 8080, host = "127.0.0.1", pkgDir = PKG_DIR } = {}) {
  pkgDir = resolve(pkgDir);
  if (!existsSync(join(pkgDir, "web", "index.js"))) throw new MissingPackageError(pkgDir);
  const { createMock, mountMock } = await import(pathToFileURL(join(root, "mock", "server.js")).href);

  let mock = null;
  let routeToMock = null;
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
      console.error("serve.js:", err && err.message);
    });
  });

  async function handle(req, res) {
    res.setHeader("Content-Security-Policy", CSP);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    const url = new URL(req.url, "http://localhost");
    let pathname;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return send(res, 400, "text/plain; charset=utf-8", "bad path\n");
    }

    if (routeToMock(req, res)) return;

    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    if (pathname === "/pulse-jobs" || pathname.startsWith("/pulse-jobs/")) {
      if (pathname === "/pulse-jobs") return redirect(res, "/pulse-jobs/");
      return serveFile(req, res, pkgDir, pathname.slice("/pulse-jobs".length));
    }
    return serveFile(req, res, here, pathname);
  }

  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      ok();
    });
  });
  const addr = server.address();
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  const apiBase = `${origin}/api`;
  const storageBase = `${origin}/storage`;
  mock = createMock({ apiBase, storageBase });
  routeToMock = mountMock(mock, { apiPrefix: "/api", storagePrefix: "/storage" });

  return {
    url: `${origin}/`,
    apiBase,
    storageBase,
    mock,
    server,
    close() {
      return new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections?.();
      });
    },
  };
}

async function serveFile(req, res, base, rel) {
  if (rel === "" || rel.endsWith("/")) rel += "index.html";
  if (rel.includes("\0")) return send(res, 400, "text/plain; charset=utf-8", "bad path\n");
  const file = resolve(base, "." + rel);
  if (file !== base && !file.startsWith(base + sep)) return send(res, 403, "text/plain; charset=utf-8", "forbidden\n");
  if (base === here && file === join(here, "serve.js")) return send(res, 404, "text/plain; charset=utf-8", "not found\n");
  let info;
  try {
    info = await stat(file);
  } catch {
    return send(res, 404, "text/plain; charset=utf-8", "not found\n");
  }
  if (info.isDirectory()) return redirect(res, req.url.replace(/^([^?]*)/, "$1/"));
  res.writeHead(200, {
    "Content-Type": MIME[extname(file).toLowerCase()] || "application/octet-stream",
    "Content-Length": info.size,
    "Cache-Control": "no-cache",
  });
  if (req.method === "HEAD") return res.end();
  await new Promise((ok, fail) => {
    const s = createReadStream(file);
    s.on("error", fail);
    res.on("close", ok);
    s.pipe(res);
  });
}

function redirect(res, location) {
  res.writeHead(301, { Location: location });
  res.end();
}

function send(res, status, type, body) {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const port = process.env.PORT === undefined || process.env.PORT === "" ? 8080 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
    process.exit(2);
  }
  try {
    const demo = await startDemo({ port });
    console.log(`pulse-jobs demo: ${demo.url}`);
    console.log(`  mock API ${demo.apiBase}, mock storage ${demo.storageBase}; Ctrl-C to stop`);
    const stop = () => demo.close().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  } catch (err) {
    if (err instanceof MissingPackageError) {
      console.error(`pkg/ is missing: run make pkg first (looked for ${join(PKG_DIR, "web", "index.js")})`);
    } else {
      console.error(`demo server failed to start: ${err.message}`);
    }
    process.exit(1);
  }
}
