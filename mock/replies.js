// Reply descriptors: plain data saying what the mock answers, written to the
// socket by http.js. Scenarios only build these; they never touch a response.
//
//   { kind: "send",     status, headers, body }  whole body with Content-Length
//   { kind: "chunked",  status, headers, body }  whole body, chunked (no Content-Length)
//   { kind: "stall",    status, headers, body }  headers (full Content-Length) + half the body, then nothing
//   { kind: "truncate", status, headers, body }  headers + half the body, then the socket is destroyed
//   { kind: "cut" }                              socket destroyed, no response at all
//   { kind: "hang" }                             no response; the socket stays open

const JSON_TYPE = "application/json";

export function bytes(status, body, headers = {}) {
  return { kind: "send", status, headers: { "content-type": JSON_TYPE, ...headers }, body };
}

export function json(status, value, headers = {}) {
  return bytes(status, Buffer.from(JSON.stringify(value)), headers);
}

export function text(status, body, contentType = "text/plain; charset=utf-8", headers = {}) {
  return { kind: "send", status, headers: { "content-type": contentType, ...headers }, body: Buffer.from(body) };
}

export const hang = () => ({ kind: "hang" });
export const cut = () => ({ kind: "cut" });
export const stall = (reply) => ({ ...reply, kind: "stall" });
export const truncate = (reply) => ({ ...reply, kind: "truncate" });
export const chunked = (reply) => ({ ...reply, kind: "chunked" });

export const notFound = (error = "Not found") => json(404, { error });

/** 204 No Content: no body, no Content-Type. */
export const noContent = () => ({ kind: "send", status: 204, headers: {}, body: Buffer.alloc(0) });

/** A redirect (302 by default) to `location`, with a small JSON body as S3/CDNs send. */
export function redirect(location, status = 302) {
  return json(status, { message: "Found", location }, { location });
}

/** A reply whose body is already compressed: `Content-Encoding` is set, Content-Length is the compressed size. */
export function encoded(reply, encoding, body) {
  return { ...reply, headers: { ...reply.headers, "content-encoding": encoding, vary: "Accept-Encoding" }, body };
}

export function methodNotAllowed(...allowed) {
  return json(405, { error: "Method not allowed" }, { allow: allowed.join(", ") });
}

const iso = (ms) => new Date(ms).toISOString();

/**
 * The JSON body of a job: `{ job_id, status, created_at, updated_at, error?, result? }`.
 * `result` may be a value or a Buffer of raw JSON (spliced in without re-encoding).
 */
export function jobPayload({ id, status, createdAt, now, error, result }) {
  const head = { job_id: id, status, created_at: iso(createdAt), updated_at: iso(now) };
  if (error !== undefined) head.error = error;
  const text = JSON.stringify(head);
  if (result === undefined) return Buffer.from(text);
  const raw = Buffer.isBuffer(result) ? result : Buffer.from(JSON.stringify(result));
  return Buffer.concat([Buffer.from(`${text.slice(0, -1)},"result":`), raw, Buffer.from("}")]);
}

/** A 200 job reply for the job in `ctx` (`{ id, state: { createdAt }, now }`). */
export function job(ctx, status, { error, result, headers } = {}) {
  const body = jobPayload({ id: ctx.id, status, createdAt: ctx.state.createdAt, now: ctx.now, error, result });
  return bytes(200, body, headers);
}
