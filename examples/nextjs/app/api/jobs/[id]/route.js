// GET /api/jobs/{id}: waits for the job on the server (Node runtime) and
// answers it, its large result already downloaded.
import { waitForJob } from "pulse-jobs";
import { jobResponse, pulseOptions } from "../../../../lib/pulse.js";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function GET(request, { params }) {
  const { id } = await params;
  // The client going away aborts the wait (request.signal).
  return jobResponse(waitForJob(id, { ...pulseOptions(), signal: request.signal, timeoutMs: 5 * 60_000 }));
}
