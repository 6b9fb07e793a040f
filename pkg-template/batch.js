/**
 * `waitForJobs`: one wait per job id through a client's scheduler, settled
 * in input order as `PromiseSettledResult`s; it never rejects for a job's
 * failure. `start(ids, options)` is the core client's `waitForJobs`, which
 * checks the ids and options once (throwing INVALID_ARGUMENT) and starts the
 * waits. An exception thrown by `onJobSettled` rejects the call with it (the
 * other waits still run to their end).
 *
 * @param {(ids: unknown[], options: unknown) => Promise<unknown>[]} start
 * @param {typeof import("./pulse_error.js").PulseError} PulseError
 */
export async function settleAll(start, jobIds, options, PulseError) {
  const invalid = (message, cause) => new PulseError(message, { code: "INVALID_ARGUMENT", cause });
  let ids;
  let onJobSettled;
  try {
    ids = Array.isArray(jobIds) ? Array.from(jobIds) : jobIds;
  } catch (error) {
    throw invalid("jobIds could not be read", error);
  }
  try {
    onJobSettled = options?.onJobSettled;
  } catch (error) {
    throw invalid("options.onJobSettled could not be read", error);
  }
  if (onJobSettled != null && typeof onJobSettled !== "function") throw invalid("options.onJobSettled must be a function");
  const waits = await start(ids, options);
  return Promise.all(
    waits.map((wait, index) =>
      wait
        .then(
          (value) => ({ status: "fulfilled", value }),
          (reason) => ({ status: "rejected", reason }),
        )
        .then((result) => {
          onJobSettled?.(result, index);
          return result;
        }),
    ),
  );
}

/**
 * The top-level `waitForJobs`: its waits share a scheduler of their own, with
 * the call's `maxConcurrentRequests` and `maxRequestsPerSecond` (a client's
 * defaults otherwise), and nothing with other calls.
 *
 * @param {(options?: object) => any} newCore the wasm-bindgen client, or a promise of it while the wasm starts
 * @param {typeof import("./pulse_error.js").PulseError} PulseError
 */
export function callLocal(newCore, PulseError) {
  return async (jobIds, options) => {
    let caps;
    try {
      caps = { maxConcurrentRequests: options?.maxConcurrentRequests, maxRequestsPerSecond: options?.maxRequestsPerSecond };
    } catch (error) {
      throw new PulseError("options could not be read", { code: "INVALID_ARGUMENT", cause: error });
    }
    const local = await newCore(caps);
    try {
      return await settleAll((ids, o) => local.waitForJobs(ids, o), jobIds, options, PulseError);
    } finally {
      local.free();
    }
  };
}
