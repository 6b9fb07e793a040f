// What the route handlers share. The key comes from the server's environment
// (.env.local, or the host's settings) and never leaves the server.
import { PulseError } from "pulse-jobs";

/** Pulse settings, read per request (not at build time). PULSE_BASE_URL is optional. */
export function pulseOptions() {
  return { apiKey: process.env.PULSE_API_KEY, baseUrl: process.env.PULSE_BASE_URL };
}

// An HTTP status for each way a wait can fail; other codes are a bad gateway.
const STATUS = { INVALID_ARGUMENT: 400, JOB_FAILED: 422, JOB_CANCELED: 409, JOB_EXPIRED: 410, TIMEOUT: 504, ABORTED: 499 };

/** Answers the finished job, or the PulseError's code and message (they never hold the key). */
export async function jobResponse(wait) {
  try {
    return Response.json(await wait);
  } catch (error) {
    if (!(error instanceof PulseError)) throw error;
    const { code, message, retryable } = error;
    return Response.json({ code, message, retryable }, { status: STATUS[code] ?? 502 });
  }
}
