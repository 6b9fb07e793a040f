// What every reach fixture does with the package it installed, as a user
// would: three waits against the mock API (a quick job, a 6 MB result
// downloaded from its URL, and a failing job caught as a PulseError) and a
// read of the quick job, then a summary that reach.test.js compares with
// `expected`.
/** @param {{ waitForJob: Function, getJob: Function, PulseError: Function }} pulse @param {string} api @param {string} nonce */
export async function check({ waitForJob, getJob, PulseError }, api, nonce) {
  if (!api?.startsWith("http://127.0.0.1:")) throw new Error(`check: the mock's URL is required, got ${api}`);
  const options = { baseUrl: api, apiKey: "reach-key", initialDelayMs: 20, maxDelayMs: 100, timeoutMs: 30000 };
  const quick = await waitForJob(`steps_1-${nonce}`, options);
  const read = await getJob(`steps_1-${nonce}`, options);
  const large = await waitForJob(`large_6000000-${nonce}`, options);
  const failed = await waitForJob(`failed-${nonce}`, options).then(
    () => null,
    (error) => ({ isPulseError: error instanceof PulseError, isError: error instanceof Error, code: error.code }),
  );
  return {
    quick: quick.status,
    read: read.status,
    large: { status: large.status, markdownChars: large.result?.markdown?.length ?? null },
    failed,
  };
}

/** The summary of a run that worked. */
export const expected = (markdownChars) => ({
  quick: "completed",
  read: "completed",
  large: { status: "completed", markdownChars },
  failed: { isPulseError: true, isError: true, code: "JOB_FAILED" },
});
