// The local Pulse mock (mock/server.js, see mock/CONTRACT.md) plus helpers to
// read what it recorded. One mock per test file; every test uses its own job
// ids (jid()), so concurrent tests never share state.

import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./package.js";

const serverModule = () => import(pathToFileURL(path.join(repoRoot, "mock", "server.js")).href);

let counter = 0;
const runTag = `${Date.now().toString(36)}${process.pid.toString(36)}`;
/** Unique id for a scenario: jid("steps_3") -> "steps_3-<nonce>". */
export function jid(scenario, extra = "") {
  counter += 1;
  return `${scenario}-t${runTag}n${counter}${extra}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function decorate(m) {
  const { mock } = m;
  const matches = (id) => (r) => r.jobId === id;
  return {
    ...m,
    /** Every recorded request for this job id, on either side. */
    requestsFor: (id) => mock.requests.filter(matches(id)),
    /** API-side requests (polls, DELETEs, proxy downloads) for this id. */
    apiFor: (id) => mock.requests.filter((r) => r.side === "api" && matches(id)(r)),
    /** Polls (GET /job/...) for this id. */
    pollsFor: (id) =>
      mock.requests.filter((r) => r.side === "api" && r.method === "GET" && matches(id)(r) && r.path.startsWith("/job/")),
    /** Storage-side requests for this id. */
    storageFor: (id) => mock.requests.filter((r) => r.side === "storage" && matches(id)(r)),
    /** Waits (up to ms) until pred(records) holds; returns the last records. */
    async waitFor(id, pred, ms = 2000) {
      const end = Date.now() + ms;
      let recs = mock.requests.filter(matches(id));
      while (!pred(recs) && Date.now() < end) {
        await sleep(10);
        recs = mock.requests.filter(matches(id));
      }
      return recs;
    },
  };
}

/** startMock() from mock/server.js, decorated with the helpers above. */
export async function startMockServer() {
  const { startMock } = await serverModule();
  return decorate(await startMock());
}

/**
 * The mock's handlers mounted under a path prefix on the API side, e.g.
 * baseUrl "http://127.0.0.1:PORT/pfx/v1". Built from createMock().
 */
export async function startPrefixedMock(prefix = "/pfx/v1") {
  const { createMock } = await serverModule();
  let handlers;
  const api = http.createServer((req, res) => {
    const pathname = new URL(req.url, "http://x").pathname;
    if (!pathname.startsWith(prefix + "/")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `outside prefix: ${pathname}` }));
      return;
    }
    handlers.handleApi(req, res, pathname.slice(prefix.length));
  });
  const storage = http.createServer((req, res) => handlers.handleStorage(req, res, new URL(req.url, "http://x").pathname));
  await Promise.all([api, storage].map((s) => new Promise((r) => s.listen(0, "127.0.0.1", r))));
  const apiUrl = `http://127.0.0.1:${api.address().port}${prefix}`;
  const storageUrl = `http://127.0.0.1:${storage.address().port}`;
  handlers = createMock({ apiBase: apiUrl, storageBase: storageUrl });
  return decorate({
    apiUrl,
    storageUrl,
    mock: handlers,
    close: async () => {
      for (const s of [api, storage]) {
        s.closeAllConnections?.();
        await new Promise((r) => s.close(() => r()));
      }
    },
  });
}

/**
 * The load that `recs` put on the mock: the most requests in flight at once
 * (from arrival to the response's close) and the most arrivals in any second
 * (a window 10 ms short of one, for timer and loopback jitter).
 */
export function load(recs) {
  const edges = recs.flatMap((r) => [[r.at, 1], [r.end ?? Infinity, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  let maxInFlight = 0;
  for (const [, step] of edges) maxInFlight = Math.max(maxInFlight, (inFlight += step));
  const starts = recs.map((r) => r.at).sort((a, b) => a - b);
  let maxPerSecond = 0;
  for (let i = 0, j = 0; j < starts.length; j += 1) {
    while (starts[j] - starts[i] >= 990) i += 1;
    maxPerSecond = Math.max(maxPerSecond, j - i + 1);
  }
  return { maxInFlight, maxPerSecond };
}

/** Gaps in ms between consecutive records. */
export const gaps = (recs) => recs.slice(1).map((r, i) => r.at - recs[i].at);
