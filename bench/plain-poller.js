// The baseline: a careful hand-written JS poller, as an app would write it
// without pulse-jobs. Same options and schedule as the package (first poll at
// once, then min(maxDelayMs, initialDelayMs × multiplier^(n−1)) jittered down
// by up to `jitter`, at least Retry-After seconds), transient failures retried
// up to maxRetries in a row, an AbortSignal that stops the sleep and the fetch
// in flight, and the `{ is_url: true, url }` result downloaded with fetch +
// json(), the key sent only to baseUrl's origin. Not here: the overall
// deadline, download retries, redirect and size checks. Per-request timeouts
// only when `requestTimeoutMs` is given: `make bench`'s baseline gives the
// package's own (which it always has; bench/baselines.js), and its second
// column leaves them out, to show what they cost.
const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);
const TERMINAL = new Set(["failed", "canceled", "cancelled", "expired"]);

const aborted = (signal) => new DOMException("The wait was aborted", "AbortError", { cause: signal.reason });

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A request's own signal, aborted by the caller's or when `ms` pass before
 * `done()`, as the package bounds each request. */
function timedSignal(ms, signal) {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException("The request timed out", "TimeoutError")), ms);
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

/** Downloads the result; `bound()` gives the request its signal. */
async function download(job, baseUrl, headers, bound) {
  const url = new URL(job.result.url);
  const sameOrigin = url.origin === new URL(baseUrl).origin;
  const request = bound();
  try {
    const response = await fetch(url, { headers: sameOrigin ? headers : {}, signal: request.signal });
    if (!response.ok) throw new Error(`result download: HTTP ${response.status}`);
    job.result = await response.json();
    return job;
  } finally {
    request.done();
  }
}

export async function plainWaitForJob(jobId, options = {}) {
  const { apiKey, baseUrl = "https://api.runpulse.com", signal, onProgress, requestTimeoutMs } = options;
  const { initialDelayMs = 1000, multiplier = 1.5, jitter = 0.2, maxRetries = 5 } = options;
  const maxDelayMs = options.maxDelayMs ?? Math.max(15000, initialDelayMs);
  const headers = apiKey ? { "x-api-key": apiKey } : {};
  const url = `${baseUrl}/job/${encodeURIComponent(jobId)}`;
  const untimed = { signal, done() {} };
  const bound = () => (requestTimeoutMs ? timedSignal(requestTimeoutMs, signal) : untimed);
  let failures = 0;
  for (let attempt = 1; ; attempt += 1) {
    let response = null;
    const request = bound();
    try {
      response = await fetch(url, { headers, signal: request.signal, redirect: "manual" });
    } catch (error) {
      request.done();
      if (signal?.aborted || ++failures > maxRetries) throw error; // network errors are retried
    }
    if (response?.ok) {
      failures = 0;
      let job;
      try {
        job = await response.json();
      } finally {
        request.done();
      }
      if (job.status === "completed") return job.result?.is_url === true ? download(job, baseUrl, headers, bound) : job;
      if (TERMINAL.has(job.status)) throw new Error(`job ${job.status}: ${job.error ?? ""}`);
      onProgress?.(job, { attempt });
    } else if (response) {
      await response.body?.cancel();
      request.done();
      if (!TRANSIENT.has(response.status) || ++failures > maxRetries) throw new Error(`HTTP ${response.status}`);
    }
    const base = Math.min(maxDelayMs, initialDelayMs * multiplier ** (attempt - 1));
    const retryAfterMs = Number(response?.headers.get("retry-after")) * 1000 || 0;
    const delay = Math.max(retryAfterMs, base * (1 - jitter * Math.random()));
    if (delay > 0) await sleep(delay, signal); // as the package: a zero delay sets no timer
  }
}
