// Type-checked only: pulse-jobs beside Pulse's own SDK, whose `PulseClient`
// and `PulseError` have the same names (the README's example).
import { PulseClient as PulseApi, PulseError as PulseApiError } from "pulse-ts-sdk";
import { PulseClient as JobWaiter, PulseError as JobError } from "pulse-jobs";
import type { Job } from "pulse-jobs";

export async function extractAndWait(fileUrl: string): Promise<Job | string> {
  const api = new PulseApi({ apiKey: "key" });
  const waiter = new JobWaiter({ apiKey: "key" });
  try {
    const { job_id } = await api.extract({ file_url: fileUrl, async: true });
    if (!job_id) return "answered at once";
    return await waiter.waitForJob(job_id);
  } catch (error) {
    if (error instanceof JobError) return `wait: ${error.code}`;
    if (error instanceof PulseApiError) return `submit: ${error.statusCode ?? "?"}`;
    throw error;
  }
}

// The aliases keep the two apart: a pulse-jobs client has no `extract`, and
// an SDK error has no `code`.
// @ts-expect-error TS2339 a pulse-jobs client has no extract
new JobWaiter().extract;
// @ts-expect-error TS2339 an SDK error has no code
new PulseApiError().code;
