// The app: import the package as any web app would, wait for two jobs of the
// mock API given at run time (?api=<base URL>&nonce=<id suffix>) and write the
// outcome into the page. tests/browser/bundlers.test.js copies it into each
// fixture (vite/, webpack/) as main.js.
import { waitForJob, PulseError } from "pulse-jobs";

const params = new URLSearchParams(location.search);
const baseUrl = params.get("api");
const nonce = params.get("nonce") || "0";
const options = { baseUrl, apiKey: "fixture-key", initialDelayMs: 50, maxDelayMs: 200, timeoutMs: 20000 };

async function wait(jobId) {
  try {
    const job = await waitForJob(jobId, options);
    return {
      ok: true,
      job: {
        job_id: job.job_id,
        status: job.status,
        markdown: typeof job.result?.markdown === "string" ? job.result.markdown.slice(0, 40) : null,
        page_count: job.result?.page_count ?? null,
      },
    };
  } catch (error) {
    return {
      ok: false,
      error: {
        isPulseError: error instanceof PulseError,
        isError: error instanceof Error,
        name: error?.name,
        code: error?.code,
        message: String(error?.message ?? error),
        jobId: error?.jobId,
        jobStatus: error?.job?.status,
        retryable: error?.retryable,
      },
    };
  }
}

async function main() {
  const outcome = {
    completed: await wait(`steps_2-${nonce}`),
    failed: await wait(`failed-${nonce}`),
  };
  document.getElementById("result").textContent = JSON.stringify(outcome, null, 2);
  document.getElementById("status").textContent = outcome.completed.ok ? "completed job received" : "the wait failed";
  document.documentElement.dataset.done = "true";
}

main().catch((error) => {
  document.getElementById("status").textContent = `error: ${error}`;
  document.documentElement.dataset.done = "error";
});
