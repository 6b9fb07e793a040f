// HTTP plumbing: CORS headers, preflights, request bodies, and writing reply
// descriptors (see replies.js) to a Node ServerResponse.

const EMPTY = Buffer.alloc(0);
const CHUNK_BYTES = 256 * 1024;

/** Set on a response whose socket the mock destroyed on purpose (not the client leaving). */
export const CUT_BY_MOCK = Symbol("pulse-mock.cutByMock");

export function applyCors(res) {
  res.setHeader("access-control-allow-origin", "*");
  res.setHeader("access-control-expose-headers", "Retry-After, Content-Length, Content-Encoding");
}

/** The answer to an OPTIONS preflight: any requested header, GET/POST/DELETE. */
export function preflight(req) {
  const headers = { "access-control-allow-methods": "GET, POST, DELETE, OPTIONS" };
  const requested = req.headers["access-control-request-headers"];
  if (requested) headers["access-control-allow-headers"] = requested;
  if (req.headers["access-control-request-private-network"] === "true") {
    headers["access-control-allow-private-network"] = "true";
  }
  return { kind: "send", status: 204, headers, body: EMPTY };
}

/** The path and query of a request, e.g. "/job/ok?x=1" (`search` is "" or starts with "?"). */
export function splitUrl(req) {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? { pathname: url, search: "" } : { pathname: url.slice(0, q), search: url.slice(q) };
}

/** Thrown by readRawBody when the body is larger than its limit. */
export class BodyTooLargeError extends Error {
  constructor(limit) {
    super(`request body larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/**
 * Reads a request body into a Buffer. Past `limit` bytes it stops keeping
 * data but still reads to the end, then rejects with BodyTooLargeError: a
 * client still uploading would see a reset instead of the 413 if the mock
 * answered mid-upload.
 */
export function readRawBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let length = 0;
    req.on("data", (chunk) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
    });
    req.on("end", () => (length > limit ? reject(new BodyTooLargeError(limit)) : resolve(Buffer.concat(chunks))));
    req.on("error", reject);
    // A client leaving mid-upload never sends "end"; settle so nothing waits forever.
    req.on("close", () => {
      if (!req.complete) reject(new Error("the client left before sending the whole body"));
    });
  });
}

function destroyByMock(res) {
  res[CUT_BY_MOCK] = true;
  res.socket?.destroy();
}

function bodyFor(status, body) {
  return status === 204 || status === 304 ? EMPTY : body;
}

function sendWhole(res, { status, headers, body }) {
  const payload = bodyFor(status, body);
  // A 204 carries no Content-Length (RFC 9110 8.6); everything else gets the exact one.
  res.writeHead(status, status === 204 ? headers : { ...headers, "content-length": payload.length });
  res.end(payload);
}

function waitForDrain(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

async function sendChunked(res, { status, headers, body }) {
  res.writeHead(status, headers); // no Content-Length: Node uses chunked transfer encoding
  for (let at = 0; at < body.length && !res.destroyed; at += CHUNK_BYTES) {
    if (!res.write(body.subarray(at, at + CHUNK_BYTES))) await waitForDrain(res);
  }
  if (!res.destroyed) res.end();
}

// Headers announce the whole body, then only the first half is written.
function sendHalf(res, { status, headers, body }, afterwards) {
  res.writeHead(status, { ...headers, "content-length": body.length });
  res.write(body.subarray(0, Math.floor(body.length / 2)), afterwards);
}

/** Writes a reply descriptor. Returns a promise only for chunked bodies. */
export function writeReply(res, reply) {
  switch (reply.kind) {
    case "send":
      return sendWhole(res, reply);
    case "chunked":
      return sendChunked(res, reply);
    case "stall":
      return sendHalf(res, reply);
    case "truncate":
      return sendHalf(res, reply, () => destroyByMock(res));
    case "cut":
      return destroyByMock(res);
    case "hang":
      return undefined;
    default:
      throw new Error(`unknown reply kind ${reply.kind}`);
  }
}

/** Last resort when building a reply threw: 500, or drop the socket if headers went out. */
export function writeFailure(res, error) {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify({ error: `mock failure: ${error?.message ?? error}` }));
  res.writeHead(500, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}
