// Demo server for pulse-jobs: one origin that serves
//   /             the demo page (www/)
//   /pulse-jobs/  the built package (pkg/), as an app's server would
//   /api          the mock Pulse API      (mock/server.js handleApi)
//   /storage      the mock result storage (mock/server.js handleStorage)
//   /pulse        with an API key: a proxy to the real Pulse API that adds the
//                 key on the server (www/proxy.js); without one, 404
//   /backend.json which of the two the page should use
// Everything is same-origin because the page's CSP (default-src 'self')
// forbids fetches to any other origin.
//
// Plain Node ESM, no dependencies.
//   node www/serve.js            PORT (default 8080), host 127.0.0.1,
//                                PULSE_API_KEY (turns the proxy on), PULSE_UPSTREAM
//   import { startDemo } from "./www/serve.js"; await startDemo({ port: 0, apiKey, upstream })

import { createServer } from "node:http";
import { createReadStream, existsSync, realpathSync } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { DEFAULT_UPSTREAM, ProxyConfigError, createPulseProxy, localHosts } from "./proxy.js";

const here = realpathSync(dirname(fileURLToPath(import.meta.url))); // real: files are checked by real path
const root = resolve(here, "..");

export const WWW_DIR = here;
export const PKG_DIR = join(root, "pkg");
// frame-ancestors 'none' (and X-Frame-Options for older browsers): no other site may
// frame the page and click-jack its buttons, whose requests carry the proxy's key.
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'";
const PROXY_PREFIX = "/pulse";
// Server code is not part of the page: never served as a file.
const SERVER_ONLY = new Set(["serve.js", "proxy.js"].map((name) => join(here, name)));

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
 * Start the demo server. Settings come from the options only (the command
 * line reads them from the environment), so tests need no env vars.
 * @param {object} [o]
 * @param {number} [o.port=8080]  0 picks a free port
 * @param {string} [o.host="127.0.0.1"]
 * @param {string} [o.pkgDir]     built package directory (default: ../pkg)
 * @param {string} [o.apiKey]     a Pulse API key: serves /pulse/* as a proxy to `upstream` that adds it;
 *                                without one the page uses the embedded mock and /pulse/* is 404
 * @param {string} [o.upstream]   the Pulse API base URL (default https://api.runpulse.com)
 * @param {number} [o.maxBodyBytes] largest POST body the proxy forwards (default 64 MiB)
 * @param {number} [o.timeoutMs]  the proxy's upstream idle timeout (default 120 s)
 * @param {(line: string) => void} [o.log] where the proxy reports upstream failures (default console.error)
 * @returns {Promise<{url: string, apiBase: string, storageBase: string, proxyBase: string | null, backend: object, mock: object, server: import("node:http").Server, close(): Promise<void>}>}
 */
export async function startDemo({
  port = 8080, host = "127.0.0.1", pkgDir = PKG_DIR,
  apiKey, upstream = DEFAULT_UPSTREAM, maxBodyBytes, timeoutMs, log,
} = {}) {
  pkgDir = resolve(pkgDir);
  if (!existsSync(join(pkgDir, "web", "index.js"))) throw new MissingPackageError(pkgDir);
  const realPkgDir = await realpath(pkgDir); // a file is served only when its real path is inside
  const { createMock, mountMock } = await import(pathToFileURL(join(root, "mock", "server.js")).href);
  // Built before listening, so a bad key or upstream stops the start.
  const proxy = apiKey === undefined || apiKey === null || apiKey === ""
    ? null
    : createPulseProxy({ apiKey, upstream, prefix: PROXY_PREFIX, maxBodyBytes, timeoutMs, log });
  const backend = proxy ? proxy.info : { backend: "mock", baseUrl: "/api" };

  let mock = null;
  let routeToMock = null;
  let allowedHosts = null;
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
      console.error("serve.js:", err && err.message);
    });
  });

  async function handle(req, res) {
    res.setHeader("Content-Security-Policy", CSP);
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    const url = requestPath(req.url);
    let pathname;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return send(res, 400, "text/plain; charset=utf-8", "bad path\n");
    }

    if (routeToMock(req, res)) return;

    if (url.pathname === PROXY_PREFIX || url.pathname.startsWith(`${PROXY_PREFIX}/`)) {
      res.setHeader("Cache-Control", "no-store");
      if (proxy) return proxy.handle(req, res, url, allowedHosts);
      req.resume();
      return send(res, 404, "application/json; charset=utf-8", JSON.stringify({ error: "No Pulse proxy: start the demo with PULSE_API_KEY set" }));
    }
    if (pathname === "/backend.json" && (req.method === "GET" || req.method === "HEAD")) {
      res.setHeader("Cache-Control", "no-store");
      return send(res, 200, "application/json; charset=utf-8", JSON.stringify(backend), req.method === "HEAD");
    }

    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    if (pathname === "/pulse-jobs" || pathname.startsWith("/pulse-jobs/")) {
      if (pathname === "/pulse-jobs") return redirect(res, "/pulse-jobs/");
      return serveFile(req, res, url, realPkgDir, pathname.slice("/pulse-jobs".length));
    }
    return serveFile(req, res, url, here, pathname);
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
  allowedHosts = localHosts(host, addr.port);
  const apiBase = `${origin}/api`;
  const storageBase = `${origin}/storage`;
  mock = createMock({ apiBase, storageBase });
  routeToMock = mountMock(mock, { apiPrefix: "/api", storagePrefix: "/storage" });

  return {
    url: `${origin}/`,
    apiBase,
    storageBase,
    proxyBase: proxy ? `${origin}${PROXY_PREFIX}` : null,
    backend,
    mock,
    server,
    close() {
      return new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections?.();
        proxy?.close();
      });
    },
  };
}

/**
 * The request target as a URL on this server. An origin-form target is a path
 * even when it starts with "//" ("//evil.example/x" is not another host).
 */
function requestPath(target) {
  return new URL(`http://localhost${target.startsWith("/") ? "" : "/"}${target}`);
}

/** `base` is a real path; a file whose real path (symlinks followed) is outside it is not served. */
async function serveFile(req, res, url, base, rel) {
  if (rel === "" || rel.endsWith("/")) rel += "index.html";
  if (rel.includes("\0")) return send(res, 400, "text/plain; charset=utf-8", "bad path\n");
  let file = resolve(base, "." + rel);
  if (!inside(file, base)) return send(res, 403, "text/plain; charset=utf-8", "forbidden\n");
  let info;
  try {
    file = await realpath(file);
    info = await stat(file);
  } catch {
    return send(res, 404, "text/plain; charset=utf-8", "not found\n");
  }
  if (!inside(file, base) || SERVER_ONLY.has(file)) return send(res, 404, "text/plain; charset=utf-8", "not found\n");
  if (info.isDirectory()) return redirect(res, directoryLocation(url));
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

function inside(file, dir) {
  return file === dir || file.startsWith(dir + sep);
}

/**
 * Where a request for a directory is sent: its parsed path plus "/", never
 * built from the raw target, and never starting with "//" or "/\", which a
 * browser reads as another host.
 */
function directoryLocation(url) {
  return `/${url.pathname.replace(/^[/\\]+/, "")}/${url.search}`;
}

function redirect(res, location) {
  res.writeHead(301, { Location: location });
  res.end();
}

function send(res, status, type, body, headOnly = false) {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const port = process.env.PORT === undefined || process.env.PORT === "" ? 8080 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
    process.exit(2);
  }
  // An empty PULSE_API_KEY counts as unset: the mock.
  const apiKey = process.env.PULSE_API_KEY || undefined;
  const upstream = process.env.PULSE_UPSTREAM || DEFAULT_UPSTREAM;
  try {
    const demo = await startDemo({ port, apiKey, upstream });
    console.log(`pulse-jobs demo: ${demo.url}`);
    if (demo.proxyBase) {
      // Never the key itself: only that one is set.
      console.log(`  backend: the Pulse API ${demo.backend.upstream} through ${demo.proxyBase} (key from PULSE_API_KEY, added on the server)`);
      console.log(`  the mock stays at ${demo.apiBase}; Ctrl-C to stop`);
    } else {
      console.log(`  mock API ${demo.apiBase}, mock storage ${demo.storageBase}; Ctrl-C to stop`);
      console.log("  (set PULSE_API_KEY to use the real Pulse API through a proxy at /pulse)");
    }
    const stop = () => demo.close().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  } catch (err) {
    if (err instanceof MissingPackageError) {
      console.error(`pkg/ is missing: run make pkg first (looked for ${join(PKG_DIR, "web", "index.js")})`);
    } else if (err instanceof ProxyConfigError) {
      console.error(`demo server not started: ${err.message}`);
    } else {
      console.error(`demo server failed to start: ${err.message}`);
    }
    process.exit(1);
  }
}
