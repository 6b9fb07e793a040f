// createMock: the request handlers of both sides (API and storage), the job
// state and the request log. The handlers know nothing about ports or mount
// points: result URLs are built from `apiBase` and `storageBase`.

import { demoScenario } from "./demo.js";
import { applyCors, preflight, splitUrl, writeFailure, writeReply } from "./http.js";
import { createRecorder } from "./recorder.js";
import { json, methodNotAllowed, notFound } from "./replies.js";
import { deleteReply, downloadReply, findScenario, pollReply } from "./scenarios.js";
import { readSubmission, submissionRoute, submittedJobId } from "./submit.js";

const JOB_PATH = /^\/job\/([^/]+)$/;
const PROXY_PATH = /^\/proxy\/result\/([^/]+)$/;
const LARGE_RESULTS_PATH = /^\/large_results\/([^/]+)$/; // Pulse's own single-use result link
const RESULT_PATH = /^\/result\/([^/]+)$/;

function matchId(pattern, pathname) {
  const match = pathname.match(pattern);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

function apiRoute(pathname) {
  if (pathname === "/__mock/requests") return { name: "requests", control: true };
  if (pathname === "/__mock/reset") return { name: "reset", control: true };
  const submission = submissionRoute(pathname);
  if (submission) return { name: "submit", batch: submission.batch, jobId: null };
  const jobId = matchId(JOB_PATH, pathname);
  if (jobId !== null) return { name: "job", jobId };
  const proxied = matchId(PROXY_PATH, pathname) ?? matchId(LARGE_RESULTS_PATH, pathname);
  if (proxied !== null) return { name: "proxy", jobId: proxied };
  return { name: "unknown", jobId: null };
}

function storageRoute(pathname) {
  const jobId = matchId(RESULT_PATH, pathname);
  return jobId !== null ? { name: "result", jobId } : { name: "unknown", jobId: null };
}

// Builds the reply (maybe asynchronously), writes it, and notes the status.
function serve(res, entry, makeReply) {
  return Promise.resolve()
    .then(makeReply)
    .then((reply) => {
      const written = writeReply(res, reply);
      if (entry) entry.status = res.headersSent ? res.statusCode : null;
      return written;
    })
    .catch((error) => writeFailure(res, error));
}

// storageBase with the scheme forced to plain http (same host and port).
function plainHttp(base) {
  const url = new URL(base);
  url.protocol = "http:";
  return url.href.replace(/\/$/, "");
}

/**
 * @param {{ apiBase: string, storageBase: string, plainStorageBase?: string, now?: () => number }} options
 *   apiBase/storageBase: absolute URLs (no trailing slash) the two handlers are reachable at.
 *   plainStorageBase: where `dlredirect_http` sends its redirect (a plain-http storage origin;
 *     default: storageBase with the scheme replaced by `http:`).
 *   now: clock for job times and the demo timelines (default Date.now; tests may fake it).
 */
export function createMock({ apiBase, storageBase, plainStorageBase = plainHttp(storageBase), now = Date.now }) {
  const recorder = createRecorder();
  const jobs = new Map(); // job id -> { createdAt, polls, downloads, canceled, demo? (demo scenario name) }

  function reset() {
    recorder.clear();
    jobs.clear();
  }

  function lookup(id) {
    const state = jobs.get(id);
    if (state?.demo) return { scenario: demoScenario(state.demo), args: [] };
    return findScenario(id);
  }

  function stateOf(id, time) {
    if (!jobs.has(id)) jobs.set(id, { createdAt: time, polls: 0, downloads: 0, canceled: false });
    return jobs.get(id);
  }

  function context(req, id, found, extra = {}) {
    const time = now();
    const state = stateOf(id, time);
    return {
      id, args: found.args, state, now: time, headers: req.headers,
      apiBase, storageBase, plainStorageBase, ...extra,
    };
  }

  function jobReply(req, id) {
    if (req.method !== "GET" && req.method !== "DELETE") return methodNotAllowed("GET", "DELETE");
    const found = lookup(id);
    if (!found) return notFound("Job not found");
    const ctx = context(req, id, found);
    if (req.method === "DELETE") return deleteReply(found.scenario, ctx);
    ctx.state.polls += 1;
    return pollReply(found.scenario, { ...ctx, poll: ctx.state.polls, download: ctx.state.downloads });
  }

  function resultReply(req, id, search, side) {
    if (req.method !== "GET") return methodNotAllowed("GET");
    const found = lookup(id);
    if (!found) return notFound("Result not found");
    const token = new URLSearchParams(search).get("token");
    const ctx = context(req, id, found, { token, side });
    ctx.state.downloads += 1;
    return downloadReply(found.scenario, { ...ctx, poll: ctx.state.polls, download: ctx.state.downloads });
  }

  // A fresh id for the chosen scenario, never one with state already (a test
  // may have polled a look-alike id), so submissions never share counters.
  function createJob(choice) {
    let id;
    do id = submittedJobId(choice);
    while (jobs.has(id));
    jobs.set(id, { createdAt: now(), polls: 0, downloads: 0, canceled: false, demo: choice.demo });
    return id;
  }

  // A JSON body's `mock_answer` (a table scenario id) answers the POST with
  // that scenario's first poll reply (cut, hang, slow_3000, status_503, ...),
  // after the job was created: a submission whose answer is lost.
  function answerFault(record, id, headers) {
    const answer = record.kind === "json" ? record.fields.mock_answer : undefined;
    const found = typeof answer === "string" ? findScenario(answer) : null;
    if (!found) return null;
    const ctx = { id, args: found.args, state: jobs.get(id), poll: 1, download: 0, now: now(), headers, apiBase, storageBase, plainStorageBase };
    return found.scenario.poll(ctx);
  }

  async function submitReply(req, route, entry) {
    if (req.method !== "POST") return methodNotAllowed("POST");
    const { record, reply, choice, files } = await readSubmission(req, { batch: route.batch });
    entry.body = record; // refused submissions too, so a test sees what its client sent
    if (reply) return reply;
    const id = createJob(choice);
    entry.jobId = id;
    const fault = answerFault(record, id, req.headers);
    if (fault) return fault;
    if (route.batch) return json(202, { batch_job_id: id, status: "pending", total_files: files });
    const name = choice.demo ?? choice.table;
    return json(202, { job_id: id, status: "pending", message: `Mock job submitted (scenario ${name})` });
  }

  function controlReply(req, route, search) {
    if (req.method === "OPTIONS") return preflight(req);
    if (route.name === "requests") {
      if (req.method !== "GET") return methodNotAllowed("GET");
      const query = new URLSearchParams(search);
      return json(200, recorder.list({ job: query.get("job"), side: query.get("side") }));
    }
    if (req.method !== "POST") return methodNotAllowed("POST");
    reset();
    return json(200, { ok: true });
  }

  function apiReply(req, route, search, entry) {
    if (req.method === "OPTIONS") return preflight(req);
    if (req.headers["x-api-key"] === "wrong") return json(401, { error: "Invalid API key" });
    if (route.name === "job") return jobReply(req, route.jobId);
    if (route.name === "proxy") return resultReply(req, route.jobId, search, "api");
    if (route.name === "submit") return submitReply(req, route, entry);
    return notFound();
  }

  function storageReply(req, route, search) {
    if (req.method === "OPTIONS") return preflight(req);
    if (route.name === "result") return resultReply(req, route.jobId, search, "storage");
    return notFound();
  }

  /** Handles a request to the API side; `pathname` has any mount prefix stripped. */
  function handleApi(req, res, pathname = splitUrl(req).pathname) {
    const { search } = splitUrl(req);
    const route = apiRoute(pathname);
    applyCors(res);
    if (route.control) return serve(res, null, () => controlReply(req, route, search));
    const entry = recorder.record("api", req, res, { path: pathname + search, jobId: route.jobId });
    return serve(res, entry, () => apiReply(req, route, search, entry));
  }

  /** Handles a request to the storage side (presigned result URLs). */
  function handleStorage(req, res, pathname = splitUrl(req).pathname) {
    const { search } = splitUrl(req);
    const route = storageRoute(pathname);
    applyCors(res);
    const entry = recorder.record("storage", req, res, { path: pathname + search, jobId: route.jobId });
    return serve(res, entry, () => storageReply(req, route, search));
  }

  return { handleApi, handleStorage, requests: recorder.requests, reset };
}
