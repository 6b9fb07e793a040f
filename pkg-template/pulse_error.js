/**
 * The one error class of pulse-jobs. The wasm core builds every error it
 * rejects with through this class (see `setErrorClass`), so `instanceof
 * PulseError` and `instanceof Error` hold for all of them.
 */
export class PulseError extends Error {
  /**
   * @param {string} message
   * @param {{ code: string, jobId?: string, httpStatus?: number, job?: unknown, retryable?: boolean, cause?: unknown }} details
   */
  constructor(message, details) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    // An abort looks like any other abort to code that checks `name`.
    this.name = details.code === "ABORTED" ? "AbortError" : "PulseError";
    this.code = details.code;
    this.retryable = Boolean(details.retryable);
    for (const key of ["jobId", "httpStatus", "job"]) {
      if (details[key] !== undefined) this[key] = details[key];
    }
  }
}
