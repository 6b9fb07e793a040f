// Type declarations of pulse-jobs, matching its contract (docs/contract.md).

/** Waits until the job ends; resolves with it when `completed` (large results downloaded). */
export function waitForJob(jobId: string, options?: WaitOptions): Promise<Job>;
/** Reads the job once, as the API sent it (a large-result pointer stays a pointer). */
export function getJob(jobId: string, options?: RequestOptions): Promise<Job>;
/** Cancels a pending or processing job (`DELETE /job/{jobId}`). */
export function cancelJob(jobId: string, options?: RequestOptions): Promise<CancelResult>;
/**
 * Submits a job: `POST {baseUrl}{endpoint}` (default "/extract") with
 * `async: true` added, one attempt like `getJob`. Resolves with the API's
 * answer: `{ job_id, status }`, or `{ batch_job_id, status, total_files }`
 * from a batch endpoint.
 */
export function submitJob(body: SubmitBody, options?: SubmitOptions): Promise<Submitted>;
/**
 * Submits a job, then waits for it as `waitForJob` does (all its options but
 * `resume`), and resolves with the finished job. `timeoutMs` counts from the
 * call, the submission included; a rejection after the submission carries
 * the new job's id as `jobId`.
 */
export function runJob(body: SubmitBody, options?: RunOptions): Promise<Job>;
/**
 * Every state of a job as it comes: the job after each poll. A completed job
 * is the last value (its large result downloaded); a failed, canceled or
 * expired job is yielded, then the iteration throws the `PulseError` that
 * `waitForJob` would reject with. Bad input throws on the first `next()`;
 * `break` (or `return()`) stops polling at once.
 */
export function watchJob(jobId: string, options?: WaitOptions): JobWatch;

/**
 * Waits for many jobs at once, through a scheduler of this call's own (caps
 * from `maxConcurrentRequests`, default 8, and `maxRequestsPerSecond`), and
 * resolves with every outcome in input order; it never rejects for a job's
 * failure. A `jobIds` that is not an array, or a bad option, rejects
 * INVALID_ARGUMENT; an invalid id settles its own entry as rejected.
 */
export function waitForJobs(jobIds: readonly string[], options?: WaitForJobsOptions): Promise<PromiseSettledResult<Job>[]>;

export interface WaitForJobsOptions extends WaitOptions, Caps {
  /** Each job's outcome as it settles, with its index in `jobIds`. */
  onJobSettled?: (result: PromiseSettledResult<Job>, index: number) => void;
}

/** Limits that hold across every call of a client (or of one top-level `waitForJobs`). */
export interface Caps {
  /** Requests in flight at once: polls, downloads, getJob, cancelJob; default 8. */
  maxConcurrentRequests?: number;
  /** Request starts per second, spaced evenly; default: no limit. */
  maxRequestsPerSecond?: number;
}

/** `watchJob`'s iterator; `state` is where the wait is, for `resume`. */
export interface JobWatch extends AsyncIterableIterator<Job> {
  /** The latest poll's `info.state`; undefined before the first poll. */
  readonly state: WaitState | undefined;
}

/**
 * Where a wait is: small and JSON-serialisable, to keep (in `sessionStorage`,
 * say) and pass back as `resume` after a reload. It holds no key.
 */
export interface WaitState {
  jobId: string;
  /** When the wait began, in ms since the epoch. */
  startedAt: number;
  /** Polls sent so far. */
  attempt: number;
}

/**
 * What a job is made from: a plain object, sent as JSON (`{ file_url }`, say),
 * or a `FormData`, sent as multipart (a `file` part, for an upload; in Node a
 * `Blob` from `fs.openAsBlob`). `async` is always sent as true; the caller's
 * value is not changed.
 */
export type SubmitBody = FormData | { file_url?: string; [field: string]: unknown };

export interface SubmitOptions extends RequestOptions {
  /** The path under baseUrl: "/extract" (default), "/split", "/schema", "/tables", "/batch/extract"... */
  endpoint?: string;
}

export interface RunOptions extends Omit<WaitOptions, "resume">, SubmitOptions {}

/** The API's answer to a submission. */
export type Submitted =
  | { job_id: string; status: JobStatus | (string & {}); message?: string; [field: string]: unknown }
  | { batch_job_id: string; status: JobStatus | (string & {}); total_files: number; [field: string]: unknown };

/** Holds options for every call; per-call options override them (headers merge by name). */
export class PulseClient {
  /** @throws {PulseError} `INVALID_ARGUMENT` at once when an option (caps included) is invalid. */
  constructor(options?: ClientOptions & Caps);
  waitForJob(jobId: string, options?: WaitOptions): Promise<Job>;
  getJob(jobId: string, options?: RequestOptions): Promise<Job>;
  cancelJob(jobId: string, options?: RequestOptions): Promise<CancelResult>;
  submitJob(body: SubmitBody, options?: SubmitOptions): Promise<Submitted>;
  runJob(body: SubmitBody, options?: RunOptions): Promise<Job>;
  watchJob(jobId: string, options?: WaitOptions): JobWatch;
  /** `waitForJobs` through this client's scheduler (its caps, not the call's). */
  waitForJobs(jobIds: readonly string[], options?: WaitOptions & Pick<WaitForJobsOptions, "onJobSettled">): Promise<PromiseSettledResult<Job>[]>;
  /**
   * Releases the client's wasm memory early; optional (it is also freed when
   * garbage-collected). Later calls reject with `INVALID_ARGUMENT`; a second
   * `free()` does nothing. `Symbol.dispose` does the same, for `using`.
   */
  free(): void;
}

/** Every rejection of this package, except exceptions thrown by your own callbacks. */
export class PulseError extends Error {
  /** "PulseError", or "AbortError" when `code` is "ABORTED". */
  name: "PulseError" | "AbortError";
  code: ErrorCode;
  jobId?: string;
  /** The HTTP status of the last failed answer. */
  httpStatus?: number;
  /** The job as last polled, on JOB_FAILED, JOB_CANCELED and JOB_EXPIRED. */
  job?: Job;
  /** True when the same call may succeed if made again later. */
  retryable: boolean;
  /**
   * The exception behind the error: the signal's `reason` for ABORTED, the
   * platform's error for a failed connection, or what an option getter, a
   * custom `fetch` or its Response threw.
   */
  cause?: unknown;
  /**
   * Only on a wait given up with `cancelOnAbort` (ABORTED or TIMEOUT after a
   * poll was sent): true when the server answered the cancel with a 2xx.
   */
  cancelConfirmed?: boolean;
}

export interface ClientOptions {
  /** Sent as `x-api-key`, only to baseUrl's origin. */
  apiKey?: string;
  /** Default "https://api.runpulse.com"; may carry a path prefix. */
  baseUrl?: string;
  /** Extra headers for API requests (baseUrl's origin only). */
  headers?: Record<string, string>;
  /** Default: globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

export interface RequestOptions extends ClientOptions {
  signal?: AbortSignal;
  /** Per HTTP attempt, in ms; default 30000. */
  requestTimeoutMs?: number;
}

export interface WaitOptions extends RequestOptions {
  /** Delay after the first poll, in ms; default 1000. */
  initialDelayMs?: number;
  /** Cap of the backoff, in ms; default max(15000, initialDelayMs). Retry-After may exceed it. */
  maxDelayMs?: number;
  /** Default 1.5. */
  multiplier?: number;
  /** 0..1, default 0.2: each delay is drawn from [base * (1 - jitter), base]. */
  jitter?: number;
  /** The whole wait, in ms; default 1800000 (30 min); 0 = no limit. */
  timeoutMs?: number;
  /** Consecutive transient failures tolerated; default 5. */
  maxRetries?: number;
  /** Fetch `is_url` results; default true. */
  downloadResult?: boolean;
  /** Largest result accepted, in bytes; default: no limit. */
  maxResultBytes?: number;
  /**
   * When the wait is given up (the signal aborts, `timeoutMs` passes, or a
   * watch is stopped), send `DELETE /job/{jobId}` once before settling, so
   * that no billed job is left running; default false.
   */
  cancelOnAbort?: boolean;
  /**
   * Go on with the wait whose `state` this is (from `onProgress` or a watch):
   * the first poll is sent at once, the backoff continues from its attempt,
   * and `timeoutMs` counts from its start. Another job's state, or a
   * malformed one, is INVALID_ARGUMENT.
   */
  resume?: WaitState;
  /** After every successful poll, the terminal one included (`nextDelayMs` is then null). */
  onProgress?: (job: Job, info: ProgressInfo) => void;
  /** As a large result downloads. */
  onDownloadProgress?: (progress: DownloadProgress) => void;
}

export interface ProgressInfo {
  /** Poll requests sent so far, from 1. */
  attempt: number;
  elapsedMs: number;
  /** The delay scheduled before the next poll, Retry-After included; null when polling ended. */
  nextDelayMs: number | null;
  /** Where the wait is, for `resume`. */
  state: WaitState;
}

export interface DownloadProgress {
  loaded: number;
  /** From Content-Length; null when the server did not say. */
  total: number | null;
}

export type JobStatus = "pending" | "processing" | "completed" | "failed" | "canceled" | "expired";

export interface Job {
  job_id: string;
  status: JobStatus | (string & {});
  created_at?: string;
  updated_at?: string;
  result?: any;
  error?: string;
}

export interface CancelResult {
  job_id: string;
  message: string;
}

export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "JOB_FAILED"
  | "JOB_CANCELED"
  | "JOB_EXPIRED"
  | "TIMEOUT"
  | "ABORTED"
  | "HTTP_ERROR"
  | "NETWORK_ERROR"
  | "INVALID_RESPONSE"
  | "RESULT_TOO_LARGE"
  | "RESULT_DOWNLOAD_FAILED";
