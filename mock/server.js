// Entry point of the mock: createMock (re-exported), startMock (two servers =
// two origins), mountMock (both sides on one origin, for the demo), and the
// standalone command `node mock/server.js`.

import http from "node:http";
import https from "node:https";
import { pathToFileURL } from "node:url";
import { createMock } from "./handlers.js";
import { splitUrl } from "./http.js";

export { createMock };

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

// Stops accepting, destroys every open socket (hanging and stalled responses
// included) and resolves once the server is closed.
function stop(server) {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function originOf(server, host, scheme) {
  const { port } = server.address();
  const name = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `${scheme}://${name.includes(":") ? `[${name}]` : name}:${port}`;
}

/**
 * Starts the API and the storage side on two ports (two origins).
 * `tls: { key, cert }` (PEM) serves both over https instead of http;
 * `plainStorageBase` is passed to createMock (where `dlredirect_http` points).
 * @returns {Promise<{ apiUrl: string, storageUrl: string, mock: object, close: () => Promise<void> }>}
 */
export async function startMock({ host = "127.0.0.1", apiPort = 0, storagePort = 0, tls = null, plainStorageBase } = {}) {
  let mock = null;
  const create = (listener) => (tls ? https.createServer({ key: tls.key, cert: tls.cert }, listener) : http.createServer(listener));
  const scheme = tls ? "https" : "http";
  const api = create((req, res) => mock.handleApi(req, res));
  const storage = create((req, res) => mock.handleStorage(req, res));
  const close = () => Promise.all([stop(api), stop(storage)]).then(() => undefined);
  try {
    await listen(api, apiPort, host);
    await listen(storage, storagePort, host);
  } catch (error) {
    await close();
    throw error;
  }
  const apiUrl = originOf(api, host, scheme);
  const storageUrl = originOf(storage, host, scheme);
  mock = createMock({ apiBase: apiUrl, storageBase: storageUrl, plainStorageBase });
  return { apiUrl, storageUrl, mock, close };
}

function strip(prefix, pathname) {
  if (pathname === prefix) return "/";
  return pathname.startsWith(`${prefix}/`) ? pathname.slice(prefix.length) : null;
}

/**
 * A request listener part serving both sides under path prefixes of one
 * origin. Returns true when it handled the request. Create the mock with
 * `apiBase: origin + apiPrefix` and `storageBase: origin + storagePrefix`.
 */
export function mountMock(mock, { apiPrefix = "/api", storagePrefix = "/storage" } = {}) {
  return (req, res) => {
    const { pathname } = splitUrl(req);
    const apiPath = strip(apiPrefix, pathname);
    if (apiPath !== null) {
      mock.handleApi(req, res, apiPath);
      return true;
    }
    const storagePath = strip(storagePrefix, pathname);
    if (storagePath !== null) {
      mock.handleStorage(req, res, storagePath);
      return true;
    }
    return false;
  };
}

function portFromEnv(name) {
  const value = process.env[name] ?? "0";
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number, got ${value}`);
  return port;
}

async function main() {
  const running = await startMock({
    host: process.env.HOST || "127.0.0.1",
    apiPort: portFromEnv("API_PORT"),
    storagePort: portFromEnv("STORAGE_PORT"),
  });
  console.log(`Pulse mock API:     ${running.apiUrl}`);
  console.log(`Pulse mock storage: ${running.storageUrl}`);
  const shutdown = () => running.close().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`pulse mock: ${error.message}`);
    process.exit(1);
  });
}
