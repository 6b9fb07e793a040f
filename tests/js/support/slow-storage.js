// The mock (createMock from mock/server.js) with a slow storage side: every
// result download is dripped in `chunkBytes` pieces, one each `intervalMs`,
// so that a client's download progress (the CLI's progress bar) is visible
// for a while. The API side and the request log are the mock's own.

import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./package.js";

/** Makes `res.end(body)` send a large body in timed pieces (headers, Content-Length included, go as written). */
function throttle(res, { chunkBytes, intervalMs }) {
  const end = res.end.bind(res);
  let timer;
  res.on("close", () => clearTimeout(timer));
  res.end = (body, ...rest) => {
    if (!Buffer.isBuffer(body) || body.length <= chunkBytes) return end(body, ...rest);
    let at = 0;
    const next = () => {
      if (res.destroyed) return;
      if (at >= body.length) return end();
      res.write(body.subarray(at, (at += chunkBytes)));
      timer = setTimeout(next, intervalMs);
    };
    next();
    return res;
  };
}

export async function startSlowStorageMock({ chunkBytes = 64 * 1024, intervalMs = 25 } = {}) {
  const { createMock } = await import(pathToFileURL(path.join(repoRoot, "mock", "server.js")).href);
  let mock;
  const api = http.createServer((req, res) => mock.handleApi(req, res));
  const storage = http.createServer((req, res) => {
    throttle(res, { chunkBytes, intervalMs });
    mock.handleStorage(req, res);
  });
  await Promise.all([api, storage].map((s) => new Promise((r) => s.listen(0, "127.0.0.1", r))));
  const apiUrl = `http://127.0.0.1:${api.address().port}`;
  const storageUrl = `http://127.0.0.1:${storage.address().port}`;
  mock = createMock({ apiBase: apiUrl, storageBase: storageUrl });
  const close = async () => {
    for (const s of [api, storage]) {
      s.closeAllConnections?.();
      await new Promise((r) => s.close(() => r()));
    }
  };
  return { apiUrl, storageUrl, mock, close };
}
