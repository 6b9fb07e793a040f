// A Worker that waits for a Pulse job: GET /?job=<id> answers the finished
// job as JSON. The key is a secret binding (env.PULSE_API_KEY), the API's
// base URL a var (wrangler.json). pulse-jobs loads its wasm through the
// `workerd` export condition: nothing to configure.
//
// Put your own authentication in front of it: whoever can call it reads
// your account's jobs.
import { PulseError, waitForJob } from "pulse-jobs";

// An HTTP status for each way a wait can fail; other codes are a bad gateway.
const STATUS = { INVALID_ARGUMENT: 400, JOB_FAILED: 422, JOB_CANCELED: 409, JOB_EXPIRED: 410, TIMEOUT: 504 };

export default {
  async fetch(request, env) {
    const jobId = new URL(request.url).searchParams.get("job");
    if (!jobId) return Response.json({ error: "add ?job=<job id>" }, { status: 400 });
    try {
      const job = await waitForJob(jobId, {
        apiKey: env.PULSE_API_KEY,
        baseUrl: env.PULSE_BASE_URL,
        signal: request.signal, // the client went away: stop polling
        timeoutMs: 60_000, // then answer 504; the caller asks again
      });
      return Response.json(job);
    } catch (error) {
      if (!(error instanceof PulseError)) throw error;
      const { code, message, retryable } = error; // never holds the key
      return Response.json({ code, message, retryable }, { status: STATUS[code] ?? 502 });
    }
  },
};
