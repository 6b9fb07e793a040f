// Node CommonJS consumer of pulse-jobs: waits for one job and prints one JSON line.
// Usage: PULSE_BASE_URL=... PULSE_JOB_ID=... [PULSE_API_KEY=...]
//        [PULSE_OPTIONS='{"initialDelayMs":20}'] [PULSE_ABORT_ON_SIGUSR2=1] node main.js
// With PULSE_ABORT_ON_SIGUSR2 the wait gets a signal that SIGUSR2 aborts (the
// test sends it once the mock has seen the request it wants to interrupt).
// The process must end on its own once the wait settles (docs/contract.md, "Behaviour").
"use strict";
const { waitForJob, PulseError } = require("pulse-jobs");

const env = process.env;
const options = { apiKey: env.PULSE_API_KEY, baseUrl: env.PULSE_BASE_URL, ...JSON.parse(env.PULSE_OPTIONS || "{}") };
if (env.PULSE_ABORT_ON_SIGUSR2) {
  const controller = new AbortController();
  process.once("SIGUSR2", () => controller.abort()); // a signal listener does not keep Node alive
  options.signal = controller.signal;
}

const isPlain = (v) => v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;

waitForJob(env.PULSE_JOB_ID, options).then(
  (job) => {
    const settledAt = Date.now();
    console.log(JSON.stringify({ ok: true, job, plain: isPlain(job) && isPlain(job.result), settledAt }));
  },
  (err) => {
    const settledAt = Date.now();
    console.log(
      JSON.stringify({
        ok: false,
        error: {
          name: err.name,
          code: err.code,
          message: err.message,
          retryable: err.retryable,
          isPulseError: err instanceof PulseError,
          isError: err instanceof Error,
        },
        settledAt,
      }),
    );
    process.exitCode = 3;
  },
);
