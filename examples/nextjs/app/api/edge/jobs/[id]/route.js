// GET /api/edge/jobs/{id}: the same wait on the edge runtime. pulse-jobs loads
// its wasm through the `edge-light` export condition: nothing to configure.
import { waitForJob } from "pulse-jobs";
import { jobResponse, pulseOptions } from "../../../../../lib/pulse.js";

export const runtime = "edge";
export const dynamic = "force-dynamic";

export async function GET(request, { params }) {
  const { id } = await params;
  // Edge functions have a short time limit: a TIMEOUT answers 504, and the caller asks again.
  return jobResponse(waitForJob(id, { ...pulseOptions(), signal: request.signal, timeoutMs: 25_000 }));
}
