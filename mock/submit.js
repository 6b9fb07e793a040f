// Job submissions: POST /extract, /split, /schema, /tables (one job) and
// POST /batch/<anything> (a batch, polled on /job/{batch_job_id} like a job),
// as JSON or multipart/form-data, asynchronous only. This module reads and
// checks the body and names the scenario; handlers.js creates the job.
//
// The body's `scenario` chooses what the job does, so tests stay
// deterministic: a demo name (time-driven, demo.js) or any job id the scenario
// table understands (scenarios.js), default `quick`.

import { randomUUID } from "node:crypto";
import { DEMO_SCENARIO_NAMES, isDemoScenario, newDemoJobId } from "./demo.js";
import { BodyTooLargeError, readRawBody } from "./http.js";
import { json } from "./replies.js";
import { findScenario } from "./scenarios.js";

const MB = 1024 * 1024;
export const JSON_LIMIT_BYTES = 1 * MB;
export const MULTIPART_LIMIT_BYTES = 16 * MB; // room for a real document upload
export const DEFAULT_SCENARIO = "quick";

const SINGLE_PATHS = new Set(["/extract", "/split", "/schema", "/tables"]);
const BATCH_PATH = /^\/batch\/.+/;

/** `{ batch }` when `pathname` is a submission endpoint, else null. */
export function submissionRoute(pathname) {
  if (SINGLE_PATHS.has(pathname)) return { batch: false };
  if (BATCH_PATH.test(pathname)) return { batch: true };
  return null;
}

// ---- reading the two body kinds ---------------------------------------------------

const isFile = (value) => typeof value !== "string"; // FormData values are strings or Files
const nonEmptyString = (value) => typeof value === "string" && value !== "";

/** What the log keeps of a multipart value: the string, or a file's description (never its bytes). */
function describeValue(value) {
  return isFile(value) ? { filename: value.name, size: value.size, type: value.type } : value;
}

// name -> value; a name sent more than once (several `file` parts) -> an array, in order.
function describeForm(form) {
  const fields = {};
  for (const name of new Set(form.keys())) {
    const values = form.getAll(name).map(describeValue);
    fields[name] = values.length === 1 ? values[0] : values;
  }
  return fields;
}

function fromJson(raw) {
  let body;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return { error: "The body is not valid JSON" };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return { error: "The body must be a JSON object" };
  return {
    submission: {
      record: { kind: "json", async: body.async === true, fields: body },
      files: nonEmptyString(body.file_url) ? 1 : 0,
      scenario: body.scenario ?? DEFAULT_SCENARIO,
    },
  };
}

async function fromMultipart(raw, contentType) {
  let form;
  try {
    // Node's built-in undici parses multipart; no dependency needed.
    form = await new Request("http://mock/", { method: "POST", headers: { "content-type": contentType }, body: raw }).formData();
  } catch {
    return { error: "The multipart/form-data body could not be parsed (boundary missing or body malformed)" };
  }
  const files = form.getAll("file").filter(isFile).length + form.getAll("file_url").filter(nonEmptyString).length;
  return {
    submission: {
      record: { kind: "multipart", async: form.get("async") === "true", fields: describeForm(form) },
      files,
      scenario: form.get("scenario") ?? DEFAULT_SCENARIO,
    },
  };
}

const READERS = {
  "application/json": { limit: JSON_LIMIT_BYTES, parse: fromJson },
  "multipart/form-data": { limit: MULTIPART_LIMIT_BYTES, parse: fromMultipart },
};

const mediaType = (header = "") => header.split(";")[0].trim().toLowerCase();

// ---- checking and choosing the scenario ---------------------------------------------

export const UNKNOWN_SCENARIO_HELP =
  `name a demo scenario (${DEMO_SCENARIO_NAMES.join(", ")}) or a job id of the mock's scenario table ` +
  "(e.g. ok, steps_3, flaky_2, large_100000, failed; see mock/README.md)";

/** `{ demo: name }`, `{ table: id }`, or null when the name means nothing to the mock. */
export function chooseScenario(name) {
  if (typeof name !== "string" || name === "") return null;
  if (isDemoScenario(name)) return { demo: name }; // exact demo names win over the table's slow/large/flaky
  return findScenario(name) ? { table: name } : null;
}

// The table scenario's id plus `-sub-<8 hex>`: parseJobId reads the scenario from
// the part before the first `-`, so the suffix only lands in the nonce, and each
// submission gets its own job state (poll and download counters).
export function submittedJobId(choice) {
  if (choice.demo) return newDemoJobId(choice.demo);
  return `${choice.table}-sub-${randomUUID().slice(0, 8)}`;
}

function problemOf(submission) {
  if (!submission.record.async) {
    return 'The mock only accepts asynchronous submissions: JSON "async": true, or the multipart field async=true';
  }
  if (submission.files === 0) return "Either file or file_url must be provided";
  return null;
}

/**
 * Reads and checks a submission (`batch`: to a /batch/ endpoint). Returns
 * `{ record, reply }` when it is refused (`record` is null when the body could
 * not be read), else `{ record, choice, files }`. `record` is what the log
 * keeps of the body.
 */
export async function readSubmission(req, { batch = false } = {}) {
  const contentType = req.headers["content-type"];
  const reader = READERS[mediaType(contentType)];
  if (!reader) {
    const error = `Unsupported content type ${JSON.stringify(contentType ?? "(none)")}: send application/json or multipart/form-data`;
    return { record: null, reply: json(415, { error }) };
  }
  let raw;
  try {
    raw = await readRawBody(req, reader.limit);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    return { record: null, reply: json(413, { error: `The body is larger than the mock accepts (${error.limit / MB} MB for ${mediaType(contentType)})` }) };
  }
  const { submission, error } = await reader.parse(raw, contentType);
  if (error) return { record: null, reply: json(400, { error }) };
  const { record } = submission;
  const problem = problemOf(submission);
  if (problem) return { record, reply: json(400, { error: problem }) };
  const choice = chooseScenario(submission.scenario);
  if (!choice) {
    const named = typeof submission.scenario === "string" ? JSON.stringify(submission.scenario) : "(not a string)";
    return { record, reply: json(400, { error: `Unknown scenario ${named}: ${UNKNOWN_SCENARIO_HELP}` }) };
  }
  return { record, choice, files: submission.files };
}
