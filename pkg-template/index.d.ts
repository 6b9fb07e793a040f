// Type declarations of pulse-jobs, matching its contract (docs/contract.md).

/**
 * Waits until the job ends; resolves with it when `completed`, its large
 * result downloaded. Name the result's type as `R` (default `ExtractResult`,
 * what `/extract` produces). With `downloadResult: false` the result may
 * stay a `LargeResultPointer`.
 */
export function waitForJob<R = ExtractResult>(jobId: string, options: WaitOptions<R> & NoDownload): Promise<Job<R | LargeResultPointer>>;
export function waitForJob<R = ExtractResult>(jobId: string, options?: WaitOptions<R>): Promise<Job<R>>;
/** Reads the job once, as the API sent it: a large result stays a `LargeResultPointer`. */
export function getJob<R = ExtractResult>(jobId: string, options?: RequestOptions): Promise<Job<R | LargeResultPointer>>;
/** Cancels a pending or processing job (`DELETE /job/{jobId}`). */
export function cancelJob(jobId: string, options?: RequestOptions): Promise<CancelResult>;
/**
 * Submits a job: `POST {baseUrl}{endpoint}` (default "/extract") with
 * `async: true` added, one attempt like `getJob`. Resolves with the API's
 * answer, typed by the `endpoint` literal: `SubmittedJob`, or a batch's
 * answer from "/batch/..." (`Submitted` lists them).
 */
export function submitJob<E extends string = "/extract">(body: SubmitBody, options?: SubmitOptions<E>): Promise<Submitted<E>>;
/**
 * Submits a job, then waits for it as `waitForJob` does (all its options but
 * `resume`), and resolves with the finished job. `timeoutMs` counts from the
 * call, the submission included; a rejection after the submission carries
 * the new job's id as `jobId`.
 */
export function runJob<R = ExtractResult>(body: SubmitBody, options: RunOptions<R> & NoDownload): Promise<Job<R | LargeResultPointer>>;
export function runJob<R = ExtractResult>(body: SubmitBody, options?: RunOptions<R>): Promise<Job<R>>;
/**
 * Every state of a job as it comes: the job after each poll. A completed job
 * is the last value (its large result downloaded); a failed, canceled or
 * expired job is yielded, then the iteration throws the `PulseError` that
 * `waitForJob` would reject with. Bad input throws on the first `next()`;
 * `break` (or `return()`) stops polling at once.
 */
export function watchJob<R = ExtractResult>(jobId: string, options: WaitOptions<R> & NoDownload): JobWatch<R | LargeResultPointer>;
export function watchJob<R = ExtractResult>(jobId: string, options?: WaitOptions<R>): JobWatch<R>;

/**
 * Waits for many jobs at once, through a scheduler of this call's own (caps
 * from `maxConcurrentRequests`, default 8, and `maxRequestsPerSecond`), and
 * resolves with every outcome in input order; it never rejects for a job's
 * failure. A `jobIds` that is not an array, or a bad option, rejects
 * INVALID_ARGUMENT; an invalid id settles its own entry as rejected.
 */
export function waitForJobs<R = ExtractResult>(
  jobIds: readonly string[],
  options: WaitForJobsOptions<R | LargeResultPointer> & NoDownload,
): Promise<PromiseSettledResult<Job<R | LargeResultPointer>>[]>;
export function waitForJobs<R = ExtractResult>(jobIds: readonly string[], options?: WaitForJobsOptions<R>): Promise<PromiseSettledResult<Job<R>>[]>;

/**
 * Starts the wasm now instead of on the first call, and resolves once it runs
 * (nothing starts at import). Given a `WebAssembly.Module` (of any realm) or
 * its bytes, for instance `pulse-jobs/pulse_jobs.wasm` imported by a host's
 * own bundler, it starts from that instead of the package's copy; once the
 * wasm runs, later arguments are ignored. Rejects WASM_UNAVAILABLE where the
 * runtime refuses the wasm; the next call tries again.
 */
export function preload(wasm?: WebAssembly.Module | BufferSource): Promise<void>;

/** `downloadResult: false`: a large result is left as the pointer the API sent. */
export interface NoDownload {
  downloadResult: false;
}

export interface WaitForJobsOptions<R = ExtractResult> extends WaitOptions<R>, Caps {
  /** Each job's outcome as it settles, with its index in `jobIds`. */
  onJobSettled?(result: PromiseSettledResult<Job<R>>, index: number): void;
}

/** Limits that hold across every call of a client (or of one top-level `waitForJobs`). */
export interface Caps {
  /** Requests in flight at once: polls, downloads, getJob, cancelJob; default 8. */
  maxConcurrentRequests?: number;
  /** Request starts per second, spaced evenly; default: no limit. */
  maxRequestsPerSecond?: number;
}

/** `watchJob`'s iterator; `state` is where the wait is, for `resume`. */
export interface JobWatch<R = ExtractResult> extends AsyncIterableIterator<Job<R>> {
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

/** `E` is the endpoint's literal, which types the answer (`Submitted<E>`). */
export interface SubmitOptions<E extends string = string> extends RequestOptions {
  /** The path under baseUrl: "/extract" (default), "/split", "/schema", "/tables", "/batch/extract"... */
  endpoint?: E;
}

export interface RunOptions<R = ExtractResult> extends Omit<WaitOptions<R>, "resume">, SubmitOptions {}

/**
 * The API's answer to a submission to endpoint `E`: the answer of that
 * endpoint when `E` is one of `SubmittedByEndpoint`'s, a `BatchSubmitted`
 * for another "/batch/..." path, a `SubmittedJob` for any other path, and
 * any of them when the endpoint is not a literal.
 */
export type Submitted<E extends string = string> = string extends E
  ? SubmittedByEndpoint[keyof SubmittedByEndpoint] | BatchSubmitted
  : E extends keyof SubmittedByEndpoint
    ? SubmittedByEndpoint[E]
    : E extends `/batch/${string}`
      ? BatchSubmitted
      : SubmittedJob;

/** The answer of each endpoint Pulse documents (pulse-ts-sdk 1.0.16, generated from Pulse's API definition). */
export interface SubmittedByEndpoint {
  "/extract": SubmittedJob;
  "/split": SubmittedJob;
  "/schema": SubmittedJob;
  "/tables": SubmittedJob;
  "/batch/extract": BatchExtractSubmitted;
  "/batch/schema": BatchSchemaSubmitted;
  "/batch/split": BatchSplitSubmitted;
  "/batch/tables": BatchTablesSubmitted;
}

/** A job accepted for asynchronous processing (pulse-ts-sdk: `AsyncSubmissionResponse`); poll it by `job_id`. */
export interface SubmittedJob {
  job_id: string;
  status: JobStatus | (string & {});
  /** A human-readable description of the accepted job. */
  message?: string;
  /** Credits this request consumed; only when the organisation bills by credits. */
  credits_used?: number | null;
  /** Never on a single job's answer: tells it apart from a batch's. */
  batch_job_id?: never;
  [field: string]: unknown;
}

/** A batch accepted; poll it by `batch_job_id` (`waitForJob(batch_job_id)`). */
export interface BatchSubmitted {
  batch_job_id: string;
  status: JobStatus | (string & {});
  /** Never on a batch's answer: wait on `batch_job_id`. */
  job_id?: never;
  [field: string]: unknown;
}

/** `/batch/extract`'s answer (pulse-ts-sdk: `BatchExtractResponse`). */
export interface BatchExtractSubmitted extends BatchSubmitted {
  /** Files the batch will process. */
  total_files: number;
}

/** `/batch/schema`'s answer (pulse-ts-sdk: `BatchSchemaResponse`): one of the two counts, by mode. */
export interface BatchSchemaSubmitted extends BatchSubmitted {
  /** Extractions to process (single mode). */
  total_extractions?: number;
  /** Splits to process (split mode). */
  total_splits?: number;
}

/** `/batch/split`'s answer (pulse-ts-sdk: `BatchSplitResponse`). */
export interface BatchSplitSubmitted extends BatchSubmitted {
  /** Extractions to process. */
  total_extractions: number;
}

/** `/batch/tables`'s answer (pulse-ts-sdk: `BatchTablesResponse`). */
export interface BatchTablesSubmitted extends BatchSubmitted {
  /** Extractions to process. */
  total_extractions: number;
}

/** Holds options for every call; per-call options override them (headers merge by name). */
export class PulseClient {
  /** @throws {PulseError} `INVALID_ARGUMENT` at once when an option (caps included) is invalid. */
  constructor(options?: ClientOptions & Caps);
  waitForJob<R = ExtractResult>(jobId: string, options: WaitOptions<R> & NoDownload): Promise<Job<R | LargeResultPointer>>;
  waitForJob<R = ExtractResult>(jobId: string, options?: WaitOptions<R>): Promise<Job<R>>;
  getJob<R = ExtractResult>(jobId: string, options?: RequestOptions): Promise<Job<R | LargeResultPointer>>;
  cancelJob(jobId: string, options?: RequestOptions): Promise<CancelResult>;
  submitJob<E extends string = "/extract">(body: SubmitBody, options?: SubmitOptions<E>): Promise<Submitted<E>>;
  runJob<R = ExtractResult>(body: SubmitBody, options: RunOptions<R> & NoDownload): Promise<Job<R | LargeResultPointer>>;
  runJob<R = ExtractResult>(body: SubmitBody, options?: RunOptions<R>): Promise<Job<R>>;
  watchJob<R = ExtractResult>(jobId: string, options: WaitOptions<R> & NoDownload): JobWatch<R | LargeResultPointer>;
  watchJob<R = ExtractResult>(jobId: string, options?: WaitOptions<R>): JobWatch<R>;
  /** `waitForJobs` through this client's scheduler (its caps, not the call's). */
  waitForJobs<R = ExtractResult>(
    jobIds: readonly string[],
    options: ClientWaitForJobsOptions<R | LargeResultPointer> & NoDownload,
  ): Promise<PromiseSettledResult<Job<R | LargeResultPointer>>[]>;
  waitForJobs<R = ExtractResult>(jobIds: readonly string[], options?: ClientWaitForJobsOptions<R>): Promise<PromiseSettledResult<Job<R>>[]>;
  /**
   * Releases the client's wasm memory early; optional (it is also freed when
   * garbage-collected). Later calls reject with `INVALID_ARGUMENT`; a second
   * `free()` does nothing. `Symbol.dispose` does the same, for `using`.
   */
  free(): void;
}

/** A client's `waitForJobs` options: its caps are the client's. */
export type ClientWaitForJobsOptions<R = ExtractResult> = WaitOptions<R> & Pick<WaitForJobsOptions<R>, "onJobSettled">;

/** Every rejection of this package, except exceptions thrown by your own callbacks. */
export class PulseError extends Error {
  /** "PulseError", or "AbortError" when `code` is "ABORTED". */
  name: "PulseError" | "AbortError";
  code: ErrorCode;
  jobId?: string;
  /** The HTTP status of the last failed answer. */
  httpStatus?: number;
  /**
   * The job as last polled, on JOB_FAILED, JOB_CANCELED and JOB_EXPIRED. Its
   * `result`, if any, is not an extraction (an expired job's is Pulse's
   * retention stub), hence `unknown`.
   */
  job?: Job<unknown>;
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
  /**
   * The machine-readable `code` of Pulse's error body
   * (`{ error: { code, message, details } }`), to branch on; cleaned as the
   * message is. Absent when the answer had no such body.
   */
  serverCode?: string;
  /** That body's `details`, when given, with the key and header values redacted as in the message. */
  serverDetails?: unknown;
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

/** `R` is the result's type (see `waitForJob`). */
export interface WaitOptions<R = ExtractResult> extends RequestOptions {
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
  /**
   * After every successful poll, the terminal one included (`nextDelayMs` is
   * then null). That poll's job carries a large result as the pointer: the
   * download comes after.
   */
  onProgress?(job: Job<R | LargeResultPointer>, info: ProgressInfo): void;
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

/**
 * A job as `GET /job/{jobId}` answers (pulse-ts-sdk: `JobStatusResponse`).
 * `R` is its result's type. Fields Pulse adds (a batch's per-item progress,
 * say) are kept, typed `unknown`.
 */
export interface Job<R = ExtractResult> {
  job_id: string;
  status: JobStatus | (string & {});
  /** When the job was accepted. */
  created_at: string;
  updated_at?: string;
  /** On `completed`, the result; on `expired`, Pulse's retention stub. */
  result?: R;
  /** Why the job failed, on `failed`. */
  error?: string;
  [field: string]: unknown;
}

/**
 * What a job's `result` is when the result is large (5 MB or 70 pages and
 * more): the link to download it from, used once (pulse-ts-sdk:
 * `ExtractLargeResultResponse`). `waitForJob` downloads it; `getJob` leaves it.
 */
export interface LargeResultPointer {
  is_url: true;
  url: string;
  extraction_id?: string;
  page_count?: number;
  plan_info?: PlanInfo;
  [field: string]: unknown;
}

/**
 * The result of an extraction (`/extract`), as Pulse's TypeScript SDK
 * (pulse-ts-sdk 1.0.16, generated from Pulse's API definition) declares it in
 * `ExtractResultCore`. Every field is optional, as there; fields it does not
 * declare are kept, typed `unknown`. Pages are counted in `page_count`; the
 * blocks of each page are the `bounding_boxes` entries, each with its
 * `page_number`.
 */
export interface ExtractResult {
  /** The document as markdown. */
  markdown?: string;
  /** Pages processed. */
  page_count?: number;
  /** The blocks found: text, titles, footers, images and tables. */
  bounding_boxes?: BoundingBoxes;
  /** Output of the extensions the request enabled, by name (`chunking`, `altOutputs`...). */
  extensions?: { [name: string]: unknown };
  /** The stored extraction's id, for `/split` and `/schema`; when storage is on (the default). */
  extraction_id?: string;
  /** The extraction on the Pulse platform; when storage is on. */
  extraction_url?: string;
  /** The organisation's billing tier and usage, this request included. */
  plan_info?: PlanInfo;
  /** Credits this request consumed; only when the organisation bills by credits. */
  credits_used?: number | null;
  /** Non-fatal warnings (deprecated inputs, processing limits). */
  warnings?: string[];
  /** Never set on a result: tells it apart from a `LargeResultPointer`. */
  is_url?: never;
  [field: string]: unknown;
}

/** The blocks of a document, by kind (pulse-ts-sdk: `BoundingBoxes`). */
export interface BoundingBoxes {
  Text?: BoundingBoxItem[];
  Title?: BoundingBoxItem[];
  Footer?: BoundingBoxItem[];
  Images?: BoundingBoxImage[];
  Tables?: BoundingBoxTable[];
  /** The markdown with `data-bb-*-id` attributes that name the blocks' ids. */
  markdown_with_ids?: string;
  [field: string]: unknown;
}

/** A text, title or footer block (pulse-ts-sdk: `BoundingBoxItem`). */
export interface BoundingBoxItem {
  /** Its id (`txt-1`, say), as `markdown_with_ids` names it. */
  id?: string;
  content?: string;
  /** From 1. */
  page_number?: number;
  /** The block's polygon on the page. */
  bounding_box?: number[];
  [field: string]: unknown;
}

/** A chart or image (pulse-ts-sdk: `BoundingBoxImage`). */
export interface BoundingBoxImage extends BoundingBoxItem {
  id: string;
  visual_type: "chart" | "image" | (string & {});
  /** When the request asked for images (`figure_processing.show_images`). */
  image_url?: string;
  /** When the request asked for descriptions (`figure_processing.description`). */
  description?: string;
}

/** A table (pulse-ts-sdk: `BoundingBoxTable`); `cell_data`'s shape varies, Pulse says to treat it as opaque. */
export interface BoundingBoxTable {
  table_info?: { id?: string; [field: string]: unknown };
  cell_data?: Record<string, unknown>[];
  [field: string]: unknown;
}

/** The organisation's billing tier and usage to date, this request included (pulse-ts-sdk: `PlanInfo`). */
export interface PlanInfo {
  /** "trial", "growth"... */
  tier?: string;
  total_credits_used?: number;
  /** Kept by Pulse for clients that predate credits. */
  pages_used?: number;
  note?: string;
  [field: string]: unknown;
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
  | "RESULT_DOWNLOAD_FAILED"
  | "WASM_UNAVAILABLE";
