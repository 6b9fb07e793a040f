// The pulse-jobs demo page. Imports the package's browser entry exactly as an
// app served from the same origin would; no init call is needed.
import { submitJob, waitForJob, cancelJob, preload, PulseError } from "/pulse-jobs/web/index.js";

import { formatBytes, formatInt, formatMs } from "./format.js";
import { renderJsonTree } from "./json-tree.js";
import { renderMarkdownPreview } from "./markdown.js";
import { Timeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const ui = {
  boot: $("boot"),
  introBackend: $("intro-backend"),
  backend: $("backend"),
  backendName: $("backend-name"),
  backendText: $("backend-text"),
  baseDefault: $("base-default"),
  keyField: $("key-field"),
  keyNote: $("key-note"),
  demoHeading: $("demo-h"),
  scenarioSet: $("scenario-set"),
  fileUrlField: $("file-url-field"),
  fileUrl: $("file-url"),
  demoHelp: $("demo-help"),
  jobIdHelp: $("job-id-help"),
  baseUrl: $("base-url"),
  useMock: $("use-mock"),
  cspNote: $("csp-note"),
  cspOrigin: $("csp-origin"),
  apiKey: $("api-key"),
  optInitial: $("opt-initial"),
  optMax: $("opt-max"),
  optTimeout: $("opt-timeout"),
  demoForm: $("demo-form"),
  start: $("start"),
  watchForm: $("watch-form"),
  jobId: $("job-id"),
  watch: $("watch"),
  run: $("run"),
  cancel: $("cancel"),
  state: $("state"),
  statusText: $("status-text"),
  factJob: $("fact-job"),
  factElapsed: $("fact-elapsed"),
  factPolls: $("fact-polls"),
  serverCancel: $("server-cancel"),
  cancelServer: $("cancel-server"),
  serverCancelResult: $("server-cancel-result"),
  download: $("download"),
  progress: $("download-progress"),
  downloadText: $("download-text"),
  downloadLabel: $("download-label"),
  error: $("error"),
  errorCode: $("error-code"),
  errorMessage: $("error-message"),
  errorExtra: $("error-extra"),
  errorJob: $("error-job"),
  errorJobTree: $("error-job-tree"),
  timeline: $("timeline"),
  result: $("result"),
  resultSummary: $("result-summary"),
  markdown: $("markdown"),
  json: $("json"),
  jsonTree: $("json-tree"),
};

/**
 * Which backend this page's server offers: GET /backend.json (a JSON file,
 * not an inline script, under this page's CSP). The embedded mock when the
 * server cannot say (an older server, static hosting).
 */
async function loadBackend() {
  const mock = { backend: "mock", baseUrl: "/api" };
  try {
    const res = await fetch("/backend.json", { cache: "no-store" });
    const info = res.ok ? await res.json() : null;
    if (info && info.backend === "pulse" && typeof info.baseUrl === "string" && info.baseUrl.startsWith("/")) return info;
  } catch {
    /* no backend.json: the mock */
  }
  return mock;
}

const backend = await loadBackend();
/** The real Pulse API through this server's proxy (which holds the key), not the mock. */
const PROXIED = backend.backend === "pulse";
const DEFAULT_BASE = new URL(backend.baseUrl, location.origin).href.replace(/\/+$/, "");
const timeline = new Timeline(ui.timeline);

/** The current run, or null. The API key lives here and in the input only. */
let run = null;
/** The last run that was aborted, kept for "Cancel the job on the server". */
let aborted = null;

// ---------------------------------------------------------------- connection

/** Label the backend; with the proxy, trade the mock's scenarios and key field for a file-URL submit. */
function showBackend() {
  ui.backend.dataset.backend = backend.backend;
  if (!PROXIED) return;
  const upstream = typeof backend.upstream === "string" ? backend.upstream : "the Pulse API";
  ui.introBackend.textContent = "This page's server forwards its requests to the real Pulse API and adds the key there.";
  ui.backendName.textContent = "Pulse API";
  ui.backendText.replaceChildren(
    `${upstream} through this server's proxy at `, code(backend.baseUrl),
    ". The server adds the API key; the browser never has it. Large results on the API's own origin are downloaded " +
      "through the proxy too; a result link on another origin (an S3 presigned URL) is blocked by this page's CSP.",
  );
  ui.baseDefault.replaceChildren("the Pulse API through this server's proxy (", code(backend.baseUrl), ")");
  ui.useMock.textContent = "Use the proxy";
  ui.keyField.hidden = true;
  ui.keyNote.hidden = false;
  ui.demoHeading.textContent = "Submit a document";
  ui.scenarioSet.hidden = true;
  ui.fileUrlField.hidden = false;
  ui.start.textContent = "Submit and wait";
  ui.demoHelp.replaceChildren("Submits ", code("POST /extract"), " with ", code("{ file_url, async: true }"),
    " through the proxy, then waits for the job.");
  ui.jobIdHelp.textContent = "Any job id of the Pulse account whose key this page's server holds.";
}

function code(text) {
  return Object.assign(document.createElement("code"), { textContent: text });
}

showBackend();
ui.baseUrl.value = DEFAULT_BASE;
ui.baseUrl.addEventListener("input", checkOrigin);
ui.useMock.addEventListener("click", () => {
  ui.baseUrl.value = DEFAULT_BASE;
  checkOrigin();
  ui.baseUrl.focus();
});

/** The origin of the base URL when it is another origin than this page's, else null. */
function foreignOrigin(value) {
  let url;
  try {
    url = new URL(value.trim());
  } catch {
    return null; // not a URL: the package reports INVALID_ARGUMENT for baseUrl
  }
  return url.origin === location.origin ? null : url.origin;
}

function checkOrigin() {
  const origin = foreignOrigin(ui.baseUrl.value);
  ui.cspNote.hidden = !origin;
  ui.cspOrigin.textContent = origin ?? "";
  return origin;
}

function connection() {
  const baseUrl = ui.baseUrl.value.trim() || DEFAULT_BASE;
  const apiKey = PROXIED ? "" : ui.apiKey.value.trim(); // the proxy adds the key
  return { baseUrl, apiKey: apiKey || undefined };
}

function number(input, fallback) {
  const n = input.valueAsNumber;
  return Number.isFinite(n) ? n : fallback;
}

function waitOptions() {
  const initialDelayMs = number(ui.optInitial, 500);
  return {
    initialDelayMs,
    maxDelayMs: Math.max(initialDelayMs, number(ui.optMax, 4000)),
    timeoutMs: number(ui.optTimeout, 600) * 1000,
  };
}

// A request the browser blocks by CSP surfaces as a network error; remember
// the violation so the error can say why.
let lastViolation = null;
document.addEventListener("securitypolicyviolation", (e) => {
  if (e.effectiveDirective === "connect-src") lastViolation = e.blockedURI;
});

// ---------------------------------------------------------------- requests seen by the browser

// Failed requests (a 503 that the package retries, ...) never reach onProgress;
// the Resource Timing API shows them without wrapping fetch.
const requestObserver = new PerformanceObserver((list) => {
  if (!run) return;
  for (const entry of list.getEntries()) {
    if (entry.initiatorType !== "fetch" || entry.startTime < run.perfStart) continue;
    const status = entry.responseStatus;
    if (status >= 200 && status < 400) continue;
    let path = entry.name;
    try {
      const u = new URL(entry.name);
      path = u.origin === location.origin ? u.pathname : `${u.origin}${u.pathname}`;
    } catch {
      /* keep the name */
    }
    const what = status ? `GET ${path} answered HTTP ${status}` : `GET ${path} failed (network error)`;
    timeline.event("net", what, performance.now() - run.perfStart);
  }
});
try {
  requestObserver.observe({ type: "resource", buffered: false });
} catch {
  /* Resource Timing unavailable: the timeline shows polls only */
}
setInterval(() => performance.clearResourceTimings(), 60000);

// ---------------------------------------------------------------- runs

ui.demoForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!PROXIED) {
    const scenario = new FormData(ui.demoForm).get("scenario");
    startRun({ scenario });
    return;
  }
  const fileUrl = ui.fileUrl.value.trim();
  if (!/^https?:\/\/\S+$/i.test(fileUrl)) {
    ui.fileUrl.setAttribute("aria-invalid", "true");
    ui.fileUrl.focus();
    return;
  }
  ui.fileUrl.removeAttribute("aria-invalid");
  startRun({ fileUrl });
});

ui.watchForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const jobId = ui.jobId.value.trim();
  if (!jobId) {
    ui.jobId.setAttribute("aria-invalid", "true");
    ui.jobId.focus();
    return;
  }
  ui.jobId.removeAttribute("aria-invalid");
  startRun({ jobId });
});

ui.cancel.addEventListener("click", () => {
  if (!run) return;
  run.controller.abort();
});

ui.cancelServer.addEventListener("click", async () => {
  if (!aborted) return;
  const { jobId, conn } = aborted;
  ui.cancelServer.disabled = true;
  ui.serverCancelResult.textContent = "Sending DELETE …";
  try {
    const answer = await cancelJob(jobId, { ...conn });
    ui.serverCancelResult.textContent = `Server: ${answer.message ?? "job canceled"} (${answer.job_id ?? jobId}).`;
    timeline.event("cancel", `DELETE /job/${jobId}: ${answer.message ?? "ok"}`, null);
    aborted = null;
  } catch (err) {
    ui.serverCancelResult.textContent = `Could not cancel the job: ${describe(err)}`;
    ui.cancelServer.disabled = false;
  }
});

// The wait in progress survives a reload: its state (job id, start, attempt;
// never the key) is kept in sessionStorage and handed back as `resume`.
const SAVED_WAIT = "pulse-jobs-demo:wait";
const savedWait = () => {
  try {
    return JSON.parse(sessionStorage.getItem(SAVED_WAIT));
  } catch {
    return null;
  }
};

async function startRun({ scenario, fileUrl, jobId, resume }) {
  if (run) return;
  if (checkOrigin()) {
    ui.cspNote.classList.add("flash");
    setTimeout(() => ui.cspNote.classList.remove("flash"), 1200);
    setState("blocked", `Not started: this page's Content-Security-Policy blocks requests to ${foreignOrigin(ui.baseUrl.value)}.`);
    ui.baseUrl.focus();
    return;
  }

  const conn = connection();
  const controller = new AbortController();
  run = { controller, jobId: jobId ?? null, conn, polls: 0, started: Date.now(), perfStart: performance.now(), tick: null };
  aborted = null;
  lastViolation = null;
  resetView();
  setBusy(true);
  ui.cancel.focus();
  run.tick = setInterval(updateElapsed, 200);

  try {
    if (scenario || fileUrl) {
      setState("submitting", scenario ? `Submitting a “${scenario}” demo job …` : `Submitting ${fileUrl} …`);
      // The mock picks the demo job's behaviour from `scenario`; the package adds `async: true`.
      const body = scenario ? { file_url: `https://files.example/${scenario}.pdf`, scenario } : { file_url: fileUrl };
      run.jobId = (await submitJob(body, { ...conn, signal: controller.signal })).job_id;
      ui.jobId.value = run.jobId;
      timeline.event("submit", `POST /extract (${scenario ?? "file_url"}) → job ${run.jobId}`, performance.now() - run.perfStart);
    }
    ui.factJob.textContent = run.jobId;
    setState("waiting", `Waiting for job ${run.jobId} …`);
    if (resume) {
      run.polls = resume.attempt;
      timeline.event("resume", `Resumed after a reload, from poll ${resume.attempt}`, null);
    }

    const job = await waitForJob(run.jobId, {
      ...conn,
      ...waitOptions(),
      signal: controller.signal,
      resume,
      onProgress,
      onDownloadProgress,
    });
    finishDownload();
    timeline.stopCountdown();
    showResult(job);
  } catch (err) {
    timeline.stopCountdown(err && err.code === "ABORTED" ? "next poll canceled" : "no further polls");
    showError(err);
  } finally {
    sessionStorage.removeItem(SAVED_WAIT);
    clearInterval(run.tick);
    updateElapsed();
    run = null;
    setBusy(false);
    if (document.activeElement === document.body || document.activeElement === ui.cancel) ui.run.focus();
  }
}

function onProgress(job, info) {
  if (!run) return;
  const skipped = info.attempt - run.polls - 1;
  if (skipped > 0) {
    timeline.event("retry", `${skipped} failed ${skipped === 1 ? "request was" : "requests were"} retried`, info.elapsedMs);
  }
  run.polls = info.attempt;
  sessionStorage.setItem(SAVED_WAIT, JSON.stringify(info.state));
  ui.factPolls.textContent = String(info.attempt);
  timeline.poll(job, info);
  const status = String(job.status);
  if (info.nextDelayMs == null) {
    if (status === "completed" && job.result && job.result.is_url === true) {
      setState("downloading", "Completed; downloading the large result …");
      timeline.event("download", "Result is stored by URL: downloading", info.elapsedMs);
    }
  } else {
    setState("waiting", `Job is ${status}; next poll in ${formatMs(info.nextDelayMs)}.`, status);
  }
}

let pendingProgress = null;
let progressFrame = 0;
function onDownloadProgress(p) {
  pendingProgress = p;
  ui.download.hidden = false;
  if (!progressFrame) progressFrame = requestAnimationFrame(paintProgress);
}

function paintProgress() {
  progressFrame = 0;
  const p = pendingProgress;
  if (!p) return;
  if (p.total != null && p.total > 0) {
    ui.progress.max = p.total;
    ui.progress.value = Math.min(p.loaded, p.total);
    const pct = Math.floor((Math.min(p.loaded, p.total) / p.total) * 100);
    ui.downloadText.textContent = `${formatBytes(p.loaded)} of ${formatBytes(p.total)} (${pct}%)`;
    ui.progress.dataset.percent = String(pct);
  } else {
    ui.progress.removeAttribute("value"); // indeterminate: no total known
    ui.downloadText.textContent = `${formatBytes(p.loaded)} (total unknown)`;
  }
}

function finishDownload() {
  if (progressFrame) cancelAnimationFrame(progressFrame);
  progressFrame = 0;
  paintProgress();
  if (pendingProgress) ui.downloadLabel.textContent = "Result downloaded";
  if (pendingProgress && pendingProgress.total == null) {
    ui.progress.max = 1;
    ui.progress.value = 1;
    ui.progress.dataset.percent = "100";
    ui.downloadText.textContent = `${formatBytes(pendingProgress.loaded)} (done)`;
  }
}

// ---------------------------------------------------------------- rendering

function setBusy(busy) {
  ui.start.disabled = busy;
  ui.watch.disabled = busy;
  ui.cancel.disabled = !busy;
  ui.run.setAttribute("aria-busy", String(busy));
}

function setState(state, text, label) {
  ui.state.dataset.state = state;
  ui.state.textContent = label ?? state;
  ui.statusText.textContent = text;
}

function updateElapsed() {
  if (run) ui.factElapsed.textContent = formatMs(Date.now() - run.started);
}

function resetView() {
  timeline.clear();
  ui.factJob.textContent = run?.jobId ?? "—";
  ui.factPolls.textContent = "0";
  ui.factElapsed.textContent = "0 ms";
  ui.error.hidden = true;
  ui.errorJob.hidden = true;
  ui.errorJob.open = false;
  ui.errorJobTree.replaceChildren();
  ui.serverCancel.hidden = true;
  ui.serverCancelResult.textContent = "";
  ui.cancelServer.disabled = false;
  ui.download.hidden = true;
  ui.downloadLabel.textContent = "Downloading the result";
  ui.progress.removeAttribute("value");
  ui.progress.removeAttribute("max");
  delete ui.progress.dataset.percent;
  ui.downloadText.textContent = "";
  pendingProgress = null;
  ui.result.hidden = true;
  ui.markdown.replaceChildren();
  ui.jsonTree.replaceChildren();
  ui.json.open = false;
}

function showResult(job) {
  const elapsed = Date.now() - run.started;
  setState("completed", `Completed after ${run.polls} ${run.polls === 1 ? "poll" : "polls"} in ${formatMs(elapsed)}.`);
  const result = job.result;
  const parts = [];
  if (pendingProgress) parts.push(`downloaded ${formatBytes(pendingProgress.loaded)}`);
  if (result && typeof result === "object" && result.page_count != null) parts.push(`${typeof result.page_count === "number" ? formatInt(result.page_count) : result.page_count} ${result.page_count === 1 ? "page" : "pages"}`);
  const markdown = result && typeof result.markdown === "string" ? result.markdown : null;
  if (markdown != null) parts.push(`${formatInt(markdown.length)} characters of markdown`);
  ui.resultSummary.textContent = parts.length ? `Result: ${parts.join(", ")}.` : "";

  if (markdown != null) renderMarkdownPreview(ui.markdown, markdown);
  else ui.markdown.replaceChildren(Object.assign(document.createElement("p"), { className: "help", textContent: "The result has no markdown field." }));
  renderJsonTree(ui.jsonTree, job, "job");
  ui.result.hidden = false;
}

function describe(err) {
  if (err instanceof PulseError || (err && err.code)) return `${err.code}: ${err.message}`;
  return String(err && err.message ? err.message : err);
}

function showError(err) {
  const code = err && typeof err.code === "string" ? err.code : "ERROR";
  const stateByCode = { JOB_FAILED: "failed", JOB_CANCELED: "canceled", JOB_EXPIRED: "expired", ABORTED: "aborted" };
  const state = stateByCode[code] ?? "error";
  const text = {
    failed: "The job failed.",
    canceled: "The job was canceled.",
    expired: "The job has expired.",
    aborted: "The wait was aborted: no further requests are sent.",
  }[state] ?? "The wait stopped with an error.";
  setState(state, text);

  ui.errorCode.textContent = code;
  ui.errorMessage.textContent = err && err.message ? err.message : String(err);
  const extra = [];
  if (err instanceof PulseError) {
    if (err.httpStatus != null) extra.push(`HTTP status ${err.httpStatus}`);
    extra.push(err.retryable ? "retryable: the same call may succeed later" : "not retryable");
    if (err.jobId) extra.push(`job ${err.jobId}`);
  }
  if (lastViolation && code === "NETWORK_ERROR") {
    extra.push(`the browser blocked a request to ${lastViolation} by this page's Content-Security-Policy (connect-src)`);
    if (PROXIED) extra.push("only links on the Pulse API's own origin go through this server's proxy");
  }
  ui.errorExtra.textContent = extra.join(" · ");
  ui.error.hidden = false;
  ui.error.dataset.code = code;

  if (code === "ABORTED" && run && run.jobId) {
    aborted = { jobId: run.jobId, conn: run.conn };
    ui.serverCancel.hidden = false;
    timeline.event("abort", "Wait aborted by the user", performance.now() - run.perfStart);
  }
  if (err && err.job && typeof err.job === "object") {
    renderJsonTree(ui.errorJobTree, err.job, "job");
    ui.errorJob.hidden = false;
  }
}

// ---------------------------------------------------------------- ready

checkOrigin();
ui.start.disabled = false;
ui.watch.disabled = false;
ui.boot.hidden = true;
document.documentElement.dataset.ready = "true";
// The wasm starts now rather than on the first click; where the browser
// refuses it (a CSP without 'wasm-unsafe-eval'), the page says why.
preload().catch((error) => {
  ui.boot.hidden = false;
  ui.boot.className = "boot error";
  ui.boot.textContent = error.message;
});
const saved = savedWait();
if (saved && typeof saved.jobId === "string") {
  ui.jobId.value = saved.jobId;
  startRun({ jobId: saved.jobId, resume: saved });
}
