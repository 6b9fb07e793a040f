// Drives worker.js. Tests call window.pulseWorker.run(jobId, options).
const $ = (id) => document.getElementById(id);
const ui = { form: $("form"), jobId: $("job-id"), run: $("run"), state: $("state"), text: $("status-text"), log: $("log") };

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let seq = 0;

let markReady;
const ready = new Promise((ok) => (markReady = ok));

function log(text, cls = "tl-poll") {
  const li = document.createElement("li");
  li.className = cls;
  const what = document.createElement("span");
  what.className = "tl-what";
  what.textContent = text;
  li.append(what);
  ui.log.append(li);
}

function setState(state, text) {
  ui.state.dataset.state = state;
  ui.state.textContent = state;
  ui.text.textContent = text;
}

worker.addEventListener("error", (e) => {
  setState("error", `The worker failed to start: ${e.message || "could not load the module or the package"}`);
  document.documentElement.dataset.ready = "failed";
  markReady({ type: "error", message: e.message || "worker error" });
});

worker.addEventListener("message", (e) => {
  const msg = e.data;
  if (msg.type === "ready") {
    setState("idle", `Worker ready (${msg.scope}).`);
    ui.run.disabled = false;
    document.documentElement.dataset.ready = "true";
    markReady(msg);
    return;
  }
  const entry = pending.get(msg.id);
  if (!entry) return;
  if (msg.type === "progress") {
    entry.progress.push({ status: msg.status, ...msg.info });
    log(`${entry.jobId}: poll ${msg.info.attempt}: ${msg.status}`);
    return;
  }
  if (msg.type === "done") {
    pending.delete(msg.id);
    if (msg.ok) {
      const r = msg.job.result;
      const md = r && typeof r.markdown === "string" ? r.markdown.length : null;
      setState("completed", `Job ${msg.job.job_id} completed in the worker${md != null ? ` (${md} characters of markdown)` : ""}.`);
    } else {
      setState("error", `Worker wait failed: ${msg.error.code}: ${msg.error.message}`);
    }
    log(`${entry.jobId}: ${msg.ok ? "completed" : msg.error.code}`, msg.ok ? "tl-download" : "tl-net");
    window.pulseWorker.last = msg;
    // A small summary (a 20 MB job stays in the page, in pulseWorker.last).
    const r = msg.ok ? msg.job.result : undefined;
    entry.resolve({
      ok: msg.ok,
      error: msg.error,
      download: msg.download,
      progress: entry.progress,
      job: msg.ok
        ? {
            job_id: msg.job.job_id,
            status: msg.job.status,
            resultKeys: r && typeof r === "object" ? Object.keys(r) : null,
            markdownLength: r && typeof r.markdown === "string" ? r.markdown.length : null,
            resultIsUrl: !!(r && r.is_url),
          }
        : null,
    });
  }
});

/**
 * Run waitForJob in the worker. Resolves with a summary of the worker's "done"
 * message plus the progress it reported. `abortAfterMs` aborts the wait (via an
 * AbortController inside the worker) after that many milliseconds.
 */
function run(jobId, options = {}, { abortAfterMs } = {}) {
  const id = ++seq;
  setState("waiting", `Waiting for ${jobId} in the worker …`);
  if (abortAfterMs != null) setTimeout(() => worker.postMessage({ type: "abort", id }), abortAfterMs);
  return new Promise((resolve) => {
    pending.set(id, { resolve, progress: [], jobId });
    worker.postMessage({
      type: "wait",
      id,
      jobId,
      options: { baseUrl: `${location.origin}/api`, initialDelayMs: 100, maxDelayMs: 500, ...options },
    });
  });
}

window.pulseWorker = { ready, run, last: null };

ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  run(ui.jobId.value.trim());
});
