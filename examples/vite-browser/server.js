// Serves the built page (dist/) and proxies /pulse/* to the Pulse API,
// adding the key on the server: the page never sees it. Plain Node 20+, no
// dependencies. Put your own user authentication in front of /pulse/:
// whoever can call it spends your Pulse account.
//
//   PULSE_API_KEY=… node server.js        (PORT, PULSE_BASE_URL optional)
import { createReadStream, existsSync, statSync } from "node:fs";
import http from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const API = (process.env.PULSE_BASE_URL ?? "https://api.runpulse.com").replace(/\/+$/, "");
const KEY = process.env.PULSE_API_KEY; // stays on the server
const DIST = fileURLToPath(new URL("./dist/", import.meta.url));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".svg": "image/svg+xml" };

if (!KEY) {
  console.error("set PULSE_API_KEY");
  process.exit(1);
}

/** Forwards a /pulse/* request to the API with the key; only the API's origin is ever contacted. */
async function proxy(req, res, path, search) {
  let upstream;
  try {
    upstream = await fetch(API + path + search, {
      method: req.method,
      // Only what the API needs: never the browser's cookies or headers.
      headers: { "x-api-key": KEY, accept: "application/json", "content-type": req.headers["content-type"] ?? "application/json" },
      body: req.method === "POST" ? req : undefined, // JSON or multipart, streamed as is
      duplex: "half",
      redirect: "manual", // a redirect elsewhere must not get the key
    });
  } catch {
    return res.writeHead(502, { "content-type": "application/json" }).end('{"error":"Pulse API unreachable"}');
  }
  const type = upstream.headers.get("content-type") ?? "application/json";
  let body = Buffer.from(await upstream.arrayBuffer());
  // A large result is a link on the API's origin that needs the key: send it through here too.
  if (path.startsWith("/job/") && upstream.ok && type.includes("json")) {
    let job = null;
    try {
      job = JSON.parse(body);
    } catch {} // not JSON after all: passed on as it is
    const url = job?.result?.is_url === true ? String(job.result.url) : "";
    if (url.startsWith(`${API}/`)) {
      job.result.url = `http://${req.headers.host}/pulse${url.slice(API.length)}`; // https behind your TLS proxy
      body = Buffer.from(JSON.stringify(job));
    }
  }
  const headers = { "content-type": type, "cache-control": "no-store" };
  if (upstream.headers.has("retry-after")) headers["retry-after"] = upstream.headers.get("retry-after");
  res.writeHead(upstream.status, headers).end(body);
}

/** Serves a file of dist/ (index.html for "/"). */
function serveFile(res, pathname) {
  const file = join(DIST, normalize(pathname === "/" ? "/index.html" : pathname)); // never above dist/
  if (!file.startsWith(DIST) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end("not found");
  res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
  createReadStream(file).pipe(res);
}

http
  .createServer((req, res) => {
    const { pathname, search } = new URL(req.url, "http://x"); // dot segments are resolved here
    if (pathname.startsWith("/pulse/") && ["GET", "POST", "DELETE"].includes(req.method)) {
      return proxy(req, res, pathname.slice("/pulse".length), search);
    }
    if (req.method === "GET") return serveFile(res, pathname);
    res.writeHead(405).end();
  })
  .listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? "127.0.0.1", function () {
    console.log(`http://${process.env.HOST ?? "127.0.0.1"}:${this.address().port}`);
  });
