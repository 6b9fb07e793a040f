// Extracts one document with Pulse: submits it, waits with a progress bar on
// stderr, and writes the result as JSON.
//
//   PULSE_API_KEY=… node extract.js <file or https URL> [out.json]
//
// PULSE_BASE_URL points it at another API base URL (default: Pulse's).
import { openAsBlob } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { PulseError, submitJob, waitForJob } from "pulse-jobs";

const [input, out = "result.json"] = process.argv.slice(2);
if (!input) {
  console.error("usage: node extract.js <file or https URL> [out.json]");
  process.exit(2);
}
const options = { apiKey: process.env.PULSE_API_KEY, baseUrl: process.env.PULSE_BASE_URL };

/** A URL is sent as file_url (Pulse fetches it); a local file is uploaded. */
async function bodyFor(input) {
  if (/^https?:\/\//.test(input)) return { file_url: input };
  const form = new FormData();
  form.set("file", await openAsBlob(input), basename(input));
  return form;
}

// Pulse reports no percentage while it works, so the bar shows the stage
// (pending, processing, completed); a large result's download fills it by bytes.
const STAGES = { pending: 1, processing: 2, completed: 3 };
const WIDTH = 30;

function bar(fraction, label) {
  const filled = Math.round(Math.min(1, fraction) * WIDTH);
  process.stderr.write(`\r[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${label}`.padEnd(WIDTH + 50));
}

try {
  const { job_id } = await submitJob(await bodyFor(input), options);
  console.error(`job ${job_id}`);
  const job = await waitForJob(job_id, {
    ...options,
    onProgress(job, { attempt, elapsedMs }) {
      const stage = STAGES[job.status] ?? 1;
      bar(stage / 3, `${job.status} · poll ${attempt} · ${(elapsedMs / 1000).toFixed(1)} s`);
    },
    onDownloadProgress({ loaded, total }) {
      const mb = (n) => (n / 1e6).toFixed(1);
      bar(total ? loaded / total : 1, `downloading ${mb(loaded)}${total ? ` of ${mb(total)}` : ""} MB`);
    },
  });
  process.stderr.write("\n");
  await writeFile(out, JSON.stringify(job.result, null, 2));
  console.log(`${job_id}: ${job.status}, result written to ${out}`);
} catch (error) {
  process.stderr.write("\n");
  // A PulseError says what went wrong (code, retryable); it never holds the key.
  console.error(error instanceof PulseError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
}
