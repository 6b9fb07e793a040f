// Type-checked only (tsc --noEmit): the declarations as an ES-module app sees them.
import { cancelJob, getJob, preload, PulseClient, PulseError, waitForJob, waitForJobs, watchJob } from "pulse-jobs";
import type { ErrorCode, ExtractResult, Job, LargeResultPointer, ProgressInfo, WaitOptions } from "pulse-jobs";

const options: WaitOptions = {
  apiKey: "key",
  baseUrl: "https://api.runpulse.com",
  headers: { "x-trace": "1" },
  signal: new AbortController().signal,
  requestTimeoutMs: 30_000,
  initialDelayMs: 1000,
  maxDelayMs: 15_000,
  multiplier: 1.5,
  jitter: 0.2,
  timeoutMs: 0,
  maxRetries: 5,
  downloadResult: true,
  maxResultBytes: 50_000_000,
  cancelOnAbort: true,
  onProgress: (job: Job, info: ProgressInfo) => void [job.status, info.attempt, info.elapsedMs, info.nextDelayMs],
  onDownloadProgress: ({ loaded, total }) => void (loaded + (total ?? 0)),
};

export async function run(): Promise<string> {
  const job: Job = await waitForJob("job-1", options);
  const status: string = job.status;
  const same: Job<ExtractResult | LargeResultPointer> = await getJob(job.job_id, { apiKey: "key" });
  const { job_id, message } = await cancelJob(same.job_id);
  const client = new PulseClient({ apiKey: "key", fetch: globalThis.fetch });
  await client.waitForJob("job-2", { jitter: 0 });
  try {
    await client.getJob("job-3");
  } catch (error) {
    if (error instanceof PulseError) {
      const code: ErrorCode = error.code;
      const retry: boolean = error.retryable;
      return `${code} ${retry} ${error.httpStatus ?? ""} ${error.jobId ?? ""} ${error.job?.status ?? ""}`;
    }
  }
  return `${status} ${job_id} ${message}`;
}

export async function watch(): Promise<string[]> {
  const seen: string[] = [];
  try {
    for await (const job of watchJob("job-4", options)) seen.push(job.status);
    for await (const job of new PulseClient().watchJob("job-5")) seen.push(job.job_id);
  } catch (error) {
    if (error instanceof PulseError && error.cancelConfirmed !== undefined) seen.push(String(error.cancelConfirmed));
  }
  return seen;
}

export async function many(): Promise<number> {
  const settled = await waitForJobs(["a", "b"], { maxConcurrentRequests: 4, onJobSettled: (r, i) => void [r.status, i] });
  const client = new PulseClient({ maxConcurrentRequests: 2, maxRequestsPerSecond: 5 });
  const more = await client.waitForJobs(["c"]);
  return settled.filter((r) => r.status === "fulfilled" && r.value.job_id).length + more.length;
}

// @ts-expect-error TS2345 jobIds is an array
void waitForJobs("a");
// @ts-expect-error TS2769 cancelOnAbort is a boolean
void waitForJob("j", { cancelOnAbort: 1 });
// @ts-expect-error TS2322 a watch yields jobs, not strings
for await (const s of watchJob("j") as AsyncIterableIterator<Job>) { const n: number = s; void n; }

// @ts-expect-error TS2345 a job id is a string
void waitForJob(42);
// @ts-expect-error TS2769 jitter is a number
void waitForJob("j", { jitter: "0.2" });
// @ts-expect-error TS2353 getJob takes no polling options' callbacks
void getJob("j", { onProgress: () => {} });
// The wasm started ahead of the first call, from the package's copy or a host's module.
const started: Promise<void> = preload();
void [started, preload(new WebAssembly.Module(new Uint8Array(8))), preload(new Uint8Array(8))];
// @ts-expect-error TS2322 preload resolves with nothing to use
const notAJob: Promise<Job> = preload();
void notAJob;
// The runtime refused the wasm (docs/contract.md, "Loading").
const unavailable: ErrorCode = "WASM_UNAVAILABLE";
void unavailable;
// @ts-expect-error TS2322 no such error code
const wrong: ErrorCode = "NOT_A_CODE";
void wrong;
