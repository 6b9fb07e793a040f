// The plain objects the wasm hands to JS, built as literals in one call each:
// from Rust, every property was a `Reflect.set` through the boundary with its
// key decoded from wasm memory, and a fresh object changed shape at each one.
// Only presentation lives here; Rust decides every value.

/** `fetch`'s second argument; `headers` and `body` are left out when undefined. */
export function requestInit(method, headers, body, signal, manual) {
  const init = { method, signal, redirect: manual ? "manual" : "follow" };
  if (headers !== undefined) init.headers = headers;
  if (body !== undefined) init.body = body;
  return init;
}

/** `onProgress`'s second argument. */
export function progressInfo(attempt, elapsedMs, nextDelayMs, jobId, startedAt, stateAttempt) {
  return { attempt, elapsedMs, nextDelayMs, state: { jobId, startedAt, attempt: stateAttempt } };
}

/** The details of a `PulseError`, for the error factory; `undefined` means absent. */
export function errorDetails(code, jobId, httpStatus, retryable, job, cause, cancelConfirmed, serverCode, serverDetails) {
  return { code, jobId, httpStatus, retryable, job, cause, cancelConfirmed, serverCode, serverDetails };
}
