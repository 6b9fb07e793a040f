/**
 * The one error class of pulse-jobs. The wasm core builds every error it
 * rejects with through this class (see `coreError`), so `instanceof
 * PulseError` and `instanceof Error` hold for all of them.
 */
export class PulseError extends Error {
  /**
   * @param {string} message
   * @param {{ code: string, jobId?: string, httpStatus?: number, job?: unknown, retryable?: boolean, cause?: unknown, cancelConfirmed?: boolean, serverCode?: string, serverDetails?: unknown }} details
   */
  constructor(message, details) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    // An abort looks like any other abort to code that checks `name`.
    this.name = details.code === "ABORTED" ? "AbortError" : "PulseError";
    this.code = details.code;
    this.retryable = Boolean(details.retryable);
    // One named store each: a loop of keyed stores took V8 longer on an
    // abort's way to its rejection (docs/performance.md, "The aborts").
    const { jobId, httpStatus, job, cancelConfirmed, serverCode, serverDetails } = details;
    if (jobId !== undefined) this.jobId = jobId;
    if (httpStatus !== undefined) this.httpStatus = httpStatus;
    if (job !== undefined) this.job = job;
    if (cancelConfirmed !== undefined) this.cancelConfirmed = cancelConfirmed;
    if (serverCode !== undefined) this.serverCode = serverCode;
    if (serverDetails !== undefined) this.serverDetails = serverDetails;
  }
}

/**
 * Builds the errors the wasm core rejects with; the entry modules hand it to
 * the core (`setErrorFactory`). Such an error is made in a microtask, where
 * the stack holds only the wasm executor's frames, and V8 took about 25 µs to
 * capture them (a quarter of an abort's latency): they are left out, so `stack`
 * is the first line only. Where `Error.stackTraceLimit` is missing or frozen,
 * the error is built as usual.
 * @param {string} message
 * @param {ConstructorParameters<typeof PulseError>[1]} details
 */
export function coreError(message, details) {
  const limit = Error.stackTraceLimit;
  if (typeof limit !== "number" || !Reflect.set(Error, "stackTraceLimit", 0)) return new PulseError(message, details);
  try {
    return new PulseError(message, details);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
